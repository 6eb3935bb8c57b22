"""kkmp-sheets: watch over Koperasi Desa/Kelurahan Merah Putih through their own spreadsheets."""

__version__ = "0.1.0"

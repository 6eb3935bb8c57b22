"""Local cooperative workbooks: reading .xlsx files and the safe Hasil Pemeriksaan patch."""

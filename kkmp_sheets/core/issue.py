"""A problem found in a cooperative's data: bad data is data, not an exception.

Every problem has a stable slug `code` (tests, the history store and digests key on it), a
severity, the place the user sees (tab, the sheet row number, the column header as typed), the
value as typed, and a message plus a fix in plain Indonesian for someone who is not a bookkeeper.

The wording lives in `CATALOG`, one entry per code, so the same problem always reads the same.
A code that is not in it is refused when the `Issue` is made (`ValueError`), so a typo fails where
it was written, not later when a tab or a digest renders the message.
Messages never contain the value itself: the value travels in its own field and is masked by
`Issue.public_value` for anything that leaves the cooperative's workbook.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    GALAT = "Galat"  # certainly wrong, or a figure cannot use it
    PERINGATAN = "Peringatan"  # usable but doubtful or incomplete


@dataclass(frozen=True)
class Entry:
    severity: Severity
    message: str  # may use {column}, {tab}, {expected}, {detail}
    fix: str


G, P = Severity.GALAT, Severity.PERINGATAN

CATALOG: dict[str, Entry] = {
    # --- the workbook as a whole
    "workbook-unreadable": Entry(
        G,
        "Berkas spreadsheet tidak bisa dibuka: {detail}.",
        "Pastikan berkas adalah spreadsheet (.xlsx) yang utuh; buka dan simpan ulang, "
        "atau hubungi penanggung jawab di dinas.",
    ),
    "workbook-too-large": Entry(
        G,
        "Berkas spreadsheet terlalu besar untuk diperiksa: {detail}. Berkas tidak dibaca.",
        "Hapus baris dan kolom kosong di bawah dan di kanan tabel, pindahkan data tahun lama ke "
        "berkas arsip, lalu simpan ulang sebagai .xlsx. Bila berkasnya tidak sebesar itu, "
        "berkas mungkin rusak: pulihkan dari salinan terakhir atau hubungi penanggung jawab di "
        "dinas.",
    ),
    "workbook-read-stopped": Entry(
        G,
        "Pembacaan berkas spreadsheet dihentikan karena berkas terlalu besar atau rusak "
        "({detail}).",
        "Buka berkas di Excel atau Google Spreadsheet, hapus baris dan kolom kosong yang "
        "berlebihan, lalu simpan ulang sebagai .xlsx. Bila tidak bisa dibuka, pulihkan dari "
        "salinan terakhir atau hubungi penanggung jawab di dinas.",
    ),
    "workbook-missing": Entry(
        G,
        "Berkas spreadsheet tidak ditemukan.",
        "Periksa kolom Spreadsheet di daftar KKMP: nama atau letak berkas mungkin berubah.",
    ),
    "workbook-no-access": Entry(
        G,
        "Spreadsheet tidak bisa dibaca oleh layanan: {detail}.",
        "Bagikan spreadsheet ke akun layanan {expected} sebagai Editor (Bagikan > tambahkan "
        "alamat itu > Editor), agar layanan bisa membaca data dan menulis tab Hasil Pemeriksaan.",
    ),
    "workbook-not-native": Entry(
        G,
        "Berkas di Google Drive masih berformat Excel (.xlsx), bukan Google Spreadsheet.",
        "Buka berkas lalu pilih File > Simpan sebagai Google Spreadsheet, dan catat tautan "
        "yang baru di daftar KKMP.",
    ),
    "workbook-unavailable": Entry(
        G,
        "Spreadsheet tidak bisa dibaca saat ini: {detail}.",
        "Tidak perlu tindakan: layanan mencoba lagi pada pemeriksaan berikutnya. Bila berulang "
        "beberapa hari, hubungi petugas IT dinas.",
    ),
    "workbook-outside-root": Entry(
        G,
        "Letak berkas di kolom Spreadsheet daftar KKMP menunjuk ke luar folder yang diizinkan "
        "({expected}); layanan tidak membaca atau menulis berkas itu. Pindahkan berkas ke dalam "
        "folder itu dan tulis letaknya relatif.",
        "Pindahkan berkas ke dalam folder {expected} dan tulis letaknya di kolom Spreadsheet "
        "relatif terhadap folder daftar KKMP (misalnya koperasi/KKMP-001.xlsx), tanpa '..' dan "
        "tanpa pintasan (symlink) ke folder lain.",
    ),
    # --- the service's own write of Hasil Pemeriksaan (a Peringatan: the data itself is fine)
    "feedback-read-only": Entry(
        P,
        "Tab Hasil Pemeriksaan tidak bisa ditulis: berkas hanya-baca (read-only).",
        "Izinkan penulisan berkas: buka Properti berkas, hilangkan centang Read-only "
        "(hanya-baca), atau minta petugas IT memberi izin tulis kepada layanan. Layanan menulis "
        "lagi pada pemeriksaan berikutnya.",
    ),
    "feedback-open-elsewhere": Entry(
        P,
        "Tab Hasil Pemeriksaan tidak bisa ditulis: berkas sedang dibuka di Excel atau LibreOffice.",
        "Tutup berkas di komputer lain (Excel atau LibreOffice); layanan menulis lagi pada "
        "pemeriksaan berikutnya. Bila tidak ada yang membukanya, hapus berkas kunci "
        "(~$nama.xlsx atau .~lock.nama.xlsx#) di folder yang sama.",
    ),
    "feedback-changed": Entry(
        P,
        "Tab Hasil Pemeriksaan belum ditulis: berkas disimpan pengurus saat layanan "
        "memperbaruinya.",
        "Tidak perlu tindakan: simpanan pengurus tetap utuh, dan layanan menulis lagi pada "
        "pemeriksaan berikutnya.",
    ),
    "feedback-not-written": Entry(
        P,
        "Tab Hasil Pemeriksaan tidak bisa ditulis ke berkas.",
        "Tutup berkas di komputer lain dan pastikan berkas bisa disimpan (tidak hanya-baca, "
        "disk tidak penuh); layanan menulis lagi pada pemeriksaan berikutnya. Bila berulang "
        "beberapa hari, hubungi petugas IT dinas.",
    ),
    "workbook-no-tabs": Entry(
        G,
        "Tidak ada satu pun tab yang dikenali (Profil, Anggota, Simpanan, Stok, Penjualan).",
        "Gunakan templat KKMP: beri nama tab sesuai templat, atau minta templat baru ke dinas.",
    ),
    "tab-missing": Entry(
        G,
        "Tab {tab} tidak ditemukan.",
        "Tambahkan tab bernama {tab} sesuai templat (nama tab boleh huruf besar/kecil).",
    ),
    "header-not-found": Entry(
        G,
        "Baris judul kolom tab {tab} tidak ditemukan di 6 baris pertama.",
        "Letakkan judul kolom ({expected}) di salah satu dari 6 baris teratas.",
    ),
    "column-missing": Entry(
        G,
        "Kolom wajib {column} tidak ada di tab {tab}.",
        "Tambahkan kolom dengan judul {column} di baris judul tab {tab}.",
    ),
    "column-duplicate": Entry(
        P,
        "Kolom {column} muncul lebih dari sekali; hanya kolom pertama yang dibaca.",
        "Hapus atau ganti nama kolom yang dobel.",
    ),
    "tab-too-large": Entry(
        P,
        "Tab {tab} sangat besar ({detail} baris); pemeriksaan bisa lambat.",
        "Pindahkan data lama (tahun sebelumnya) ke spreadsheet arsip.",
    ),
    # --- cells
    "required-missing": Entry(
        G,
        "{column} wajib diisi tetapi kosong.",
        "Isi kolom {column} pada baris ini.",
    ),
    "value-unreadable": Entry(
        G,
        "Isi {column} tidak bisa dibaca sebagai {expected}.",
        "Tulis {column} seperti contoh: {detail}.",
    ),
    "choice-unknown": Entry(
        G,
        "Isi {column} tidak termasuk pilihan yang dikenal.",
        "Pilih salah satu: {expected}.",
    ),
    "negative-value": Entry(
        G,
        "{column} bernilai negatif.",
        "Tulis angka positif; untuk koreksi, perbaiki baris aslinya.",
    ),
    "future-date": Entry(
        G,
        "Tanggal di kolom {column} ada di masa depan (setelah {detail}).",
        "Periksa tahun dan bulan; gunakan format 17/08/2025.",
    ),
    "date-before-start": Entry(
        P,
        "Tanggal di kolom {column} terlalu lama ({detail}).",
        "Periksa tahun; gunakan format 17/08/2025.",
    ),
    "missing-optional": Entry(
        P,
        "{column} kosong, padahal dipakai untuk menghitung {detail}.",
        "Isi kolom {column} agar angka {detail} lengkap.",
    ),
    "formula-error": Entry(
        G,
        "Rumus di kolom {column} menghasilkan galat ({detail}).",
        "Perbaiki rumusnya atau ketik nilainya langsung.",
    ),
    # --- identity numbers
    "nik-as-number": Entry(
        G,
        "NIK tersimpan sebagai angka, sehingga digit terakhir bisa berubah.",
        "Format kolom NIK sebagai Teks (Format > Angka > Teks biasa), lalu ketik ulang NIK.",
    ),
    "nik-length": Entry(
        G,
        "NIK harus 16 digit, yang tertulis {detail} digit.",
        "Salin NIK persis dari KTP (16 digit angka, tanpa spasi atau titik).",
    ),
    "nik-birthdate": Entry(
        G,
        "Tanggal lahir di dalam NIK (digit 7-12) tidak mungkin.",
        "Periksa kembali NIK dari KTP; digit 7-12 adalah tanggal lahir (perempuan +40).",
    ),
    "nik-region-unknown": Entry(
        G,
        "Kode kecamatan di awal NIK (6 digit pertama) tidak ada dalam daftar Kemendagri.",
        "Periksa kembali 6 digit pertama NIK dari KTP.",
    ),
    "nik-outside-city": Entry(
        P,
        "NIK terdaftar di luar {detail}.",
        "Tidak perlu diubah bila benar; pastikan anggota berdomisili di kelurahan ini.",
    ),
    "nik-duplicate": Entry(
        G,
        "NIK yang sama tercatat lebih dari sekali di tab Anggota (juga di baris {detail}).",
        "Satu orang hanya boleh satu nomor anggota: hapus atau gabungkan baris yang dobel.",
    ),
    "nik-elsewhere": Entry(
        P,
        "NIK ini juga terdaftar di koperasi lain.",
        "Pastikan orang ini memang anggota koperasi ini; satu orang sebaiknya anggota satu KKMP.",
    ),
    "member-id-duplicate": Entry(
        G,
        "No Anggota ini dipakai lebih dari sekali (juga di baris {detail}).",
        "Beri setiap anggota nomor yang berbeda.",
    ),
    "registry-id-duplicate": Entry(
        G,
        "ID KKMP ini dipakai lebih dari sekali di daftar (juga di baris {detail}).",
        "Beri setiap koperasi ID yang berbeda di daftar KKMP.",
    ),
    "member-unknown": Entry(
        P,
        "No Anggota ini tidak ada di tab Anggota.",
        "Tambahkan anggotanya di tab Anggota, atau perbaiki No Anggota.",
    ),
    "member-left-before-join": Entry(
        P,
        "Tanggal Keluar lebih awal dari Tanggal Masuk.",
        "Periksa kedua tanggal tersebut.",
    ),
    "item-unknown": Entry(
        P,
        "Kode Barang ini tidak ada di tab Stok.",
        "Tambahkan barangnya di tab Stok, atau perbaiki Kode Barang.",
    ),
    "item-code-duplicate": Entry(
        P,
        "Kode Barang ini muncul lebih dari sekali di tab Stok (juga di baris {detail}).",
        "Gabungkan stoknya di satu baris, atau beri kode yang berbeda.",
    ),
    "total-mismatch": Entry(
        P,
        "Total tidak sama dengan Jumlah × Harga Satuan (selisih {detail}).",
        "Periksa Jumlah, Harga Satuan dan Total; Total = Jumlah × Harga Satuan.",
    ),
    "sale-price-below-cost": Entry(
        P,
        "Harga Jual lebih rendah dari Harga Beli.",
        "Periksa kedua harga; bila memang dijual rugi, abaikan peringatan ini.",
    ),
    # --- Profil
    "nib-format": Entry(
        G,
        "NIB harus 13 digit angka.",
        "Salin NIB dari dokumen OSS (13 digit).",
    ),
    "npwp-format": Entry(
        G,
        "NPWP harus 16 digit (atau 15 digit format lama).",
        "Salin NPWP dari kartu/dokumen NPWP koperasi.",
    ),
    "npwp-15-digit": Entry(
        P,
        "NPWP masih 15 digit (format lama).",
        "Perbarui ke NPWP 16 digit (NIK badan) dari DJP.",
    ),
    "sk-ahu-format": Entry(
        G,
        "Nomor SK AHU tidak sesuai format (contoh: AHU-0001234.AH.01.29.TAHUN 2025).",
        "Salin nomor SK persis dari SK pengesahan Kemenkumham.",
    ),
    "kode-wilayah-format": Entry(
        G,
        "Kode Wilayah harus 10 digit Kemendagri (contoh 31.73.01.1001).",
        "Salin kode dari daftar Kemendagri untuk kelurahan/desa ini.",
    ),
    "kode-wilayah-unknown": Entry(
        G,
        "Kode Wilayah tidak ada dalam daftar Kemendagri.",
        "Periksa kembali kode kelurahan/desa (10 digit).",
    ),
    "kode-wilayah-mismatch": Entry(
        P,
        "Kode Wilayah di Profil berbeda dengan daftar KKMP dinas ({detail}).",
        "Samakan Kode Wilayah dengan kode kelurahan koperasi ini.",
    ),
    "phone-format": Entry(
        P,
        "Nomor telepon tidak dikenali.",
        "Tulis nomor seperti 0812-3456-7890 atau +62 812 3456 7890.",
    ),
    "email-format": Entry(
        P,
        "Alamat email tidak dikenali.",
        "Tulis alamat seperti nama@contoh.id.",
    ),
    "latlong-format": Entry(
        P,
        "Titik Lokasi tidak bisa dibaca.",
        "Tulis lintang, bujur seperti -6.1680, 106.7589 (salin dari Google Maps), atau "
        "derajat-menit-detik dengan hurufnya seperti 6°10'12\"S 106°45'30\"E.",
    ),
    "latlong-short-link": Entry(
        P,
        "Titik Lokasi berupa tautan pendek Google Maps; letaknya tidak bisa dibaca dari tautan "
        "itu.",
        "Buka tautan itu di Google Maps, tekan lama titiknya, salin angka lintang, bujur yang "
        "muncul (seperti -6.1680, 106.7589) dan tempel di Titik Lokasi.",
    ),
    "latlong-swapped": Entry(
        P,
        "Titik Lokasi tertulis bujur dulu, lalu lintang; dibaca sebagai {detail}.",
        "Tulis lintang dulu, lalu bujur: {detail}.",
    ),
    "latlong-outside-area": Entry(
        P,
        "Titik Lokasi berada di luar wilayah kota: {detail}.",
        "Periksa tanda minus dan urutan lintang, bujur, atau salin ulang titik koperasi dari "
        "Google Maps (seperti -6.1680, 106.7589).",
    ),
    "profil-field-missing": Entry(
        P,
        "{column} belum diisi di Profil.",
        "Lengkapi {column} di tab Profil.",
    ),
    "bank-account-incomplete": Entry(
        P,
        "Nama Bank atau Nomor Rekening belum lengkap.",
        "Isi Nama Bank dan Nomor Rekening koperasi di tab Profil.",
    ),
    # --- protection against mistakes (protection.py)
    "likely-deletion": Entry(
        G,
        "{column} turun tajam: {detail}. Kemungkinan banyak baris terhapus tanpa sengaja; "
        "laporan dinas tetap memakai angka terakhir yang baik.",
        "Bila terhapus tanpa sengaja, kembalikan barisnya di tab {tab} (petugas dinas dapat "
        "memulihkannya dari salinan: kkmp-sheets restore). Bila memang benar berkurang, minta "
        "petugas dinas mengonfirmasi (kkmp-sheets confirm) agar angka baru dipakai.",
    ),
}


# `__init__` is written out below: a frozen dataclass's own sets each of the eleven fields with
# a separate `object.__setattr__` call, and a large messy tab makes a hundred thousand issues.
@dataclass(frozen=True, init=False)
class Issue:
    code: str
    tab: str = ""  # the tab name as the user sees it ("" = the whole workbook)
    row: int | None = None  # the sheet row number the user sees (1-based)
    column: str = ""  # the column header (or Profil label) as typed
    value: Any = None  # the value as typed; see public_value
    personal: bool = False  # the value is personal data (NIK, name, phone, a member's savings)
    expected: str = ""
    detail: str = ""
    severity_override: Severity | None = None
    # Acknowledgement (see `core/acknowledge.py`): `key` is the opaque mark that identifies this
    # problem in Hasil Pemeriksaan whatever row it moves to (the record, code, tab, column and
    # value); `ticked` means staff marked that row "Sudah Dicek".
    key: str = ""
    ticked: bool = False

    def __init__(
        self,
        code: str,
        tab: str = "",
        row: int | None = None,
        column: str = "",
        value: Any = None,
        personal: bool = False,
        expected: str = "",
        detail: str = "",
        severity_override: Severity | None = None,
        key: str = "",
        ticked: bool = False,
    ) -> None:
        if code not in CATALOG:
            require_code(code)
        # The fields in one assignment, in the order the dataclass declares them.
        object.__setattr__(
            self,
            "__dict__",
            {
                "code": code,
                "tab": tab,
                "row": row,
                "column": column,
                "value": value,
                "personal": personal,
                "expected": expected,
                "detail": detail,
                "severity_override": severity_override,
                "key": key,
                "ticked": ticked,
            },
        )

    def at_row(self, row: int | None) -> Issue:
        """This issue at another row: the same problem met again with the same value. A copy of
        the fields, without the checks and the keyword handling of `__init__` (a messy tab meets
        the same bad value tens of thousands of times)."""
        moved = object.__new__(Issue)
        object.__setattr__(moved, "__dict__", {**self.__dict__, "row": row})
        return moved

    @property
    def entry(self) -> Entry:
        return CATALOG[self.code]

    @property
    def severity(self) -> Severity:
        return self.severity_override or self.entry.severity

    def _fill(self, text: str) -> str:
        return text.format(
            column=self.column or "nilai",
            tab=self.tab,
            expected=self.expected,
            detail=self.detail,
        )

    @property
    def acknowledged(self) -> bool:
        """A Peringatan staff checked and found correct: still shown in their own Hasil
        Pemeriksaan, no longer counted anywhere. A Galat cannot be acknowledged."""
        return self.ticked and self.severity is Severity.PERINGATAN

    @property
    def message(self) -> str:
        return self._fill(self.entry.message)

    @property
    def fix(self) -> str:
        return self._fill(self.entry.fix)

    @property
    def shown_value(self) -> str:
        """The value for the cooperative's own Hasil Pemeriksaan (its own data, unmasked)."""
        return display_value(self.value)

    @property
    def public_value(self) -> str:
        """The value for anything that leaves the cooperative's workbook: masked when personal."""
        if not self.personal:
            return display_value(self.value)
        return mask_personal(self.value)


def require_code(code: str) -> str:
    """`code` when `CATALOG` has it; otherwise a `ValueError` that says what to do."""
    if code not in CATALOG:
        close = difflib.get_close_matches(str(code), CATALOG, n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise ValueError(
            f"unknown issue code {code!r}{hint}: use a code of kkmp_sheets.core.issue.CATALOG, "
            "or add an entry there with its message and fix"
        )
    return code


def display_value(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e17:
        return str(int(value))
    return str(value)


def mask_personal(value: Any) -> str:
    """`3173********0001` for a NIK-like value, `•••` for any other personal value."""
    text = display_value(value).strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 12 and len(digits) >= len(text.replace(" ", "")) - 2:
        return digits[:4] + "*" * (len(digits) - 8) + digits[-4:]
    return "•••" if text else ""

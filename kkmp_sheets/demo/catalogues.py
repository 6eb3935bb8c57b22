"""Catalogues for the demo city: names, goods, banks, and how people type values.

Everything here is synthetic or public knowledge: common Indonesian given and family names
(combined at random, never a real person's record), retail goods with typical 2025–2026 Jakarta
prices (HET/HAP where one exists), Himbara banks and the usual ways of typing a date or an amount
that PRODUCT.md lists.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from kkmp_sheets.core.formats import compose_nik

# --- members' names. Members always get two or three words, so that a privacy test scanning an
# output for a member's name looks for something specific.
GIVEN_MALE = (
    "Ahmad", "Muhammad", "Budi", "Agus", "Andi", "Dedi", "Eko", "Hendri", "Joko", "Rudi",
    "Slamet", "Bambang", "Rahmat", "Fajar", "Rizky", "Dimas", "Yusuf", "Imron", "Hasan", "Arif",
    "Wahyu", "Teguh", "Heri", "Iwan", "Supriyadi", "Sutrisno", "Suparman", "Darmawan", "Aditya",
    "Reza", "Bayu", "Fadli", "Hadi", "Ilham", "Junaedi", "Mukhlis", "Nanang", "Rohmat", "Sapri",
    "Ujang", "Asep", "Dadang", "Yayan", "Ridwan", "Hamdan", "Sofyan", "Tohir", "Zainal", "Rian",
)  # fmt: skip
GIVEN_FEMALE = (
    "Siti", "Sri", "Dewi", "Nur", "Rina", "Wati", "Yuni", "Fitri", "Ani", "Ratna", "Indah",
    "Puji", "Ayu", "Nurhayati", "Sulastri", "Kartini", "Aminah", "Maryam", "Rohani", "Mega",
    "Novi", "Lina", "Eka", "Tuti", "Yanti", "Euis", "Neneng", "Imas", "Ida", "Mariam", "Aisyah",
    "Fatimah", "Khadijah", "Laila", "Nisa", "Rahma", "Salsabila", "Tri", "Wulan", "Yeni", "Desi",
    "Erna", "Heni", "Lilis", "Mimin", "Nining", "Rosita", "Umi",
)  # fmt: skip
FAMILY = (
    "Santoso", "Wijaya", "Saputra", "Pratama", "Hidayat", "Setiawan", "Kurniawan", "Nasution",
    "Siregar", "Simanjuntak", "Lubis", "Harahap", "Susanto", "Hakim", "Maulana", "Ramadhan",
    "Firmansyah", "Syahputra", "Suryadi", "Sulaiman", "Hasibuan", "Sitompul", "Tambunan", "Pane",
    "Effendi", "Rachman", "Hamid", "Sembiring", "Ginting", "Manurung", "Munthe", "Purba",
    "Panjaitan", "Sinaga", "Yulianto", "Prasetyo", "Nugroho", "Wibowo", "Sudirja", "Iskandar",
    "Mahmud", "Syarif", "Abdullah", "Sutanto", "Halim", "Kusuma", "Ismail", "Fauzi",
)  # fmt: skip
FAMILY_FEMALE = (
    "Rahayu", "Handayani", "Wulandari", "Puspitasari", "Anggraini", "Kusumawati", "Utari",
    "Susanti", "Marlina", "Yulianti", "Damayanti", "Novitasari", "Fitriani", "Safitri",
    "Ningsih", "Suryani", "Komalasari", "Hasanah", "Maulida", "Aprilia",
)  # fmt: skip

# --- names of pengurus (Nama Ketua) and office staff: pools disjoint from the members' pools,
# so an official's name shown in an output can never be mistaken for a member's.
OFFICIAL_GIVEN = (
    "Arya", "Bagus", "Candra", "Danang", "Erwin", "Galih", "Haryo", "Indra", "Lukman", "Mahesa",
    "Oktaviani", "Pramesti", "Rani", "Sekar", "Tantri", "Utami", "Vina", "Yoga", "Gita", "Kirana",
)  # fmt: skip
OFFICIAL_FAMILY = (
    "Adiwijaya", "Basuki", "Cahyadi", "Darmadi", "Fauzan", "Hermawan", "Kusnadi", "Leksono",
    "Mardani", "Nirwana", "Pranoto", "Rasyid", "Sudrajat", "Tirtayasa", "Utomo", "Wiranata",
    "Yudistira", "Zulkarnain", "Anwar", "Baskoro",
)  # fmt: skip

# Provinces people commonly move from (NIK prefixes "from elsewhere").
ORIGIN_PROVINCES = ("31", "32", "33", "34", "35", "36", "12", "13", "18", "73")


@dataclass(frozen=True)
class Good:
    key: str  # stable internal key (also one of the Kode Barang schemes)
    nama: str
    kategori: str  # a template.KATEGORI_BARANG value
    satuan: str
    beli: int  # Harga Beli (Rp), typical purchase price
    jual: int  # Harga Jual (Rp); HET/HAP where the government sets one
    pemasok: tuple[str, ...]
    stok: tuple[int, int]  # a plausible stock on hand
    eceran: tuple[int, int]  # a household buys this many
    grosir: tuple[int, int] = (0, 0)  # an SPPG kitchen or a mitra warung buys this many
    konsinyasi: bool = False


# fmt: off
GOODS = (
    Good("SPHP5", "Beras SPHP 5 kg", "Beras", "pak", 55000, 62500, ("Bulog",), (40, 250), (1, 2), (10, 40)),
    Good("BRSP5", "Beras premium 5 kg", "Beras", "karung", 68000, 74500, ("ID FOOD", "distributor lokal"), (20, 120), (1, 2), (5, 20)),
    Good("BRSM5", "Beras medium 5 kg", "Beras", "karung", 62000, 67500, ("Bulog", "distributor lokal"), (20, 120), (1, 2), (5, 20)),
    Good("MKT1", "Minyakita 1 L", "Minyak Goreng", "pouch", 14500, 15700, ("ID FOOD", "Bulog", "distributor lokal"), (48, 300), (1, 3), (12, 48)),
    Good("MGP2", "Minyak goreng premium 2 L", "Minyak Goreng", "pouch", 36000, 39500, ("distributor lokal",), (12, 60), (1, 2)),
    Good("GUL1", "Gula pasir 1 kg", "Gula", "kg", 16000, 17500, ("ID FOOD", "Bulog"), (30, 200), (1, 3), (10, 30)),
    Good("TLR", "Telur ayam ras", "Telur", "kg", 27000, 30000, ("peternak lokal", "ID FOOD", "distributor lokal"), (15, 80), (1, 2), (10, 40)),
    Good("TPG1", "Tepung terigu 1 kg", "Tepung", "kg", 11500, 13000, ("distributor lokal", "ID FOOD"), (20, 100), (1, 2), (5, 20)),
    Good("LPG3", "LPG 3 kg", "LPG", "tabung", 16500, 19000, ("Agen Pertamina",), (10, 56), (1, 2), (5, 10)),
    Good("MIEG", "Mie instan goreng", "Lainnya", "bks", 2900, 3500, ("distributor lokal",), (80, 400), (2, 10)),
    Good("MIEK", "Mie instan kuah", "Lainnya", "bks", 2700, 3300, ("distributor lokal",), (80, 400), (2, 10)),
    Good("KCP", "Kecap manis 520 ml", "Lainnya", "pouch", 19500, 22000, ("distributor lokal",), (12, 48), (1, 1)),
    Good("GRM", "Garam beryodium 250 g", "Lainnya", "bks", 2500, 3000, ("distributor lokal",), (24, 120), (1, 2)),
    Good("SKM", "Susu kental manis 370 g", "Lainnya", "kaleng", 11000, 12500, ("distributor lokal",), (24, 96), (1, 2)),
    Good("TEH", "Teh celup isi 25", "Lainnya", "kotak", 5500, 6500, ("distributor lokal",), (12, 60), (1, 2)),
    Good("KOPI", "Kopi sachet renceng isi 10", "Lainnya", "renceng", 13000, 15000, ("distributor lokal",), (12, 60), (1, 2)),
    Good("BWM", "Bawang merah", "Lainnya", "kg", 36000, 42000, ("petani lokal", "distributor lokal"), (5, 30), (1, 1)),
    Good("BWP", "Bawang putih", "Lainnya", "kg", 34000, 40000, ("distributor lokal",), (5, 30), (1, 1)),
    Good("KRP", "Keripik singkong UMKM", "Lainnya", "bks", 8000, 10000, ("UMKM kelurahan",), (10, 40), (1, 3), konsinyasi=True),
    Good("SMB", "Sambal botol UMKM", "Lainnya", "botol", 15000, 20000, ("UMKM kelurahan",), (6, 24), (1, 1), konsinyasi=True),
)
BUTIR_PER_KG = 16  # eggs per kg, as `[pasokan] telur_butir_per_kg` assumes by default
CORE_GOODS = ("SPHP5", "MKT1", "GUL1", "TLR", "LPG3")  # what almost every gerai sells
UNSTOCKED = Good("SBN", "Sabun cuci piring", "Lainnya", "pouch", 4000, 5000, ("distributor lokal",), (0, 0), (1, 2))
# fmt: on

# fmt: off
# Himbara banks (the PMK 49/2025 financing channel) and the regional bank, with account lengths.
BANKS = (("BRI", 15), ("Bank Mandiri", 13), ("BNI", 10), ("BSI", 10))
REGIONAL_BANK = {"31": ("Bank DKI", 10), "32": ("bank bjb", 13), "36": ("Bank Banten", 10)}
MITRA = ("ID FOOD", "peternak lokal", "Agen Pertamina", "UMKM kelurahan")  # besides Bulog, SPPG
MORE_UNITS = (("Simpan Pinjam", 0.4), ("Klinik", 0.1), ("Apotek", 0.1),
              ("Gudang/Cold Storage", 0.2), ("Logistik", 0.15))  # beyond office and gerai
STREETS = ("Jl. Raya", "Jl. Masjid", "Jl. Kenanga", "Jl. Melati", "Jl. Mawar", "Jl. Pendidikan",
           "Jl. Swadaya", "Jl. Pasar")
KETERANGAN = ("Tunai", "Transfer", "Setor di gerai", "Titip bendahara", "Lunas")
CATATAN = ("Pengurus", "Pendiri", "Pindah RT", "Belum ambil kartu", "Pengawas")
# Rough centre and spread of a city or province (Titik Lokasi); elsewhere it is left empty.
COORDS = {"31.73": (-6.165, 106.76, 0.05), "31": (-6.2, 106.83, 0.08), "32": (-6.9, 107.6, 0.5),
          "33": (-7.2, 110.2, 0.5), "35": (-7.6, 112.5, 0.6), "36": (-6.3, 106.2, 0.3)}
BULAN = ("Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
         "Oktober", "November", "Desember")
BULAN_SINGKAT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
# fmt: on

# How a cooperative types dates and amounts (one habit per workbook), with how common it is.
DATE_STYLES = (("cell", 45), ("slash", 20), ("dash", 8), ("long", 10), ("short", 5), ("iso", 12))
MONEY_STYLES = (("number", 60), ("rp", 12), ("dots", 12), ("mixed", 16))


def fmt_date(d: date, style: str) -> date | str:
    """A date as this cooperative types it (a date cell for "cell")."""
    if style == "cell":
        return d
    if style == "slash":
        return f"{d.day:02d}/{d.month:02d}/{d.year}"
    if style == "dash":
        return f"{d.day:02d}-{d.month:02d}-{d.year}"
    if style == "long":
        return f"{d.day} {BULAN[d.month - 1]} {d.year}"
    if style == "short":
        return f"{d.day} {BULAN_SINGKAT[d.month - 1]} {d.year}"
    return d.isoformat()


def impossible_date(year: int, style: str) -> str:
    """31 February, typed in this cooperative's habit (a date cell cannot hold it: text)."""
    return {
        "dash": f"31-02-{year}",
        "long": f"31 Februari {year}",
        "short": f"31 Feb {year}",
        "iso": f"{year}-02-31",
    }.get(style, f"31/02/{year}")


def rupiah(amount: int) -> str:
    """`1.250.000`: dots group thousands."""
    return f"{amount:,}".replace(",", ".")


def fmt_money(amount: int, style: str, rng: random.Random) -> int | str:
    """An amount as this cooperative types it; only forms PRODUCT.md lists."""
    if style == "number":
        return amount
    if style == "rp":
        return f"Rp {rupiah(amount)}"
    if style == "dots":
        return rupiah(amount)
    roll = rng.random()  # "mixed": mostly numbers, now and then a hand-typed form
    if roll < 0.85:
        return amount
    if amount >= 1_000_000 and amount % 500_000 == 0:
        millions = f"{amount / 1_000_000:g}".replace(".", ",")
        return f"{millions} juta" if roll < 0.93 else f"{millions} jt"
    if amount % 1000 == 0 and roll < 0.93:
        return f"{amount // 1000}rb"
    return f"{rupiah(amount)},-" if roll < 0.97 else f"Rp{rupiah(amount)}"


def phone(rng: random.Random) -> str:
    """An Indonesian mobile number, typed one of the usual ways."""
    prefix = rng.choice(("0812", "0813", "0821", "0852", "0857", "0856", "0817", "0878", "0896"))
    rest = f"{rng.randrange(10**8):08d}"
    form = rng.random()
    if form < 0.5:
        return f"{prefix}{rest}"
    if form < 0.85:
        return f"{prefix}-{rest[:4]}-{rest[4:]}"
    return f"+62 {prefix[1:]} {rest[:4]} {rest[4:]}"


# --- people


def person_name(rng: random.Random, female: bool) -> str:
    """Two or three words: a given name, sometimes a second one, and a family name."""
    given = GIVEN_FEMALE if female else GIVEN_MALE
    first = rng.choice(given)
    family = rng.choice(FAMILY_FEMALE if female and rng.random() < 0.35 else FAMILY)
    middle = rng.choice(given) if rng.random() < 0.18 else first
    return f"{first} {family}" if middle == first else f"{first} {middle} {family}"


def nik(rng: random.Random, kecamatan: str, female: bool, as_of: date) -> str:
    """A well-formed, random NIK: 6-digit kecamatan, birth date DDMMYY (+40 for women), serial."""
    born = date(as_of.year - rng.randint(19, 70), rng.randint(1, 12), rng.randint(1, 28))
    serial = rng.randint(1, 2500) if rng.random() < 0.8 else rng.randint(2501, 9999)
    return compose_nik(kecamatan, born, female=female, serial=serial)


def official_names() -> list[tuple[str, str]]:
    return [(g, f) for g in OFFICIAL_GIVEN for f in OFFICIAL_FAMILY]


# --- the cooperative's papers (Profil)


def digits(rng: random.Random, n: int) -> str:
    """n random digits, the first not 0."""
    return f"{rng.randint(1, 9)}{rng.randrange(10 ** (n - 1)):0{n - 1}d}"


def sk_ahu(rng: random.Random, year: int) -> str:
    return f"AHU-{rng.randint(1, 99_999):07d}.AH.01.29.TAHUN {year}"


def npwp(rng: random.Random) -> str:
    """The 16-digit NPWP of an organisation: 0 and the old 15 digits."""
    return f"0{rng.randrange(10**15):015d}"


def bank_account(rng: random.Random, province: str) -> tuple[str, str]:
    bank, length = rng.choice(BANKS)
    if rng.random() < 0.2:
        bank, length = REGIONAL_BANK.get(province, (bank, length))
    return bank, digits(rng, length)


def address(rng: random.Random, jenis: str, village: str) -> str:
    street, rt, rw = rng.choice(STREETS), rng.randint(1, 15), rng.randint(1, 12)
    return f"{street} No. {rng.randint(1, 120)}, RT {rt:03d}/RW {rw:03d}, {jenis} {village}"


def location(rng: random.Random, kode: str) -> tuple[float, float] | None:
    """A Titik Lokasi near the kecamatan's own spot, so that a map shows each kecamatan as a
    cluster. `rng` is drawn from exactly twice whatever happens (the rest of the city stays as
    it was); the spot comes from the kecamatan's code alone."""
    centre = COORDS.get(kode[:5]) or COORDS.get(kode[:2])
    jitter = rng.uniform(-1, 1), rng.uniform(-1, 1)
    if centre is None:
        return None
    lat, lon, spread = centre
    spot = random.Random(f"kecamatan:{kode[:8]}")
    lat += spot.uniform(-0.7, 0.7) * spread + jitter[0] * spread * 0.3
    lon += spot.uniform(-0.7, 0.7) * spread + jitter[1] * spread * 0.3
    return lat, lon


def location_text(point: tuple[float, float] | None, habit: random.Random) -> str | None:
    """The point typed in one of the ways people paste it; a few are not filled in yet."""
    form = habit.random()
    if point is None or form < 0.06:
        return None
    lat, lon = point
    if form < 0.70:
        return f"{lat:.5f}, {lon:.5f}"  # as Google Maps copies it
    if form < 0.80:
        return f"{lat:.5f} {lon:.5f}".replace(".", ",")
    if form < 0.90:
        return f"https://maps.google.com/?q={lat:.6f},{lon:.6f}"
    return f"{dms(lat, 'LS' if lat < 0 else 'LU')} {dms(lon, 'BT' if lon > 0 else 'BB')}"


def dms(value: float, letters: str) -> str:
    """6°10'12,4"LS: degrees, minutes and seconds with the hemisphere letters."""
    seconds = round(abs(value) * 3600, 1)
    d, rest = divmod(seconds, 3600)
    m, sec = divmod(rest, 60)
    return f"{int(d)}°{int(m)}'{sec:.1f}\"{letters}".replace(".", ",")


def location_mistake(point: tuple[float, float], which: int) -> tuple[str, str]:
    """(issue code, Titik Lokasi typed wrongly): longitude first, a short link, or comma
    decimals with a comma between (which comma is which cannot be told)."""
    lat, lon = point
    return (
        ("latlong-swapped", f"{lon:.5f}, {lat:.5f}"),
        ("latlong-short-link", f"https://maps.app.goo.gl/Kkmp{abs(round(lon * 1000))}"),
        ("latlong-format", f"{lat:.4f},{lon:.4f}".replace(".", ",")),
    )[which % 3]


def short_kota(kota: str) -> str:
    """`Jakarta Barat`, `Kab. Bogor`: the name as people often type it."""
    return kota.replace("Kota Administrasi ", "").replace("Kabupaten ", "Kab. ")


def akta(rng: random.Random, musyawarah: date) -> str:
    signed = musyawarah + timedelta(days=rng.randint(7, 30))
    return f"{rng.randint(1, 60)} tanggal {fmt_date(signed, 'long')}"


def price(rng: random.Random, good: Good) -> tuple[int, int]:
    """(Harga Beli, Harga Jual) in one gerai: HET goods at the HET, others around typical."""
    step = 500 if good.jual >= 10_000 else 100
    if good.key in ("SPHP5", "MKT1"):
        jual = good.jual
    elif good.key == "LPG3":
        jual = rng.choice((19_000, 19_000, 20_000, 21_000, 22_000))
    else:
        jual = round(good.jual * rng.uniform(0.97, 1.05) / step) * step
    return min(round(good.beli * rng.uniform(0.97, 1.03) / 100) * 100, jual - step), jual


# --- extra tabs some cooperatives keep (ignored by the service)


def meeting_notes(musyawarah: date, mulai: date | None) -> list[list[object]]:
    rows: list[list[object]] = [
        ["Tanggal", "Agenda", "Hasil"],
        [musyawarah, "Musyawarah kelurahan khusus", "Pembentukan koperasi, pemilihan pengurus"],
        [musyawarah + timedelta(days=14), "Rapat pengurus", "Pengurusan akta dan SK AHU"],
    ]
    if mulai:
        rows.append([mulai, "Rapat anggota", "Gerai mulai buka; harga mengikuti HET"])
    return rows


INSTRUCTIONS: list[list[object]] = [
    ["Petunjuk pengisian"],
    ["Isi satu baris per anggota / transaksi. Tanggal ditulis 17/08/2025."],
    ["NIK diketik sebagai teks, 16 digit, tanpa spasi."],
]

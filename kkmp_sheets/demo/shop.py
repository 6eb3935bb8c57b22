"""The gerai: what it stocks (Stok) and what it sells (Penjualan), each followed by its mistakes.

Goods come from the catalogue at the gerai's own prices; sales run from when it began selling to
its last sale, a few notas a day (more for a busy kind), with baskets for households and
wholesale lines for an SPPG kitchen or a mitra.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from datetime import timedelta

from kkmp_sheets.core import template
from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.book import _TOTAL, Row, _Book
from kkmp_sheets.demo.plan import _SPPG_ODDS, NOTAS_PER_DAY

FORMULA_TEXT = '=HYPERLINK("http://contoh.id","Promo")'
_CATEGORY_CODE = {"Beras": "BRS", "Minyak Goreng": "MYK", "Gula": "GLA", "Telur": "TLR",
                  "Tepung": "TPG", "LPG": "LPG", "Lainnya": "LN"}  # fmt: skip


def _stok(book: _Book) -> None:
    """The goods on the shelf (Stok), then its mistakes."""
    rng, tab, kind = book.rng, book.stok, book.kind
    core = [g for g in cat.GOODS if g.key in cat.CORE_GOODS]
    others = [g for g in cat.GOODS if g.key not in cat.CORE_GOODS]
    if kind == "persiapan":  # perhaps a first delivery from Bulog, perhaps nothing yet
        goods = rng.sample(core, rng.randint(2, 4)) if rng.random() < 0.5 else []
    else:
        core = rng.sample(core, rng.randint(3, 5)) if kind == "baru" else core
        goods = core + rng.sample(others, rng.randint(3, 12 if kind in ("mapan", "lambat") else 7))
    goods.sort(key=cat.GOODS.index)
    scheme = rng.choice(("cat", "seq", "num", "key"))
    case = str.upper if rng.random() < 0.25 else str
    yes, no = ("Ya", "Tidak") if rng.random() < 0.8 else ("Y", "T")
    counters: dict[str, int] = defaultdict(int)

    def code(g: cat.Good, idx: int) -> str:
        counters[g.kategori] += 1
        return {
            "cat": f"{_CATEGORY_CODE[g.kategori]}-{counters[g.kategori]:02d}",
            "seq": f"B{idx + 1:03d}",
            "num": str(1001 + idx),
        }.get(scheme, g.key)

    book.goods = []  # (Kode Barang, good, Harga Jual)
    for idx, g in enumerate(goods):
        beli, jual = cat.price(rng, g)
        kategori = {"Minyak Goreng": "Minyak", "Tepung": "Terigu"}.get(g.kategori, g.kategori)
        low, high = (2, g.stok[0]) if kind == "persiapan" else g.stok
        satuan, per_unit, minimum = g.satuan, 1, max(2, g.stok[0] // 2)
        if g.key == "TLR" and scheme == "num":
            # Some gerai count eggs by the piece (so Pasokan converts butir to kg); chosen by
            # the code scheme, not a draw, so that every other value of the city stays as it was.
            satuan, per_unit = "butir", cat.BUTIR_PER_KG
            beli, jual, minimum = round(beli / per_unit), round(jual / per_unit), minimum * per_unit
        tab.rows.append({
            "kode_barang": code(g, idx), "nama_barang": case(g.nama),
            "kategori": case(kategori if rng.random() < 0.15 else g.kategori),
            "satuan": satuan,
            "jumlah_stok": rng.randint(low, high) * per_unit, "harga_beli": beli,
            "harga_jual": jual, "stok_minimum": minimum, "pemasok": rng.choice(g.pemasok),
            "konsinyasi": yes if g.konsinyasi else no if rng.random() < 0.6 else None,
            "keterangan": "Titipan UMKM" if g.konsinyasi and rng.random() < 0.5 else None,
        })  # fmt: skip
        book.goods.append(((tab.rows[-1] or {})["kode_barang"], g, jual))
    book.unknown_code = code(cat.UNSTOCKED, len(goods))
    for mistake in book.todo if tab.rows else ():
        if mistake == "stock-negative":
            i, row = book.pick(tab)
            row["jumlah_stok"] = qty = -rng.randint(2, 12)
            book.seed(tab, i, "jumlah_stok", mistake, qty)
        elif mistake == "harga-beli-empty":
            i, row = book.pick(tab)
            row["harga_beli"] = None
            book.seed(tab, i, "harga_beli", mistake, None)
        elif mistake == "formula-text":  # a promotion link pasted over a name
            i, row = book.pick(tab, lambda r: r["kategori"].lower() == "lainnya")
            row["nama_barang"] = FORMULA_TEXT
            book.seed(tab, i, "nama_barang", mistake, FORMULA_TEXT)


def _penjualan(book: _Book) -> None:
    """Every line sold (Penjualan), day by day up to the last sale, then its mistakes."""
    rng, tab, kind = book.rng, book.penjualan, book.kind
    book.sppg = rng.random() < _SPPG_ODDS.get(kind, 0)  # supplies an SPPG kitchen (MBG)
    book.formula_total = book.money_style == "number" and rng.random() < 0.35
    if book.last_sale is None or book.mulai is None or not book.goods:
        return
    start = max(book.mulai, book.last_sale - timedelta(days=rng.randint(60, 90)))
    mean = NOTAS_PER_DAY.get(kind, 2) * book.scale * rng.uniform(0.7, 1.3)
    closed_sunday, nota_style = rng.random() < 0.3, rng.choice(("day", "seq", "inv", "seq"))
    case = rng.choice((str, str, str, str.lower))
    buyers = {b: b if b == "SPPG" else case(b) for b in template.JENIS_PEMBELI}
    weights = [3 if g.key in cat.CORE_GOODS else 1 for _, g, _ in book.goods]
    bulk = [x for x in book.goods if x[1].grosir[1]]
    joins = [m.join for m in book.members]
    seq, day = 0, start
    while day <= book.last_sale:
        last = day == book.last_sale
        n = max(int(last), round(rng.gauss(mean, mean * 0.3)))
        if not last and ((closed_sunday and day.weekday() == 6) or rng.random() < 0.04):
            n = 0
        sppg = book.sppg and day.weekday() < 5 and rng.random() < 0.35  # a kitchen's order
        for k in range(n + sppg):
            seq += 1
            nota = {
                "day": f"{day:%y%m%d}-{k + 1:02d}",
                "inv": f"INV/{day:%Y/%m}/{seq:04d}",
            }.get(nota_style, f"{seq:05d}")
            roll = rng.random()
            buyer = "Anggota" if roll < 0.48 else "Umum" if roll < 0.92 else "Mitra"
            buyer = "SPPG" if k == n else buyer
            joined = bisect_right(joins, day)  # members who had joined by that day
            member = book.members[rng.randrange(joined)].id if joined else None
            if buyer != "Anggota":
                member = None
            elif member is None:
                buyer = "Umum"
            wholesale = buyer in ("SPPG", "Mitra") and bool(bulk)
            if wholesale:
                lines = rng.sample(bulk, min(len(bulk), rng.randint(1, 3)))
            else:
                basket = rng.choices(book.goods, weights, k=rng.choice((1, 1, 1, 1, 2, 2, 3)))
                lines = list(dict.fromkeys(basket))
            for code, g, price in lines:
                qty = rng.randint(*(g.grosir if wholesale else g.eceran))
                tab.rows.append({
                    "tanggal": day, "no_nota": nota, "kode_barang": code, "jumlah": qty,
                    "harga_satuan": price,
                    "total": _TOTAL if book.formula_total else qty * price,
                    "jenis_pembeli": buyers[buyer], "no_anggota": member,
                    "kasir": "Kasir 1" if rng.random() < 0.7 else "Kasir 2",
                })  # fmt: skip
        day += timedelta(days=1)

    def earlier(r: Row) -> bool:  # keeps the last sale's date where it is
        return r["tanggal"] != book.last_sale

    for mistake in book.todo:
        if mistake == "item-unknown":  # sold, but never entered in Stok
            i, row = book.pick(tab, lambda r: r["jenis_pembeli"] != "SPPG")
            price = cat.UNSTOCKED.jual
            row.update(kode_barang=book.unknown_code, harga_satuan=price, jumlah=1)
            row["total"] = _TOTAL if row["total"] is _TOTAL else price
            book.seed(tab, i, "kode_barang", mistake, book.unknown_code)
        elif mistake == "total-mismatch":  # one more typed than sold
            i, row = book.pick(tab, earlier)
            row["total"] = total = (row["jumlah"] + 1) * row["harga_satuan"]
            book.seed(tab, i, "total", mistake, total)
        elif mistake == "future-date":
            book.seed_future_date(tab, earlier)

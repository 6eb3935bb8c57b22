"""How a cooperative lays out its workbook: tab names, headers, columns, title rows, tab order.

Contract names or their aliases, columns dropped or swapped, an extra column, title rows above
the header; then the structural mistakes (a missing tab or column) and extra tabs of its own.
"""

from __future__ import annotations

from kkmp_sheets.core import template
from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.book import _Book, _Tab
from kkmp_sheets.demo.plan import SeededMistake

_ENGLISH_TABS = {"Members", "Savings", "Stock", "Sales", "Profile"}


def _tab(book: _Book, spec: template.TableSpec, drop: set[str], extra: str, title: str) -> _Tab:
    """A data tab as this cooperative names it, orders and heads its columns, and titles it."""
    rng = book.rng
    names = [spec.name, *(a for a in spec.aliases if a not in _ENGLISH_TABS)]
    name = spec.name if rng.random() < 0.75 else rng.choice(names)
    cols = [c.key for c in spec.columns if c.key not in drop]
    if rng.random() < 0.15:  # two neighbouring columns the other way round
        k = rng.randrange(len(cols) - 1)
        cols[k], cols[k + 1] = cols[k + 1], cols[k]
    headers = {}
    for c in spec.columns:
        text = c.label if rng.random() < 0.7 else rng.choice((c.label, *c.aliases))
        headers[c.key] = text.upper() if book.upper_headers else text
    if extra:
        cols.insert(len(cols) if rng.random() < 0.7 else 2, extra.lower())
        headers[extra.lower()] = extra
    where = f"{book.jenis_desa} {book.coop.kelurahan}, Kecamatan {book.coop.kecamatan}"
    roll = 1.0 if book.tidy else rng.random()
    choices: list[list[str | None]] = [[title], [title, None], [title, where, None], []]
    above = choices[sum(roll >= p for p in (0.35, 0.6, 0.75))]
    return _Tab(name.upper() if rng.random() < 0.1 else name, cols, headers, above)


def _layout(book: _Book) -> None:
    """The five tabs, still empty: optional columns dropped, an extra one added, title rows."""
    rng, todo = book.rng, book.todo

    def drop(p: float, *keys: str) -> set[str]:  # an optional column kept with probability p
        return set(keys) if rng.random() > p else set()

    def extra(p: float, name: str) -> str:
        return name if rng.random() < p else ""

    drop_a = drop(0.8, "rt", "rw") | drop(0.85, "telepon") | drop(0.9, "status", "tanggal_keluar")
    drop_s = drop(0.6, "keterangan") if "emoji" not in todo else set()
    drop_k = (
        drop(0.9, "kategori")
        | drop(0.6, "stok_minimum")
        | drop(0.8, "pemasok")
        | drop(0.5, "konsinyasi")
    )
    drop_p = drop(0.9, "no_nota") | (drop(0.5, "total") if "total-mismatch" not in todo else set())
    drop_p |= drop(0.85, "jenis_pembeli", "no_anggota") or drop(0.8, "no_anggota")
    s = book.short
    book.anggota = _tab(
        book, template.ANGGOTA, drop_a, extra(0.2, "Catatan"), f"DAFTAR ANGGOTA {s}"
    )
    book.simpanan = _tab(
        book, template.SIMPANAN, drop_s, extra(0.1, "Petugas"), f"BUKU SIMPANAN ANGGOTA {s}"
    )
    book.stok = _tab(
        book, template.STOK, drop_k, extra(0.15, "Keterangan"), f"STOK BARANG GERAI {s}"
    )
    book.penjualan = _tab(
        book, template.PENJUALAN, drop_p, extra(0.1, "Kasir"), f"PENJUALAN HARIAN {s}"
    )
    book.simpanan.money = frozenset({"jumlah"})
    book.stok.money = frozenset({"harga_beli", "harga_jual"})
    book.penjualan.money = frozenset({"harga_satuan", "total"})
    labels = rng.choice(
        (("Data", "Isi"), ("Data", "Isi"), ("Keterangan", "Isi"), ("Data", "Nilai"))
    )
    above = [] if book.tidy or rng.random() < 0.5 else [f"PROFIL {book.coop.nama.upper()}", None]
    name = template.PROFIL.name if rng.random() < 0.8 else rng.choice(template.PROFIL.aliases[::2])
    book.profil = _Tab(name, ["label", "isi"], {"label": labels[0], "isi": labels[1]}, above)


def _structure(book: _Book) -> None:
    """A missing tab or column, extra tabs, and the order the tabs are written in."""
    rng = book.rng
    tabs = [book.profil, book.anggota, book.simpanan, book.stok, book.penjualan]
    if "tab-missing" in book.todo:  # not selling yet, so no Penjualan tab at all
        tabs.remove(book.penjualan)
        book.seeded.append(
            SeededMistake(book.coop.id, template.PENJUALAN.name, None, "", "tab-missing")
        )
    if "column-missing" in book.todo:
        stok = bool(book.stok.rows) and rng.random() < 0.5
        tab, spec, key = (
            (book.stok, template.STOK, "satuan")
            if stok
            else (book.anggota, template.ANGGOTA, "tanggal_masuk")
        )
        tab.cols.remove(key)
        book.seeded.append(
            SeededMistake(book.coop.id, tab.name, None, spec.column(key).label, "column-missing")
        )
    book.sheets = list(tabs)
    if rng.random() < 0.1:  # Penjualan before Stok
        book.sheets.sort(key=lambda t: t is book.stok)
    if rng.random() < 0.25:
        book.sheets.append(("Catatan Rapat", cat.meeting_notes(book.musyawarah, book.mulai)))
    if rng.random() < 0.1:
        book.sheets.insert(0, ("Petunjuk", cat.INSTRUCTIONS))

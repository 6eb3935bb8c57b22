"""The members (Anggota) and their savings (Simpanan), each followed by its mistakes.

Members are synthetic: random combinations of common names, and random NIKs that are well-formed
(a real kecamatan code, mostly the cooperative's own, a birth date with +40 for women, a serial).
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import date, timedelta
from functools import cache

from kkmp_sheets.core import template, wilayah
from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.book import Row, _anything, _Book, _Member, _Typed, _weighted
from kkmp_sheets.demo.plan import KINDS, MEMBERS

_MEMBER_MISTAKES = (
    "nik-number",
    "nik-15",
    "nik-birthdate",
    "member-id-dup",
    "nik-dup",
    "nama-empty",
)


@cache
def _kecamatan_prefixes(run_kode: str) -> dict[str, list[str]]:
    """The kecamatan codes (6 digits) of each kabupaten/kota of the run."""
    found: dict[str, list[str]] = defaultdict(list)
    for kec in sorted({v.kode[:8] for v in wilayah.villages(run_kode)}):
        found[kec[:5]].append(kec.replace(".", ""))
    return found


@cache
def _origin_prefixes() -> tuple[str, ...]:
    """Kecamatan codes (6 digits) of the provinces people commonly move from."""
    found = {v.kode[:8].replace(".", "") for p in cat.ORIGIN_PROVINCES for v in wilayah.villages(p)}
    return tuple(sorted(found))


@cache
def _outside_prefixes(run_kode: str) -> tuple[str, ...]:
    """The kecamatan codes of `_origin_prefixes` outside the run's own region."""
    inside = run_kode.replace(".", "")
    return tuple(p for p in _origin_prefixes() if not p.startswith(inside))


def _member_id(book: _Book, n: int) -> str | int:
    """The n-th member's No Anggota, numbered as this cooperative numbers them."""
    if book.id_style == "int":
        return n
    return {"A": f"A-{n:04d}", "pad": f"{n:03d}"}.get(book.id_style, f"{book.initials}-{n:03d}")


def _anggota(book: _Book) -> None:
    """The member list (Anggota), then its mistakes."""
    rng, plan, coop, tab = book.rng, book.plan, book.coop, book.anggota
    book.id_style = _weighted(rng, (("A", 30), ("pad", 25), ("village", 25), ("int", 20)))
    words = [w for w in coop.kelurahan.replace("-", " ").split() if w[:1].isalpha()]
    book.initials = ("".join(w[0] for w in words) if len(words) > 1 else coop.kelurahan[:3]).upper()
    lo, hi, typical = MEMBERS[book.kind]
    n = min(hi, max(lo, int(rng.lognormvariate(math.log(typical * book.scale), 0.4))))
    founders = max(9, int(n * rng.uniform(0.2, 0.4)))
    span = max(1, (book.edit - book.musyawarah).days)
    joins = sorted(
        book.musyawarah + timedelta(days=0 if k < founders else rng.randint(1, span))
        for k in range(n)
    )
    own = coop.kode_wilayah[:8].replace(".", "")
    neighbours = _kecamatan_prefixes(plan.run_kode)[coop.kode_wilayah[:5]]
    outside = _outside_prefixes(plan.run_kode)
    may_leave = n - 108 if KINDS[book.kind][1] == "Hijau" else n // 10  # keep ≥100 active
    may_leave *= book.kind != "persiapan" and "status" in tab.cols
    gap_after = founders if rng.random() < 0.15 else -1  # a blank row after the founders
    rt_text = rng.random() < 0.7
    sexes = ("Perempuan", "Laki-laki") if rng.random() < 0.2 else ("P", "L")
    explicit_status = rng.random() < 0.4
    seen: set[str] = set()
    book.members = []
    for k, join in enumerate(joins):
        female = rng.random() < 0.55
        roll = rng.random()
        kec = own if roll < 0.75 else rng.choice(neighbours if roll < 0.9 else outside)
        nik = cat.nik(rng, kec, female, plan.as_of)
        while nik in seen:
            nik = cat.nik(rng, kec, female, plan.as_of)
        seen.add(nik)
        left = None
        if may_leave > 0 and rng.random() < 0.03 and (book.edit - join).days > 40:
            left, may_leave = (
                join + timedelta(days=rng.randint(30, (book.edit - join).days)),
                may_leave - 1,
            )
        name = ("Hj. " if female else "H. ") * (rng.random() < 0.03) + cat.person_name(rng, female)
        name = name.upper() if book.upper_names else name
        rt, rw = rng.randint(1, 15), rng.randint(1, 12)
        tab.rows.append({
            "no_anggota": _member_id(book, k + 1), "nama": name, "nik": nik,
            "jenis_kelamin": sexes[not female],
            "tanggal_masuk": join,
            "rt": f"{rt:03d}" if rt_text else rt, "rw": f"{rw:03d}" if rt_text else rw,
            "telepon": cat.phone(rng) if rng.random() < 0.85 else None,
            "status": "Keluar" if left else "Aktif" if explicit_status else None,
            "tanggal_keluar": left,
            "catatan": rng.choice(cat.CATATAN) if rng.random() < 0.08 else None,
        })  # fmt: skip
        book.members.append(_Member(_member_id(book, k + 1), join, left, len(tab.rows) - 1))
        book.people.append((nik, name))
        if k + 1 == gap_after:
            tab.rows.append(None)
    shared = {nik for nik, _, _ in book.plan.shared}
    for nik, name, female in book.plan.shared:  # also a member of another cooperative
        m = rng.choice(book.members[founders:] or book.members)
        row = tab.rows[m.row] or {}
        name = name.upper() if book.upper_names else name
        row.update(nik=nik, nama=name, jenis_kelamin=sexes[not female])
        book.people.append((nik, name))
        book.seed(tab, m.row, "nik", "nik-elsewhere", nik)

    touched: set[int] = set()  # rows a mistake was already made in

    def plain(r: Row) -> bool:
        return id(r) not in touched and r["nik"] not in shared

    for mistake in book.todo:
        if mistake not in _MEMBER_MISTAKES:
            continue
        first, i = sorted(rng.sample(tab.data_rows(plain), 2))  # i: the row to spoil
        row = tab.rows[i] or {}
        touched.update((id(row), id(tab.rows[first])))
        nik = row["nik"]
        if mistake == "nik-number":  # typed into a Number cell: Excel keeps 15 digits
            row["nik"] = _Typed(float(int(nik) // 10 * 10))
        elif mistake == "nik-15":
            cut = rng.randint(12, 15)
            row["nik"] = nik[:cut] + nik[cut + 1 :]
        elif mistake == "nik-birthdate":
            row["nik"] = f"{nik[:6]}{rng.randint(32, 39)}{nik[8:]}"
        elif mistake == "nama-empty":
            row["nama"] = None
        else:  # a later row repeats an earlier one's No Anggota, or the whole person
            earlier = tab.rows[first] or {}
            if mistake == "member-id-dup":
                row["no_anggota"] = earlier["no_anggota"]
                next(m for m in book.members if m.row == i).id = earlier["no_anggota"]
            else:
                row.update(nik=earlier["nik"], nama=earlier["nama"])
                row["jenis_kelamin"] = earlier["jenis_kelamin"]
                book.people.append((row["nik"], row["nama"]))
        key = {"nama-empty": "nama", "member-id-dup": "no_anggota"}.get(mistake, "nik")
        value = row[key].value if isinstance(row[key], _Typed) else row[key]
        book.seed(tab, i, key, mistake, value)


def _simpanan(book: _Book) -> None:
    """Each member's savings (Simpanan): Pokok on joining, Wajib monthly, now and then Sukarela."""
    rng, tab = book.rng, book.simpanan
    book.pokok = rng.choice((50_000, 100_000, 100_000, 100_000, 150_000, 200_000))
    book.wajib = rng.choice((10_000, 10_000, 15_000, 20_000, 20_000, 25_000, 50_000))
    case = rng.choice((str, str, str.upper, str.lower))
    jenis = {j: case(j) for j in template.JENIS_SIMPANAN}
    entries: list[tuple[date, int, str | int, str, int, str | None]] = []
    for seq, m in enumerate(book.members):
        end = min(book.edit, m.left or book.edit)
        entries.append((m.join, seq, m.id, "Pokok", book.pokok, None))
        habit = rng.random()  # pays every month, stopped after a few, or never
        months = 99 if habit < 0.8 else rng.randint(1, 3) if habit < 0.93 else 0
        months *= book.kind != "persiapan" or habit > 0.4
        # monthly, or a few months at once (in a desa often after the harvest)
        step = 1 if rng.random() < 0.5 * book.scale else rng.choice((2, 3, 3))
        month = m.join.year * 12 + m.join.month - 1  # the first month not yet paid
        while months > 0:
            k = min(step, months)
            y, mo = divmod(month + k - 1, 12)
            paid = max(m.join, date(y, mo + 1, rng.randint(1, 20)))
            if paid > end:
                break
            note = f"Wajib {cat.BULAN[month % 12]}" if rng.random() < 0.2 else None
            entries.append((paid, seq, m.id, "Wajib", book.wajib * k, note))
            month, months = month + k, months - k
        for _ in range(rng.randint(1, 3) if rng.random() < 0.15 else 0):
            when = m.join + timedelta(days=rng.randint(0, (end - m.join).days))
            amount = rng.choice((20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000, 1_500_000))
            entries.append((when, seq, m.id, "Sukarela", amount, None))
    entries.sort(key=lambda e: (e[0], e[1]))
    gaps, previous = rng.random() < 0.1, entries[0][0]  # gaps: a blank row between months
    for when, _, member, kind, amount, note in entries:
        if gaps and (previous.year, previous.month) != (when.year, when.month):
            tab.rows.append(None)
        previous = when
        note = note or (rng.choice(cat.KETERANGAN) if rng.random() < 0.1 else None)
        tab.rows.append(
            {
                "tanggal": when,
                "no_anggota": member,
                "jenis": jenis[kind],
                "jumlah": amount,
                "keterangan": note,
                "petugas": "Bendahara" if rng.random() < 0.5 else None,
            }
        )

    def wajib(r: Row) -> bool:
        return r["jenis"] == jenis["Wajib"]

    for mistake in book.todo:
        if mistake == "date-unreadable":
            i, row = book.pick(tab, wajib)
            text = cat.impossible_date(row["tanggal"].year, book.date_style)
            row["tanggal"] = _Typed(text)
            book.seed(tab, i, "tanggal", mistake, text)
        elif mistake == "jenis-unknown":
            i, row = book.pick(tab, wajib)
            row["jenis"] = "Wajb"
            book.seed(tab, i, "jenis", mistake, "Wajb")
        elif mistake == "member-unknown":
            i, row = book.pick(tab, wajib)
            row["no_anggota"] = stranger = _member_id(book, len(book.members) + rng.randint(20, 80))
            book.seed(tab, i, "no_anggota", mistake, stranger)
        elif mistake == "emoji":
            i, row = book.pick(tab)
            row["keterangan"] = text = rng.choice(
                ("Lunas 👍", "Alhamdulillah 🙏", "Setor via HP 📱✅")
            )
            book.seed(tab, i, "keterangan", mistake, text)
        elif mistake == "future-date" and book.last_sale is None:
            book.seed_future_date(tab, _anything)

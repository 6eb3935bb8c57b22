"""The cooperative's papers and facts (Profil): a label and a value per row.

Which papers are still missing depends on the kind (a `berkembang` cooperative lacks exactly one
of NIB, NPWP and bank account); the Profil mistakes write a wrong NIB, NPWP, SK AHU or status.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

from kkmp_sheets.core import template, wilayah
from kkmp_sheets.demo import catalogues as cat
from kkmp_sheets.demo.book import _Book
from kkmp_sheets.demo.plan import LAUNCHING


def _profil(book: _Book) -> None:
    """The Profil rows, then its mistakes."""
    rng, c, plan, kind, todo = book.rng, book.coop, book.plan, book.kind, book.todo
    odds = {
        "persiapan": {"nib": 0.85, "npwp": 0.8, "bank": 0.5, "sk": 0.25, "nikop": 0.6},
        "baru": {"nib": 0.3, "npwp": 0.5, "bank": 0.3, "nikop": 0.4},
        "mapan": {},
        "lambat": {},
    }.get(kind, {"nib": 0.3, "npwp": 0.3, "bank": 0.3, "nikop": 0.2})
    gaps = {paper for paper, p in odds.items() if rng.random() < p}
    filled = {"nib-12": "nib", "npwp-15": "npwp", "sk-ahu": "sk"}  # a mistake writes these
    if kind == "berkembang":  # exactly one of NIB/NPWP/bank missing
        gaps = {
            rng.choice(
                [p for p in ("nib", "npwp", "bank") if p not in {filled.get(m) for m in todo}]
            )
        }
    gaps -= {filled.get(m) for m in todo}

    def when(d: date | None) -> date | str | None:
        return None if d is None else cat.fmt_date(d, book.date_style)

    bank, account = cat.bank_account(rng, c.kode_wilayah[:2])
    point = cat.location(rng, c.kode_wilayah)
    habit = random.Random(f"lokasi:{c.id}")  # its own stream: the rest stays as it was
    trading = kind != "persiapan"
    units = ["Kantor Koperasi"] + ["Gerai Sembako"] * (trading or rng.random() < 0.5)
    units += [u for u, p in cat.MORE_UNITS if trading and rng.random() < p]
    mitra = ["Bulog"] * (trading or rng.random() < 0.5)
    mitra += [m for m in cat.MITRA if book.goods and rng.random() < 0.4]
    mitra += [f"SPPG {c.kecamatan} {rng.randint(1, 4)}"] * book.sppg
    kota = wilayah.name(c.kode_wilayah[:5]) or ""
    values: dict[str, Any] = {
        "nama_koperasi": c.nama, "kelurahan": c.kelurahan, "kecamatan": c.kecamatan,
        "kota": kota if rng.random() < 0.7 else cat.short_kota(kota),
        "kode_wilayah": c.kode_wilayah if rng.random() < 0.8 else c.id[5:15],
        "tanggal_musyawarah": when(book.musyawarah),
        "nomor_akta": cat.akta(rng, book.musyawarah),
        "nomor_sk_ahu": None if "sk" in gaps else cat.sk_ahu(rng, book.musyawarah.year),
        "nomor_induk_koperasi": None if "nikop" in gaps else cat.digits(rng, 16),
        "nib": None if "nib" in gaps else cat.digits(rng, 13),
        "npwp": None if "npwp" in gaps else cat.npwp(rng),
        "nama_bank": None if "bank" in gaps else bank,
        "nomor_rekening": None if "bank" in gaps else account,
        "alamat_operasional": cat.address(rng, book.jenis_desa, c.kelurahan),
        "titik_lokasi": cat.location_text(point, habit),
        "status_operasional": rng.choice((str, str, str, str.upper))(c.status),
        "tanggal_mulai_operasi": when(book.mulai),
        "tanggal_launching": when(LAUNCHING) if book.musyawarah < LAUNCHING <= plan.as_of
                             else None,
        "unit_usaha": ", ".join(units),
        "simpanan_pokok": cat.fmt_money(book.pokok, book.money_style, rng),
        "simpanan_wajib_bulanan": cat.fmt_money(book.wajib, book.money_style, rng),
        "nama_ketua": plan.ketua, "telepon_ketua": cat.phone(rng), "email_pengurus": plan.email,
        "mitra": ", ".join(mitra) or None,
    }  # fmt: skip
    wrong = {
        "nib-12": ("nib", cat.digits(rng, 12)),
        "npwp-15": ("npwp", cat.digits(rng, 15)),
        "sk-ahu": (
            "nomor_sk_ahu",
            f"SK-{rng.randint(1, 99_999):05d}/AHU/{book.musyawarah.year}",
        ),
        "status-unknown": ("status_operasional", "Sdh jalan"),
    }
    for f in template.PROFIL.fields:
        names = [n for n in (f.label, *f.aliases) if n != "Desa" or book.jenis_desa == "Desa"]
        label = f.label if rng.random() < 0.75 else rng.choice(names)
        book.profil.rows.append({"key": f.key, "label": label, "isi": values[f.key]})
    # A few cooperatives that have mistakes anyway type their Titik Lokasi wrongly too.
    if todo and point is not None and habit.random() < 0.35:
        code, text = cat.location_mistake(point, habit.randrange(3))
        i = next(i for i, r in enumerate(book.profil.rows) if r and r["key"] == "titik_lokasi")
        (book.profil.rows[i] or {})["isi"] = text
        book.seed(book.profil, i, "isi", code, text)
    for mistake in todo:
        if mistake in wrong:
            key, text = wrong[mistake]
            i = next(i for i, r in enumerate(book.profil.rows) if r and r["key"] == key)
            (book.profil.rows[i] or {})["isi"] = text
            book.seed(book.profil, i, "isi", mistake, text)

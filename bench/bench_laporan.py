"""The Laporan Pimpinan of the 56 demo, the 600 and the 6,000 city, beside a fixed reference page.

    python bench/bench_laporan.py                    # 56 (Jakarta Barat) and 600 (Jawa Barat)
    python bench/bench_laporan.py --sizes 56,600,6000 --workers 2
    python bench/bench_laporan.py --sizes 600 --max-pages 40   # draw the first 40 pages only

Each city is checked once without writing (`run_once(write=False)`, Laporan off; cached as a
pickle in bench/.cache/runs, since checking is not what is measured) and given 30 recorded days
of history made up from today's zones (so that building the views does the work a real store
gives it: a comparison day for every cooperative and a trend per kecamatan). Then, each step in
its own interpreter (imports count, as they do in a cycle):

- **views**: build every page's view and its content key (what an unchanged cycle must pay);
- **draw 1**: every page (or the first `--max-pages`: the city and the first kecamatan) drawn into an empty folder with one worker (the cycle's own process);
- **draw N**: the same with `--workers` processes (when this version has them);
- **unchanged**: the same pages again into the folder of "draw N": nothing to draw; it says
  whether WeasyPrint or matplotlib was imported;
- **reference**: a fixed page that does not depend on the project: a matplotlib scatter of 600
  points saved as a 170 dpi PNG and a 60-row HTML table with it laid out by WeasyPrint, timed
  after its imports (the machine's speed at this kind of work, measured in the same run; ratios
  to it are what compare across runs on a shared machine).

Wall seconds and CPU seconds (the process and its reaped children: the drawing pool).
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE, SUBPROCESS_PRELUDE, demo_city, run_header

HERE = Path(__file__).resolve().parent
AS_OF = "2026-01-29"
CITIES = {56: ("jakarta-barat", "31.73", None)}
GOALS = "goals: 56 demo unchanged cycle <= 0.5 s; 6,000 cycle 1 <= 60 s wall on 2 cores"

PRELUDE = SUBPROCESS_PRELUDE

# Loaded before the clock starts: the checked cycle and the made-up history.
LOAD = """
from datetime import datetime
from kkmp_sheets.core.wib import WIB
with open({pickle_path!r}, "rb") as fh:
    state = pickle.load(fh)
NOW = datetime(2026, 1, 29, 7, 0, tzinfo=WIB)
"""

VIEWS = """
c0, t0 = cpu(), time.perf_counter()
from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.outputs import laporan
env = environment("id")
views = laporan.build_views(state["results"], state["figures"], state["recorded"],
                            city_name=state["city_name"], target=state["target"], now=NOW)
keys = [laporan.content_key(v, env) for v in views]
wall, used = time.perf_counter() - t0, cpu() - c0
heavy = sorted(m for m in ("weasyprint", "matplotlib") if m in sys.modules)
print(json.dumps({{"wall": wall, "cpu": used, "pages": len(views), "imported": heavy}}))
"""

DRAW = """
import inspect
from pathlib import Path
c0, t0 = cpu(), time.perf_counter()
from kkmp_sheets.delivery.digest import environment
from kkmp_sheets.outputs import laporan
env = environment("id")
views = laporan.build_views(state["results"], state["figures"], state["recorded"],
                            city_name=state["city_name"], target=state["target"], now=NOW)
views = views[:{max_pages}]
extra = {{}}
if "workers" in inspect.signature(laporan.write_reports).parameters:
    from functools import partial
    extra = {{"workers": {workers}, "env_factory": partial(environment, "id")}}
elif {workers} != 1:
    print(json.dumps({{"skipped": "this version draws in one process"}}))
    raise SystemExit(0)
paths = laporan.write_reports(views, env, Path({folder!r}), **extra)
wall, used = time.perf_counter() - t0, cpu() - c0
heavy = sorted(m for m in ("weasyprint", "matplotlib") if m in sys.modules)
print(json.dumps({{"wall": wall, "cpu": used, "pages": len(paths), "imported": heavy}}))
"""

REFERENCE = """
import io, random
import matplotlib
matplotlib.use("Agg")
from matplotlib.figure import Figure
import weasyprint
def page():
    rng = random.Random(7)
    fig = Figure(figsize=(3.9, 3.3), dpi=170)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
    ax.scatter([rng.random() for _ in range(600)], [rng.random() for _ in range(600)], s=22)
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=170)
    import base64
    uri = "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
    rows = "".join(f"<tr><td>Koperasi {{i}}</td><td>{{i * 37 % 101}}</td></tr>" for i in range(60))
    html = f"<html><body><img src='{{uri}}' style='width:9cm'><table>{{rows}}</table></body></html>"
    return weasyprint.HTML(string=html).write_pdf()
page()  # warm: fonts, caches
best = None
for _ in range(3):
    c0, t0 = cpu(), time.perf_counter()
    page()
    wall, used = time.perf_counter() - t0, cpu() - c0
    best = min(best or (wall, used), (wall, used))
print(json.dumps({{"wall": best[0], "cpu": best[1]}}))
"""


def run(code: str) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", PRELUDE.format(here=str(HERE)) + code],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return json.loads(out.stdout.strip().splitlines()[-1])


def city_of(size: int) -> tuple[str, str, int | None]:
    return CITIES.get(size, (f"jawa-barat-{size}", "32", size))


def checked_state(size: int) -> Path:
    """The city checked once (no file written), with 30 made-up recorded days; pickled."""
    name, kode, n = city_of(size)
    target = CACHE / "runs" / f"laporan-{name}.pickle"
    if target.exists():
        return target
    from dataclasses import replace
    from datetime import date, timedelta

    from kkmp_sheets import config
    from kkmp_sheets.cli import run_once
    from kkmp_sheets.core.figures import Target
    from kkmp_sheets.core.zoning import HIJAU, KUNING, MERAH
    from kkmp_sheets.outputs.laporan import Recorded

    root = demo_city(name, kode=kode, size=n)
    cfg = config.load(root / "city.toml")
    started = time.perf_counter()
    cycle = run_once(
        replace(cfg, laporan=False), date.fromisoformat(AS_OF), mail=False, write=False
    )
    print(f"  {name}: checked in {time.perf_counter() - started:.0f} s", flush=True)
    figures = cycle.figures
    as_of = figures.window.as_of
    ids = [r.coop.id for r in cycle.results]
    zones = [HIJAU, KUNING, MERAH]
    # Each cooperative's zone on day d: today's, moved one step on a few of them (so that the
    # trend and the comparison day differ from today).
    zones_by_day = {}
    city_days = []
    for back in range(30, 0, -1):
        day = as_of - timedelta(days=back)
        zs = {}
        for k, i in enumerate(ids):
            z = figures.coop(i)["zona"]
            if (k + back) % 11 == 0:
                z = zones[(zones.index(z) + 1) % 3] if z in zones else z
            zs[i] = z
        zones_by_day[day] = zs
        counts = [list(zs.values()).count(z) for z in zones]
        city_days.append({"as_of": day, "hijau": counts[0], "kuning": counts[1],
                          "merah": counts[2], "aktif": figures.city.aktif, "jumlah": len(ids)})  # fmt: skip
    since = as_of - timedelta(days=7)
    coops_then = {
        i: {
            "zone": zones_by_day[since][i],
            "omset": (figures.coop(i)["omset"] or 0) * (1 + (k % 5) / 10),
            "anggota_aktif": figures.coop(i)["anggota_aktif"],
        }
        for k, i in enumerate(ids)
    }
    recorded = Recorded(
        since=since,
        coops_then=coops_then,
        city_then=next(r for r in city_days if r["as_of"] == since),
        city_days=city_days,
        zones_by_day=zones_by_day,
    )
    state = {
        "results": cycle.results,
        "figures": figures,
        "recorded": recorded,
        "city_name": cfg.city_name,
        "target": Target(cfg.target_date, cfg.target_active_share),
    }
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pickle.dumps(state))
    return target


def measure(size: int, workers: int, max_pages: int) -> dict:
    name = city_of(size)[0]
    state = checked_state(size)
    load = LOAD.format(pickle_path=str(state))
    folder_1 = CACHE / "runs" / f"laporan-{name}-1"
    folder_n = CACHE / "runs" / f"laporan-{name}-n"
    for folder in (folder_1, folder_n):
        subprocess.run(["rm", "-rf", str(folder)], check=True)
    row = {"name": name, "reference": run(REFERENCE.format())}
    row["views"] = run(load + VIEWS.format())
    print(f"  {name}: views {row['views']['wall']:.2f} s", flush=True)
    row["draw1"] = run(load + DRAW.format(workers=1, folder=str(folder_1), max_pages=max_pages))
    print(f"  {name}: draw 1 {row['draw1']['wall']:.1f} s", flush=True)
    row["drawn"] = run(
        load + DRAW.format(workers=workers, folder=str(folder_n), max_pages=max_pages)
    )
    print(f"  {name}: draw {workers} {row['drawn'].get('wall', 0):.1f} s", flush=True)
    again = folder_n if "skipped" not in row["drawn"] else folder_1
    row["unchanged"] = run(
        load + DRAW.format(workers=workers, folder=str(again), max_pages=max_pages)
    )
    if "skipped" in row["unchanged"]:
        row["unchanged"] = run(
            load + DRAW.format(workers=1, folder=str(again), max_pages=max_pages)
        )
    print(f"  {name}: unchanged {row['unchanged']['wall']:.2f} s", flush=True)
    return row


def print_table(rows: list[dict], workers: int) -> None:
    print()
    head = (
        f"{'city':<17}{'pages':>6}{'drawn':>6}{'ref s':>7}{'views s':>8}{'x ref':>7}{'draw1 s':>8}"
        f"{'s/page':>7}{'x ref':>7}{f'draw{workers} s':>8}{'CPU s':>7}{'x ref':>7}"
        f"{'unch s':>8}{'x ref':>7}  unchanged imported"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        ref, v, d1, dn, u = (r[k] for k in ("reference", "views", "draw1", "drawn", "unchanged"))
        pages = d1["pages"]
        if "skipped" in dn:
            dn_cols = f"{'-':>8}{'-':>7}{'-':>7}"
        else:
            dn_cols = f"{dn['wall']:>8.1f}{dn['cpu']:>7.1f}{dn['wall'] / ref['wall']:>7.0f}"
        print(
            f"{r['name']:<17}{v['pages']:>6}{pages:>6}{ref['wall']:>7.2f}{v['wall']:>8.2f}"
            f"{v['wall'] / ref['wall']:>7.1f}{d1['wall']:>8.1f}{d1['wall'] / pages:>7.2f}"
            f"{d1['wall'] / ref['wall']:>7.0f}{dn_cols}{u['wall']:>8.2f}"
            f"{u['wall'] / ref['wall']:>7.1f}  {', '.join(u['imported']) or 'neither'}"
        )
    print()
    print(
        "ref: the fixed reference page (matplotlib 600-point PNG + WeasyPrint 60-row page), "
        "best of 3, after imports; views: build every view + content key; draw1/drawN: every "
        "drawn page into an empty folder, interpreter imports included; unchanged: the same again; "
        "pages: every page of the city, drawn: the pages drawn (--max-pages)"
    )
    print(GOALS)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="56,600", help="cooperatives per city, comma-separated")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--max-pages", type=int, default=100_000, help="draw the first N pages")
    args = parser.parse_args()
    print(run_header(), flush=True)
    print(
        f"python bench/bench_laporan.py --sizes {args.sizes} --workers {args.workers} "
        f"--max-pages {args.max_pages}"
    )
    rows = [
        measure(int(s), args.workers, args.max_pages) for s in args.sizes.split(",") if s.strip()
    ]
    print_table(rows, args.workers)


if __name__ == "__main__":
    main()

"""The national simulation: 514 kabupaten/kota instances, 38 provinces and the nation on the fake.

    python bench/bench_national.py --scale 0.01             # every instance, 1 % of the coops
    python bench/bench_national.py --scale 0.002 --regions 36,51 --skip-largest
    python bench/bench_national.py --scale 1.0              # all 83,762 cooperatives

Every kabupaten/kota of the region list (`core/wilayah.py`) is one instance with the real number
of desa/kelurahan, scaled by `--scale F` to max(1, round(n·F)) cooperatives (the province and
nation structure is unchanged). The largest, Kab. Aceh Utara (11.08, 852 desa), always runs at
full size: inside the tree when its province is simulated, on its own otherwise (unless
`--skip-largest`). Its cooperatives are the demo's workbooks (`kkmp_sheets.demo`, a few members
each), built once into bench/.cache/national and imported as native spreadsheets.

Each instance has its own service account `kkmp-<kode>@kkmp-<kode>.iam.gserviceaccount.com`, so
its own per-user quota (60 reads, 60 writes a minute) and, one Google Cloud project per instance,
its own project quota (300 a minute; `FakeApp.project_of`). All share one fake over real HTTP
with `--latency` per request (100 ms) and the honest clock of `bench_google.py`
(`FakeWarpClock`: the fake's own work left out, quota waits simulated, not slept). Instances run
one after another in this process, each with its own data folder; their simulated times are
reported per instance, since in reality they run at the same time on their own quotas.

A **cold** national pass: every kabupaten/kota's first cycle, then every province (a federation
instance over its children's status spreadsheets, shared with the province's account as
Viewer), then the nation over the provinces. An **idle** pass: the same again with nothing
changed. Then the check: every Ringkasan figure of the nation (through the figure catalogue,
`core/figures.py`) must equal the roll-up of the cities' Ringkasan figures; exit 1 if not.

Printed per pass and level: instances, requests (reads/writes/Drive), the total and the largest
instance's simulated seconds, and the quota floor ratio (sim s ÷ the larger of reads and writes
at 60 a minute) of the slowest instance; then the client's CPU seconds per pass (the process's
CPU less the fake's threads'). `--out FILE` also writes the table there.
"""

from __future__ import annotations

import argparse
import io
import logging
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from contextlib import redirect_stdout
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import CACHE
from bench_google import AS_OF, NOW, Stopwatch, split

from kkmp_sheets import config
from kkmp_sheets.config import GoogleSettings
from kkmp_sheets.core import wilayah
from kkmp_sheets.core.figures import RINGKASAN, ROLLED, SHARES, pick
from kkmp_sheets.google.federation import GoogleChildReader
from kkmp_sheets.google.sink import GoogleSink
from kkmp_sheets.google.state import GoogleState
from kkmp_sheets.service.cycle import run_cycle
from kkmp_sheets.service.federation import Readers, run_federation
from kkmp_sheets.store.history import HistoryStore
from kkmp_sheets.testing import FakeGoogle, QuotaConfig
from kkmp_sheets.testing.fake_api import project_of_service_account
from kkmp_sheets.testing.fake_clock import FakeWarpClock
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake, fake_api_client, load_city

LARGEST = "11.08"  # Kabupaten Aceh Utara: the most desa/kelurahan of any kabupaten/kota
NATION = "00"
LEVELS = ("kab/kota", "provinsi", "nasional")


def account(kode: str) -> str:
    """One service account in one Google Cloud project per instance."""
    slug = "nasional" if kode == NATION else kode.replace(".", "")
    return f"kkmp-{slug}@kkmp-{slug}.iam.gserviceaccount.com"


@dataclass
class Run:
    """One instance's cycle in one pass."""

    kode: str
    level: str
    coops: int
    reads: int
    writes: int
    drive: int
    sim_s: float
    cpu_s: float  # the client's CPU: the process's, the fake's threads' taken out

    @property
    def floor_s(self) -> float:
        """The least time its Sheets requests can take: reads and writes at 60 a minute each."""
        return max(self.reads, self.writes)  # n requests ÷ 60 per minute = n seconds

    @property
    def total(self) -> int:
        return self.reads + self.writes + self.drive


@dataclass
class Pass:
    name: str
    runs: list[Run] = field(default_factory=list)
    cpu_s: float = 0.0
    real_s: float = 0.0


@dataclass
class Instance:
    kode: str
    name: str
    status_id: str
    coops: int = 0
    city: GoogleCity | None = None
    cfg: Any = None
    store: HistoryStore | None = None
    clients: Any = None
    children: list[Instance] = field(default_factory=list)


# ------------------------------------------------------------------------------ the world


def plan(scale: float, regions: list[str] | None) -> dict[str, list[tuple[str, int]]]:
    """province kode → [(kab/kota kode, cooperatives)], the largest always at full size."""
    villages: dict[str, int] = defaultdict(int)
    for kode in wilayah._regions():
        if kode.count(".") == 3:
            villages[kode.rsplit(".", 2)[0]] += 1
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for kode, n in sorted(villages.items()):
        province = kode.split(".")[0]
        if regions and province not in regions:
            continue
        size = n if kode == LARGEST else max(1, round(n * scale))
        out[province].append((kode, size))
    return dict(out)


def cached_city(kode: str, size: int) -> Path:
    """A demo city of `size` cooperatives, built once (building is not what we measure)."""
    from kkmp_sheets.demo import build_demo_city

    root = CACHE / "national" / f"{kode}-{size}"
    marker = root / ".complete"
    if not marker.exists():
        shutil.rmtree(root, ignore_errors=True)
        build_demo_city(root, kode=kode, size=size, as_of=AS_OF, workers=2 if size > 100 else 1)
        marker.write_text("ok")
    return root


def status_spreadsheet(fake: FakeGoogle, kode: str, name: str) -> str:
    return fake.add_spreadsheet(
        f"Status KKMP {name}", {"Sheet1": []}, owner=f"operator.{kode}@wilayah.example",
        shared_with={account(kode): "writer"},
    )  # fmt: skip


def add_city(fake: FakeGoogle, clock: FakeWarpClock, kode: str, size: int, work: Path) -> Instance:
    root = cached_city(kode, size)
    sa = account(kode)
    city = load_city(fake, root, identity=sa)
    folder = work / kode
    cfg = replace(
        config.load(root / "city.toml"),
        source_kind="google",
        registry=city.registry_id,
        output_kind="google",
        output_spreadsheet=city.status_id,
        data_dir=folder / "data",
    )
    clients = connect_fake(
        fake, city, clock=clock, settings=GoogleSettings(base_url=fake.base_url), identity=sa
    )
    region = wilayah.get(kode)
    return Instance(
        kode, region.nama if region else kode, city.status_id, size, city, cfg,
        HistoryStore(":memory:"), clients,
    )  # fmt: skip


def add_parent(
    fake: FakeGoogle, clock: FakeWarpClock, kode: str, children: list[Instance], work: Path
) -> Instance:
    """A federation instance over `children`, whose status spreadsheets it may read."""
    name = "Nasional" if kode == NATION else wilayah.name(kode) or kode
    sa = account(kode)
    for child in children:
        fake.share(child.status_id, sa, "reader")
    folder = work / (f"prov-{kode}" if kode != NATION else "nasional")
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["Kode Wilayah,Nama,Spreadsheet,Email Operator"]
    lines += [
        f'{c.kode},"{c.name}",{c.status_id},operator.{c.kode}@wilayah.example' for c in children
    ]
    (folder / "registry.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    status = status_spreadsheet(fake, kode, name)
    (folder / "parent.toml").write_text(
        f"""[city]
name = "{name}"
kode_wilayah = "{kode}"

[source]
kind = "federation"
registry = "registry.csv"

[output]
kind = "google"
spreadsheet = "{status}"

[mail]
kind = "outbox"
dir = "out/outbox"

[google]
base_url = "{fake.base_url}"
""",
        encoding="utf-8",
    )
    cfg = config.load(folder / "parent.toml")
    api = fake_api_client(fake, clock=clock, settings=GoogleSettings(base_url=fake.base_url),
                          identity=sa)  # fmt: skip
    return Instance(kode, name, status, sum(c.coops for c in children), None, cfg, None, api,
                    children)  # fmt: skip


# ------------------------------------------------------------------------------ the passes


def cycle_city(city: Instance) -> None:
    run_cycle(city.cfg, source=city.clients.source, sink=city.clients.sink, as_of=AS_OF, now=NOW,
              store=city.store)  # fmt: skip


def cycle_parent(parent: Instance) -> None:
    sink = GoogleSink(parent.clients, parent.status_id, state=GoogleState())
    readers = Readers(parent.cfg, google=GoogleChildReader(parent.clients))
    run_federation(parent.cfg, sink=sink, as_of=AS_OF, now=NOW, readers=readers)


def measured(fake: FakeGoogle, clock: FakeWarpClock, inst: Instance, level: str, fn: Any) -> Run:
    fake.reset_counts()
    watch = Stopwatch(fake, clock)
    fn(inst)
    sim, _real, _fake_s, cpu = watch.stop()
    reads, writes, drive = split(fake.counts)
    return Run(inst.kode, level, inst.coops, reads, writes, drive, sim, cpu)


def national_pass(
    name: str, fake: FakeGoogle, clock: FakeWarpClock, cities: list[Instance],
    provinces: list[Instance], nation: Instance,
) -> Pass:  # fmt: skip
    p = Pass(name)
    watch = Stopwatch(fake, clock)
    for i, city in enumerate(cities, 1):
        p.runs.append(measured(fake, clock, city, "kab/kota", cycle_city))
        if i % 50 == 0:
            print(f"  {name}: {i}/{len(cities)} kab/kota", file=sys.stderr, flush=True)
    for province in provinces:
        p.runs.append(measured(fake, clock, province, "provinsi", cycle_parent))
    p.runs.append(measured(fake, clock, nation, "nasional", cycle_parent))
    _sim, p.real_s, _fake_s, p.cpu_s = watch.stop()
    return p


# ------------------------------------------------------------------------------ the check


def ringkasan(fake: FakeGoogle, sid: str) -> dict[str, Any]:
    return {str(r[0]): r[1] for r in fake.get_values(sid, "Ringkasan")[2:] if r and r[0] != ""}


def check_totals(fake: FakeGoogle, cities: list[Instance], nation: Instance) -> list[str]:
    """Every Ringkasan figure of the nation against the roll-up of the cities' own Ringkasan,
    by the catalogue's rules (sums; shares weighted by Jumlah KKMP). Returns the differences."""
    children = [ringkasan(fake, c.status_id) for c in cities]
    national = ringkasan(fake, nation.status_id)
    jumlah = sum(c["Jumlah KKMP"] for c in children)
    problems = []
    for f in pick(RINGKASAN):
        label = f.label_for(city=True)
        if f in ROLLED:
            expected: float = sum(c[label] for c in children)
        else:
            assert f in SHARES
            held = sum(round((c[label] or 0) * c["Jumlah KKMP"]) for c in children)
            expected = held / jumlah
        got = national.get(label)
        if not isinstance(got, int | float) or abs(got - expected) > 1e-9 * max(1, abs(expected)):
            problems.append(f"{label}: nasional {got!r}, jumlah kab/kota {expected!r}")
    return problems


# ------------------------------------------------------------------------------ the table


def level_lines(p: Pass) -> list[str]:
    out = []
    for level in LEVELS:
        runs = [r for r in p.runs if r.level == level]
        if not runs:
            continue
        big = max(runs, key=lambda r: (r.coops, r.sim_s))
        slow = max(runs, key=lambda r: r.sim_s)
        ratios = [r.sim_s / r.floor_s for r in runs if r.floor_s and level == LEVELS[0]]
        ratio = max(ratios, default=0)
        out.append(
            f"{p.name:<6}{level:<10}{len(runs):>5}{sum(r.coops for r in runs):>8}"
            f"{sum(r.reads for r in runs):>8}{sum(r.writes for r in runs):>8}"
            f"{sum(r.drive for r in runs):>7}{sum(r.total for r in runs):>8}"
            f"{sum(r.sim_s for r in runs):>10.0f}{slow.sim_s:>9.1f}"
            f"{sum(r.cpu_s for r in runs):>8.1f}  {big.kode} ({big.coops} coops: {big.total} req, {big.sim_s:.1f} sim s)"
            + (f"; max sim/floor {ratio:.2f}" if ratio else "")
        )
    return out


def fit(points: list[tuple[float, float]]) -> tuple[float, float]:
    """Least squares y = a + b·x."""
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    b = sum((x - mx) * (y - my) for x, y in points) / sxx if sxx else 0.0
    return my - b * mx, b


def extrapolation(cold: Pass, largest: Run | None) -> list[str]:
    """Scale 1.0 from this run's kab/kota cycles: CPU and requests as a + b·cooperatives per
    instance (fitted over every instance measured, the full-size largest among them), summed
    over the 514 instances at their real sizes. Labelled: it is not a measurement."""
    runs = [r for r in cold.runs if r.level == "kab/kota"]
    if largest and all(r.kode != largest.kode for r in runs):
        runs.append(largest)
    if len({r.coops for r in runs}) < 2:
        return ["(no extrapolation: every instance measured had the same size)"]
    real = [n for _, members in plan(1.0, None).items() for _, n in members]
    total = sum(real)
    out = [f"EXTRAPOLATED to scale 1.0 ({len(real)} kab/kota, {total} cooperatives), fitted "
           f"per instance over the {len(runs)} kab/kota cycles above (not measured):"]  # fmt: skip
    for what, get in (("client CPU s", lambda r: r.cpu_s), ("Sheets reads", lambda r: r.reads),
                      ("Sheets writes", lambda r: r.writes)):  # fmt: skip
        a, b = fit([(r.coops, get(r)) for r in runs])
        out.append(f"  {what}: {a:.2f} + {b:.4f} per coop per instance -> "
                   f"{len(real) * a + b * total:,.0f} for the cold kab/kota level")  # fmt: skip
    return out


def report(
    args: argparse.Namespace, passes: list[Pass], largest: Run | None, counts: dict[str, int],
    problems: list[str], setup_s: float,
) -> str:  # fmt: skip
    buf = io.StringIO()
    with redirect_stdout(buf):
        print(f"$ python bench/bench_national.py {' '.join(sys.argv[1:])}")
        print(f"date {date.today().isoformat()}; scale {args.scale} (max(1, round(n*scale)) "
              f"cooperatives per kab/kota; {LARGEST} at full size); regions "
              f"{args.regions or 'all'}; latency {args.latency * 1000:.0f} ms per request; "
              f"quota 60 reads + 60 writes /min per service account, 300 per project")  # fmt: skip
        print(f"instances: {counts['kab/kota']} kab/kota with {counts['coops']} cooperatives, "
              f"{counts['provinsi']} provinces, 1 nation (setup, not measured: {setup_s:.0f} s)")  # fmt: skip
        print()
        head = (
            f"{'pass':<6}{'level':<10}{'inst':>5}{'coops':>8}{'reads':>8}{'writes':>8}"
            f"{'drive':>7}{'total':>8}{'sum sim s':>10}{'max sim s':>9}{'CPU s':>8}  largest instance"
        )
        print(head)
        print("-" * len(head))
        for p in passes:
            for line in level_lines(p):
                print(line)
        print()
        for p in passes:
            coops = counts["coops"]
            nat = [r for r in p.runs if r.level != "kab/kota"]
            wall = max((r.sim_s for r in p.runs if r.level == "kab/kota"), default=0) + sum(
                max((r.sim_s for r in nat if r.level == lv), default=0) for lv in LEVELS[1:]
            )
            print(f"{p.name} pass: client CPU {p.cpu_s:.1f} s ({p.cpu_s / coops * 1000:.1f} s per "
                  f"1,000 coops), real {p.real_s:.0f} s here; with every instance on its own "
                  f"quota at the same time: {wall / 60:.1f} sim min (slowest kab/kota + slowest "
                  f"province + nation)")  # fmt: skip
        if largest:
            print(f"largest instance cold cycle ({LARGEST} Kabupaten Aceh Utara, {largest.coops} "
                  f"coops): {largest.reads} reads, {largest.writes} writes, {largest.drive} Drive, "
                  f"{largest.sim_s:.0f} sim s = {largest.sim_s / 60:.1f} min, "
                  f"{largest.sim_s / largest.floor_s:.2f} x quota floor, client CPU "
                  f"{largest.cpu_s:.1f} s")  # fmt: skip
        print()
        for line in extrapolation(passes[0], largest):
            print(line)
        print()
        if problems:
            print("CHECK FAILED: national totals differ from the sum of the cities:")
            for line in problems:
                print("  " + line)
        else:
            print(f"check: every Ringkasan figure of the nation ({len(pick(RINGKASAN))}) equals "
                  f"the roll-up of the {counts['kab/kota']} cities' Ringkasan: OK")  # fmt: skip
    return buf.getvalue()


@dataclass
class Outcome:
    passes: list[Pass]
    largest: Run | None
    counts: dict[str, int]
    problems: list[str]
    setup_s: float


def simulate(args: argparse.Namespace) -> Outcome:
    """Build the world on one fake, run a cold and an idle national pass, check the totals."""
    regions = [r.strip() for r in args.regions.split(",")] if args.regions else None
    tree = plan(args.scale, regions)
    started = time.perf_counter()
    with FakeGoogle(quota=QuotaConfig()) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.app.project_of = project_of_service_account  # one project per instance
        clock = FakeWarpClock(fake)
        fake.clock = clock.wall
        work = Path(tmp)
        cities: list[Instance] = []
        provinces: list[Instance] = []
        nation: list[Instance] = []
        try:
            for province, members in tree.items():
                kids = [add_city(fake, clock, kode, size, work) for kode, size in members]
                cities += kids
                provinces.append(add_parent(fake, clock, province, kids, work))
                print(f"  setup: province {province}, {len(kids)} kab/kota", file=sys.stderr,
                      flush=True)  # fmt: skip
            nation.append(add_parent(fake, clock, NATION, provinces, work))
            setup_s = time.perf_counter() - started
            fake.latency = args.latency
            passes = [
                national_pass(name, fake, clock, cities, provinces, nation[0])
                for name in ("cold", "idle")
            ]
            problems = check_totals(fake, cities, nation[0])
            largest = next((r for r in passes[0].runs if r.kode == LARGEST), None)
            if largest is None and not args.skip_largest:
                fake.latency = 0
                size = dict(plan(1.0, ["11"])["11"])[LARGEST]
                alone = add_city(fake, clock, LARGEST, size, work)
                cities.append(alone)  # closed below; not part of the tree's counts
                fake.latency = args.latency
                largest = measured(fake, clock, alone, "kab/kota", cycle_city)
        finally:
            for inst in [*cities, *provinces, *nation]:
                inst.clients.close()
                if inst.store:
                    inst.store.close()
    tree_cities = [c for c in cities if c.kode.split(".")[0] in tree]
    counts = {"kab/kota": len(tree_cities), "provinsi": len(provinces),
              "coops": sum(c.coops for c in tree_cities)}  # fmt: skip
    return Outcome(passes, largest, counts, problems, setup_s)


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawTextHelpFormatter)  # fmt: skip
    parser.add_argument("--scale", type=float, default=0.01)
    parser.add_argument("--regions", help="province codes, e.g. 32,36 (default: all 38)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per request")
    parser.add_argument("--skip-largest", action="store_true",
                        help="no separate full-size run of 11.08 when its province is left out")  # fmt: skip
    parser.add_argument("--out", type=Path, help="also write the table to this file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    logging.basicConfig(level=logging.ERROR)
    o = simulate(args)
    text = report(args, o.passes, o.largest, o.counts, o.problems, o.setup_s)
    print(text, end="")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
    return 1 if o.problems else 0


if __name__ == "__main__":
    sys.exit(main())

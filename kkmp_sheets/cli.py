"""The command line. Maps every outcome to an exit code in one place (`main`).

    kkmp-sheets run --once --config city.toml [--as-of 2026-01-29]
    kkmp-sheets demo [DIR] [--kode 31.73] [--size N]

Exit codes: 0 the cycle completed (even with data problems or unreadable workbooks: those are
reported, not fatal); 2 bad config; 3 an output cannot be written; 4 the registry cannot be
read; 1 anything else unexpected.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import date, datetime
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from kkmp_sheets import __version__, config, formats
from kkmp_sheets.errors import ConfigError, KkmpError

WIB = ZoneInfo("Asia/Jakarta")
log = logging.getLogger("kkmp_sheets")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        return int(args.func(args) or 0)
    except KkmpError as exc:
        print(f"kkmp-sheets: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kkmp-sheets: interrupted", file=sys.stderr)
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kkmp-sheets",
        description="Watch over Koperasi Desa/Kelurahan Merah Putih through their own spreadsheets.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run", help="run one cycle: check every workbook, write the status workbook"
    )
    run.add_argument("--once", action="store_true", required=True, help="run one cycle and exit")
    run.add_argument("--config", required=True, type=Path, help="the city config (.toml)")
    run.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="DATE",
        help="the day D the figures are computed for (YYYY-MM-DD, Asia/Jakarta; default today)",
    )
    run.add_argument("--no-mail", action="store_true", help="skip the digests this time")
    run.set_defaults(func=cmd_run)

    digest = sub.add_parser("digest", help="show the digests a cycle would send, without sending")
    digest.add_argument(
        "--dry-run",
        action="store_true",
        required=True,
        help="write them as .eml files and list them; send nothing, record nothing",
    )
    digest.add_argument("--config", required=True, type=Path, help="the city config (.toml)")
    digest.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="DATE",
        help="the day D (YYYY-MM-DD, Asia/Jakarta; default today)",
    )
    digest.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the .eml files (default: <data dir>/dry-run)",
    )
    digest.set_defaults(func=cmd_digest)

    demo = sub.add_parser("demo", help="build a realistic sample city and run one cycle on it")
    demo.add_argument(
        "dir",
        nargs="?",
        type=Path,
        default=Path("demo-kota"),
        help="folder to build the sample city in (default: ./demo-kota)",
    )
    demo.add_argument(
        "--kode",
        default="31.73",
        help="Kemendagri code of the city/kabupaten or province (default 31.73, Jakarta Barat)",
    )
    demo.add_argument(
        "--size",
        type=int,
        default=None,
        help="number of cooperatives (default: one per kelurahan/desa of --kode)",
    )
    demo.add_argument("--seed", type=int, default=2026, help="random seed (same seed, same city)")
    demo.add_argument(
        "--as-of",
        type=_as_of,
        default=date(2026, 1, 29),
        metavar="DATE",
        help="the day the sample data leads up to (default 2026-01-29)",
    )
    demo.add_argument("--workers", type=int, default=1, help="processes used to generate workbooks")
    demo.set_defaults(func=cmd_demo)
    return parser


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-01-29"
        ) from None


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )


# --- commands ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    as_of = args.as_of or datetime.now(WIB).date()
    cycle = run_once(cfg, as_of, mail=not args.no_mail)
    print_summary(cycle, sys.stdout)
    return 0


def run_once(
    cfg: config.Config, as_of: date, *, mail: bool = True, write: bool = True
):  # -> CycleResult
    """One cycle; then (with `mail`) history and digests. `write=False` leaves every file as is."""
    from dataclasses import replace

    from kkmp_sheets.outputs.base import NullSink
    from kkmp_sheets.pipeline import run_cycle
    from kkmp_sheets.wiring import make_sink, make_source

    now = datetime.now(WIB)
    source = make_source(cfg)
    sink = make_sink(cfg) if write else NullSink()
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    try:
        cycle = run_cycle(
            cfg if write else replace(cfg, write_feedback=False),
            source=source,
            sink=sink,
            as_of=as_of,
            now=now,
            progress=progress,
        )
    finally:
        if progress:
            progress.close()
    if mail and write:
        from kkmp_sheets.notify import record_and_notify

        cycle.notified = record_and_notify(cycle, cfg, now)
    return cycle


def cmd_digest(args: argparse.Namespace) -> int:
    from kkmp_sheets.notify import dry_run

    cfg = config.load(args.config)
    as_of = args.as_of or datetime.now(WIB).date()
    folder = args.out or cfg.data_dir / "dry-run"
    cycle = run_once(cfg, as_of, mail=False, write=False)
    notified = dry_run(cycle, cfg, datetime.now(WIB), folder)
    for d in notified.digests:
        to = ", ".join(d.recipients()) or "(belum ada penerima)"
        print(f"{d.key.kind:<10} {d.key.audience:<34} {to:<40} {d.subject}")
    print(f"\n{len(notified.digests)} email ditulis ke {folder} (tidak dikirim)")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from kkmp_sheets.demo import build_demo_city

    root: Path = args.dir
    if root.exists() and any(root.iterdir()) and not (root / "city.toml").is_file():
        raise ConfigError(f"{root} exists and is not a demo city: choose an empty or new folder")
    print(f"Membangun kota contoh di {root} ...", file=sys.stderr)
    city = build_demo_city(
        root, kode=args.kode, size=args.size, seed=args.seed, as_of=args.as_of, workers=args.workers
    )
    cfg = config.load(city.config_path)
    cycle = run_once(cfg, args.as_of)
    print_summary(cycle, sys.stdout)
    print(
        f"\nLihat:\n"
        f"  status kota      {cfg.output_path}\n"
        f"  hasil per KKMP   tab 'Hasil Pemeriksaan' di {city.root / 'workbooks'}/*.xlsx\n"
        f"  email (outbox)   {cfg.outbox_dir}\n"
        f"Jalankan lagi:  kkmp-sheets run --once --config {city.config_path} --as-of {args.as_of}"
    )
    return 0


# --- terminal output --------------------------------------------------------------------------


class ProgressBar:
    """A one-line bar on stderr while workbooks are read (only on a terminal)."""

    def __init__(self, stream: TextIO, width: int = 30):
        self.stream = stream
        self.width = width

    def __call__(self, done: int, total: int, coop_id: str) -> None:
        filled = int(self.width * done / total) if total else self.width
        bar = "█" * filled + "·" * (self.width - filled)
        self.stream.write(f"\rMembaca {bar} {done}/{total} {coop_id[:24]:<24}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * (self.width + 45) + "\r")
        self.stream.flush()


def print_summary(cycle, out: TextIO) -> None:  # cycle: CycleResult
    s = cycle.summary
    rows = [
        ("Tanggal data", formats.format_date(cycle.as_of)),
        ("Jumlah KKMP", formats.format_number(s.jumlah)),
        ("KKMP Aktif", formats.format_number(s.aktif)),
        ("Zona Hijau / Kuning / Merah", f"{s.hijau} / {s.kuning} / {s.merah}"),
        ("Tidak terbaca", formats.format_number(len(cycle.unreadable))),
        ("Anggota Aktif", formats.format_number(s.anggota_aktif)),
        ("Omset 30 Hari", formats.format_rupiah(s.omset)),
        ("Masalah data", f"{s.galat} galat, {s.peringatan} peringatan"),
        (
            "Hasil Pemeriksaan ditulis",
            f"{cycle.feedback_written} (tidak berubah {cycle.feedback_unchanged}, "
            f"gagal {len(cycle.feedback_failed)})",
        ),
        ("Waktu", f"{cycle.seconds:.1f} detik"),
        ("Status kota", cycle.output),
    ]
    width = max(len(label) for label, _ in rows)
    out.write("\n".join(f"{label:<{width}}  {value}" for label, value in rows) + "\n")
    notified = getattr(cycle, "notified", None)
    if notified is not None and notified.report is not None:
        r = notified.report
        out.write(
            f"{'Email':<{width}}  {len(notified.digests)} digest; terkirim {r.sent}, "
            f"sudah terkirim {r.skipped_already_sent}, antre {r.queued_for_retry}, "
            f"gagal {r.failed_permanent}, tidak pasti {r.uncertain}\n"
        )
    for coop_id, error in cycle.feedback_failed:
        out.write(f"  ! {coop_id}: Hasil Pemeriksaan tidak ditulis: {error}\n")

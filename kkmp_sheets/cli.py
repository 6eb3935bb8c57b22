"""The command line. Maps every outcome to an exit code in one place (`main`).

    kkmp-sheets run --once --config city.toml [--as-of 2026-01-29] [--no-mail]
    kkmp-sheets serve --config city.toml
    kkmp-sheets status --config city.toml
    kkmp-sheets history COOP --config city.toml
    kkmp-sheets restore COOP --tab Anggota --date 2026-01-28 --config city.toml [--to-file F]
    kkmp-sheets confirm COOP --config city.toml
    kkmp-sheets demo [DIR] [--kode 31.73] [--size N]
    kkmp-sheets provision (ID ... | --all | --status) --config city.toml
    kkmp-sheets check --config city.toml
    kkmp-sheets fleet (schedule | k8s | status | enqueue) --instances DIR ...

Exit codes: 0 the cycle completed (even with data problems or unreadable workbooks: those are
reported, not fatal), or serve stopped cleanly; 2 bad config (or a command asking for what
cannot be, e.g. an ID not in the registry, an --as-of after tomorrow without --allow-future);
3 an output cannot be written (also: a workbook could not be provisioned); 4 the registry
cannot be read, or lacks a required column or has an ID on two rows (then nothing is written);
5 another serve already runs with the same data folder; 6 the cooperative, snapshot or tab
asked for is not in the history store; 7 `check` found a GALAT; 130 interrupted; 141 the reader
of stdout went away (`status --json | head -1`); 1 anything else unexpected. (The codes live on the
exceptions of `errors.py`; `main` maps them.)
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TextIO

from kkmp_sheets import __version__, config
from kkmp_sheets.core import formats
from kkmp_sheets.core.wib import WIB
from kkmp_sheets.errors import ConfigError, KkmpError, UsageError

log = logging.getLogger("kkmp_sheets")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    _setup_logging(args.verbose)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a reader that left early is noticed here, not at exit
        return code
    except BrokenPipeError:
        return _stdout_closed()
    except KkmpError as exc:
        print(f"kkmp-sheets: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("kkmp-sheets: interrupted", file=sys.stderr)
        return 130


def _stdout_closed() -> int:
    """The reader of stdout went away (`kkmp-sheets status --json | head -1`): end quietly.

    What is still buffered cannot be written, and Python would complain when it tries again at
    exit; stdout is pointed at devnull instead (the recipe of the `signal` module's docs). The
    exit code is a shell's for a process ended by SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


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
    _allow_future(run)
    run.add_argument(
        "--no-mail",
        action="store_true",
        help="send no digest this time (the cycle is still recorded in the history store)",
    )
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
    _allow_future(digest)
    digest.add_argument(
        "--out",
        type=Path,
        default=None,
        help="folder for the .eml files (default: <data dir>/dry-run)",
    )
    digest.set_defaults(func=cmd_digest)

    report = sub.add_parser(
        "report",
        help="write the Laporan Pimpinan PDFs now (checks every workbook, writes nothing else)",
    )
    report.add_argument("--config", required=True, type=Path, help="the city config (.toml)")
    report.add_argument(
        "--kecamatan", default=None, metavar="NAME", help="only this kecamatan's report"
    )
    report.add_argument(
        "--as-of",
        type=_as_of,
        default=None,
        metavar="DATE",
        help="the day D (YYYY-MM-DD, Asia/Jakarta; default today)",
    )
    _allow_future(report)
    report.set_defaults(func=cmd_report)

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
    _allow_future(demo)
    demo.add_argument("--workers", type=int, default=1, help="processes used to generate workbooks")
    demo.add_argument(
        "--google-fake",
        action="store_true",
        help="run the cycle in Google mode, against a local fake of the Sheets and Drive APIs "
        "started in this process (no Google account needed)",
    )
    demo.set_defaults(func=cmd_demo)
    _add_service_commands(sub)
    _add_onboarding_commands(sub)
    _add_fleet_commands(sub)
    return parser


def _as_of(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date: use YYYY-MM-DD, e.g. 2026-01-29"
        ) from None


def _allow_future(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--allow-future",
        action="store_true",
        help="accept an --as-of after tomorrow (WIB); such a cycle is never recorded in history "
        "and sends no digest",
    )


def _as_of_day(args: argparse.Namespace) -> tuple[date, bool]:
    """The day D (--as-of, default today in WIB), and whether its cycle may be recorded.

    A day after tomorrow has not come anywhere in Indonesia: its figures are not history. It
    is refused unless --allow-future is given, and then never recorded."""
    today = datetime.now(WIB).date()
    as_of: date = args.as_of or today
    tomorrow = today + timedelta(days=1)
    if as_of <= tomorrow:
        return as_of, True
    if not args.allow_future:
        raise UsageError(
            f"--as-of {as_of.isoformat()} is after tomorrow ({tomorrow.isoformat()} WIB): check "
            "the date, or add --allow-future to run it anyway (such a cycle is never recorded "
            "in history and sends no digest)"
        )
    return as_of, False


class WibFormatter(logging.Formatter):
    """Log times in WIB, saying so (`2026-01-29 07:00:03 WIB`), whatever the machine's zone:
    the schedule, `status` and every output speak WIB, and a journal is read next to them."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.fromtimestamp(record.created, WIB)
        return moment.strftime(datefmt or "%Y-%m-%d %H:%M:%S WIB")


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(WibFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level, handlers=[handler])


# --- commands ---------------------------------------------------------------------------------


def cmd_run(args: argparse.Namespace) -> int:
    cfg = config.load(args.config)
    as_of, recorded = _as_of_day(args)
    if cfg.source_kind == "federation":  # a province or the nation: docs/federation.md
        from kkmp_sheets.service.federation import run_federation_once, summary_text

        fed = run_federation_once(cfg, as_of, mail=not args.no_mail, record=recorded)
        print(summary_text(fed), end="")
        return 0
    from kkmp_sheets.service.summary import print_summary

    cycle = run_once(cfg, as_of, mail=not args.no_mail, record=recorded)
    print_summary(cycle, sys.stdout)
    if not recorded:
        print(NOT_RECORDED)
    return 0


NOT_RECORDED = (
    "Tanggal data setelah besok (--allow-future): siklus ini tidak dicatat di riwayat "
    "dan tidak ada email yang dikirim."
)


def run_once(
    cfg: config.Config,
    as_of: date,
    *,
    mail: bool = True,
    write: bool = True,
    record: bool = True,
):  # -> CycleResult
    """One cycle, recorded in the history store; then (with `mail`) its digests. `write=False`
    leaves every file as is (a dry run). `record=False` (a day after tomorrow): nothing of the
    cycle is recorded (history, snapshots, Riwayat row) and no digest goes out, since the
    delivery ledger would count that day's (or this week's) digests as delivered."""
    from dataclasses import replace

    from kkmp_sheets.outputs.base import NullSink
    from kkmp_sheets.service.cycle import load_registry, run_cycle
    from kkmp_sheets.service.wiring import close, make_sink, make_source, published_at
    from kkmp_sheets.store.history import HistoryStore

    now = datetime.now(WIB)
    source = make_source(cfg)
    sink = make_sink(cfg, source=source) if write else NullSink(published_at(cfg))
    progress = ProgressBar(sys.stderr) if sys.stderr.isatty() else None
    store = None
    try:
        registry = load_registry(cfg, source)  # a registry error stops here: nothing written
        store = HistoryStore.for_config(cfg) if write else None  # snapshots, Riwayat, the day
        cycle = run_cycle(
            cfg if write else replace(cfg, write_feedback=False),
            source=source,
            sink=sink,
            as_of=as_of,
            now=now,
            progress=progress,
            store=store,
            registry=registry,
            recorded=record,
            reports=write,
        )
        if store is not None and record:
            store.record_cycle(cycle)  # with or without mail: `status` and Riwayat see it
            store.prune(cfg.snapshot_days, now=now)
    finally:
        if progress:
            progress.close()
        if store is not None:
            store.close()
        close(source, sink)  # Google mode: its HTTP session and state file
    if mail and write and record:
        from kkmp_sheets.service.notify import record_and_notify

        cycle.notified = record_and_notify(cycle, cfg, now, record=False)  # recorded above
    return cycle


def cmd_digest(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.notify import dry_run

    cfg = config.load(args.config)
    as_of, _ = _as_of_day(args)  # a dry run records nothing in any case
    folder = args.out or cfg.data_dir / "dry-run"
    cycle = run_once(cfg, as_of, mail=False, write=False)
    notified = dry_run(cycle, cfg, datetime.now(WIB), folder)
    for d in notified.digests:
        to = ", ".join(d.recipients()) or "(belum ada penerima)"
        print(f"{d.key.kind:<10} {d.key.audience:<34} {to:<40} {d.subject}")
    count = formats.format_number(len(notified.digests))
    print(f"\n{count} email ditulis ke {folder} (tidak dikirim)")
    if notified.channel_messages:
        print("\nWhatsApp/Telegram (tidak dikirim; nomor disamarkan):")
        for m in notified.channel_messages:
            muted = " [dibisukan]" if m.muted else ""
            print(f"{m.channel:<9} {m.key.kind:<10} {m.shown_recipient():<18}{muted}")
            print("    " + m.preview().replace("\n", "\n    "))
        print(f"\n{len(notified.channel_messages)} pesan WhatsApp/Telegram (tidak dikirim)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.laporan import on_demand

    cfg = config.load(args.config)
    as_of, _ = _as_of_day(args)
    cycle = run_once(cfg, as_of, mail=False, write=False)  # read and check; nothing written
    for path in on_demand(cfg, cycle, args.kecamatan).values():
        print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from kkmp_sheets.demo import build_demo_city

    root: Path = args.dir
    as_of, recorded = _as_of_day(args)
    if root.exists() and any(root.iterdir()) and not (root / "city.toml").is_file():
        raise ConfigError(f"{root} exists and is not a demo city: choose an empty or new folder")
    print(f"Membangun kota contoh di {root} ...", file=sys.stderr)
    city = build_demo_city(
        root, kode=args.kode, size=args.size, seed=args.seed, as_of=as_of, workers=args.workers
    )
    if args.google_fake:
        from kkmp_sheets.demo.google import run_google_demo

        run_google_demo(city, as_of, sys.stdout)
        return 0
    from kkmp_sheets.service.summary import print_summary

    cfg = config.load(city.config_path)
    cycle = run_once(cfg, as_of, record=recorded)
    print_summary(cycle, sys.stdout)
    if not recorded:
        print(NOT_RECORDED)
    print(
        f"\nLihat:\n"
        f"  status kota      {cfg.output_path}\n"
        f"  hasil per KKMP   tab 'Hasil Pemeriksaan' di {city.root / 'workbooks'}/*.xlsx\n"
        f"  email (outbox)   {cfg.outbox_dir}\n"
        f"Jalankan lagi:  kkmp-sheets run --once --config {city.config_path} --as-of {as_of}"
        + ("" if recorded else " --allow-future")
    )
    return 0


# --- the scheduled service and its memory --------------------------------------------------------


def _add_service_commands(sub: argparse._SubParsersAction) -> None:
    config_help = "the city config (.toml)"
    serve = sub.add_parser(
        "serve",
        help="run the schedule: sync every N minutes, digests at set WIB times ([schedule])",
        description="Runs until stopped (SIGTERM/SIGINT stop it between jobs). One instance per "
        "data folder. Logs go to stderr (the journal under systemd).",
    )
    serve.add_argument("--config", required=True, type=Path, help=config_help)
    serve.set_defaults(func=cmd_serve)

    status = sub.add_parser("status", help="is serve running; when each job last ran and how")
    status.add_argument("--config", required=True, type=Path, help=config_help)
    status.add_argument("--json", action="store_true", help="print status.json as it is")
    status.set_defaults(func=cmd_status)

    history = sub.add_parser(
        "history", help="a cooperative's figures over time, its snapshots, what is held"
    )
    history.add_argument("coop", metavar="COOP", help="the cooperative's ID in the registry")
    history.add_argument("--config", required=True, type=Path, help=config_help)
    history.add_argument("--days", type=int, default=None, help="only the last N recorded days")
    history.set_defaults(func=cmd_history)

    restore = sub.add_parser(
        "restore",
        help="give back a tab from a snapshot, as a NEW tab (never over the current one)",
        description="Writes the tab as it stood at the end of DATE (WIB) into the cooperative's "
        "workbook as a new tab named '<tab> (pulihan DATE)', or with --to-file into a separate "
        ".xlsx. The rows hold personal data: give them only to the cooperative.",
    )
    restore.add_argument("coop", metavar="COOP", help="the cooperative's ID in the registry")
    restore.add_argument("--tab", required=True, help="the tab to give back, e.g. Anggota")
    restore.add_argument(
        "--date",
        required=True,
        type=_moment,
        metavar="DATE",
        help="YYYY-MM-DD: the tab as it stood at the end of that day (WIB); or 'YYYY-MM-DD HH:MM' "
        "for the snapshot taken by then (see the times in `kkmp-sheets history COOP`)",
    )
    restore.add_argument("--config", required=True, type=Path, help=config_help)
    restore.add_argument(
        "--to-file", type=Path, default=None, metavar="PATH", help="write a new .xlsx instead"
    )
    restore.set_defaults(func=cmd_restore)

    confirm = sub.add_parser(
        "confirm", help="accept a held sudden drop as real: its new figures are used from now on"
    )
    confirm.add_argument("coop", metavar="COOP", help="the cooperative's ID in the registry")
    confirm.add_argument("--config", required=True, type=Path, help=config_help)
    confirm.set_defaults(func=cmd_confirm)

    deliveries = sub.add_parser(
        "deliveries",
        help="digests queued, failed or uncertain; resend one, or mark it delivered",
        description="Lists every delivery not (certainly) delivered: ID, kind, audience, period, "
        "recipient (masked), state, the step its last attempt reached, attempts and the last "
        "error. 'uncertain' means the connection was lost after the whole message was sent: "
        "check whether it arrived, then --mark-delivered ID or --resend ID.",
    )
    deliveries.add_argument("--config", required=True, type=Path, help=config_help)
    action = deliveries.add_mutually_exclusive_group()
    action.add_argument(
        "--resend",
        type=_delivery_id,
        metavar="ID",
        help="queue that delivery again and send what is queued now (cID: a WhatsApp/Telegram "
        "message)",
    )
    action.add_argument(
        "--mark-delivered",
        type=_delivery_id,
        metavar="ID",
        help="record that it arrived: never resent (cID: a WhatsApp/Telegram message)",
    )
    action.add_argument("--json", action="store_true", help="the list as JSON")
    deliveries.set_defaults(func=cmd_deliveries)


def _delivery_id(text: str) -> int | str:
    """An e-mail delivery's number (12), or a WhatsApp/Telegram message's (c12)."""
    text = text.strip().lower()
    if text.isdigit():
        return int(text)
    if text.startswith("c") and text[1:].isdigit():
        return text
    raise argparse.ArgumentTypeError(f"{text!r}: expected an ID from the list, e.g. 12 or c12")


def cmd_deliveries(args: argparse.Namespace) -> int:
    from kkmp_sheets.service import deliveries

    cfg = config.load(args.config)
    if args.resend is not None:
        print(deliveries.resend(cfg, args.resend), end="")
    elif args.mark_delivered is not None:
        print(deliveries.mark_delivered(cfg, args.mark_delivered), end="")
    elif args.json:
        print(deliveries.pending_json(cfg), end="")
    else:
        print(deliveries.pending_text(cfg), end="")
    return 0


def _moment(text: str) -> date | datetime:
    """A day, or a WIB time of day ('2026-01-28 09:00' or '2026-01-28T09:00')."""
    if len(text.strip()) <= 10:
        return _as_of(text)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a date or time: use YYYY-MM-DD or 'YYYY-MM-DD HH:MM' (WIB)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=WIB)


def cmd_serve(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.serve import Service

    cfg = config.load(args.config)
    if args.verbose == 0:  # a service logs what it does; -v is for one-off commands
        log.setLevel(logging.INFO)
    Service(cfg).run()
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.status import STATUS_FILE, status_text

    cfg = config.load(args.config)
    if args.json:
        path = cfg.data_dir / STATUS_FILE
        print(path.read_text(encoding="utf-8") if path.is_file() else "{}")
    else:
        print(status_text(cfg), end="")
        print(last_cycle_text(cfg), end="")
    return 0


def last_cycle_text(cfg: config.Config) -> str:
    """The last cycle recorded in the history store, by `serve` or by `run --once`."""
    from kkmp_sheets.store.history import HISTORY_FILE, HistoryStore

    path = cfg.data_dir / HISTORY_FILE
    if not path.is_file():
        return "\nlast cycle: none recorded yet (kkmp-sheets run --once, or serve)\n"
    with HistoryStore(path) as store:
        last = store.last_recorded()
    if last is None:
        return "\nlast cycle: none recorded yet (kkmp-sheets run --once, or serve)\n"
    day, at, city = last
    n = formats.format_number
    return (
        f"\nlast cycle: recorded {at.astimezone(WIB):%Y-%m-%d %H:%M} WIB, data of "
        f"{day.isoformat()}: {n(city['jumlah'])} cooperatives, {n(city['hijau'])} Hijau, "
        f"{n(city['kuning'])} Kuning, {n(city['merah'])} Merah\n"
    )


def cmd_history(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.restore import history_text

    print(history_text(config.load(args.config), args.coop, days=args.days), end="")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.restore import restore

    done = restore(config.load(args.config), args.coop, args.tab, args.date, to_file=args.to_file)
    where = "new file" if args.to_file else "new tab"
    print(
        f"{done.coop_id}: {done.tab} ({done.rows} rows) from the snapshot taken "
        f"{done.taken_at.astimezone(WIB):%Y-%m-%d %H:%M} WIB (unchanged until "
        f"{done.seen_until.astimezone(WIB):%Y-%m-%d %H:%M}) written as {where} "
        f"{done.title!r} in {done.path}.\n"
        "It holds personal data: hand it only to this cooperative. The current tab is untouched."
    )
    return 0


def cmd_confirm(args: argparse.Namespace) -> int:
    from kkmp_sheets.service.restore import confirm_text

    print(confirm_text(config.load(args.config), args.coop, datetime.now(WIB)), end="")
    return 0


# --- onboarding a city: provision and check ------------------------------------------------------


def _add_onboarding_commands(sub: argparse._SubParsersAction) -> None:
    provision = sub.add_parser(
        "provision",
        help="create cooperative workbooks from the template; --status: the city status sheet",
        description="Creates each cooperative's workbook from the template (local: an .xlsx in "
        "[provision] folder; Google: a spreadsheet in [provision] google_folder, shared with its "
        "Email Pengurus) and records it in the registry. Rows that already have one are left "
        "alone, so running it again creates nothing twice.",
    )
    provision.add_argument("ids", nargs="*", metavar="ID", help="registry IDs to provision")
    provision.add_argument(
        "--all", dest="every", action="store_true", help="every registry row without a workbook"
    )
    provision.add_argument(
        "--status",
        action="store_true",
        help="create the city status spreadsheet (Google) or its folder (local), shared with "
        "[provision] status_readers (default [mail] officials) as readers",
    )
    provision.add_argument(
        "--blank",
        type=Path,
        metavar="FILE",
        help="only write the blank template to FILE (.xlsx), e.g. to upload as a Google template",
    )
    provision.add_argument("--config", type=Path, help="the city config (.toml)")
    provision.set_defaults(func=cmd_provision)

    check = sub.add_parser(
        "check",
        help="before the first cycle: config, registry rows, access to every workbook, mail",
        description="One line per finding (OK, GALAT, PERINGATAN), each with what to do. Changes "
        "nothing. Exit code 7 when there is a GALAT.",
    )
    check.add_argument("--config", required=True, type=Path, help="the city config (.toml)")
    check.add_argument(
        "--smtp-timeout", type=float, default=10.0, help="seconds to wait for the SMTP server"
    )
    check.set_defaults(func=cmd_check)


def cmd_provision(args: argparse.Namespace) -> int:
    from kkmp_sheets.errors import OutputError, UsageError
    from kkmp_sheets.onboarding import provision

    if args.blank:
        print(f"template written: {provision.write_blank(args.blank)}")
        return 0
    if args.config is None:
        raise UsageError("provision needs --config (or --blank FILE)")
    if not (args.ids or args.every or args.status):
        raise UsageError("name the registry IDs to provision, or --all, or --status")
    cfg = provision.load_for_provision(args.config)  # the status spreadsheet may be to come
    done = []
    if args.status:
        done.append(provision.provision_status(cfg))
    if args.ids or args.every:
        done.append(provision.provision(cfg, args.ids, every=args.every))
    for report in done:
        print(report.text(), end="")
    failed = [o for report in done for o in report.failed]
    if failed:
        raise OutputError(
            f"{len(failed)} workbook(s) not provisioned (see above); run the same command "
            "again to retry: what was made is not made twice"
        )
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    from kkmp_sheets.errors import ChecksFailed
    from kkmp_sheets.onboarding.check import report, run_checks

    text, errors = report(run_checks(args.config, smtp_timeout=args.smtp_timeout))
    print(text, end="")
    if errors:
        raise ChecksFailed(f"{errors} GALAT: fix them (see each line) and run check again")
    return 0


# --- many instances: the Celery fleet and Kubernetes CronJobs (kkmp_sheets/fleet/) -------------


def _add_fleet_commands(sub: argparse._SubParsersAction) -> None:
    fleet = sub.add_parser(
        "fleet",
        help="many instances on several machines: beat schedule, CronJobs, who is behind",
        description="One instance per config file in --instances DIR (*.toml or */city.toml). "
        "Workers: celery -A kkmp_sheets.fleet.app worker (docs/operator.md, 'Many instances').",
    )
    cmds = fleet.add_subparsers(dest="fleet_command", required=True, metavar="FLEET_COMMAND")
    folder = {"type": Path, "metavar": "DIR", "help": "the folder of instance configs"}
    every = {"type": int, "default": None, "help": "minutes between two cycles of one instance"}

    plan = cmds.add_parser("schedule", help="the beat schedule: when each instance runs (WIB)")
    where = plan.add_mutually_exclusive_group(required=True)
    where.add_argument("--instances", **folder)
    where.add_argument(
        "--regions",
        nargs="?",
        const="",
        metavar="CODE",
        help="every kabupaten/kota of the region list (under a province CODE, if given)",
    )
    plan.add_argument("--every", **every)
    plan.add_argument("--json", action="store_true", help="the schedule as JSON")
    plan.set_defaults(func=cmd_fleet_schedule)

    k8s = cmds.add_parser("k8s", help="write a Kubernetes CronJob and volume claim per instance")
    k8s.add_argument("--instances", required=True, **folder)
    k8s.add_argument("--out", required=True, type=Path, help="folder for the manifests")
    k8s.add_argument("--image", default=f"kkmp-sheets:{__version__}", help="the container image")
    k8s.add_argument("--namespace", default="kkmp", help="the Kubernetes namespace")
    k8s.add_argument("--every", **every)
    k8s.set_defaults(func=cmd_fleet_k8s)

    status = cmds.add_parser("status", help="which instances are behind (their history stores)")
    status.add_argument("--instances", required=True, **folder)
    status.add_argument(
        "--behind-hours", type=float, default=None, help="behind after (default two periods)"
    )
    status.add_argument("--redis", action="store_true", help="add lock holders and last runs")
    status.add_argument("--json", action="store_true", help="the list as JSON")
    status.set_defaults(func=cmd_fleet_status)

    run = cmds.add_parser("enqueue", help="queue cycles now (beside the schedule)")
    run.add_argument("codes", nargs="*", metavar="KODE", help="region codes of the instances")
    run.add_argument("--all", dest="every", action="store_true", help="every instance")
    run.add_argument("--instances", required=True, **folder)
    run.set_defaults(func=cmd_fleet_enqueue)


def cmd_fleet_schedule(args: argparse.Namespace) -> int:
    from kkmp_sheets.fleet.commands import schedule_text

    print(schedule_text(args.instances, args.regions, args.every, args.json), end="")
    return 0


def cmd_fleet_k8s(args: argparse.Namespace) -> int:
    from kkmp_sheets.fleet.commands import k8s_text

    print(k8s_text(args.instances, args.out, args.image, args.namespace, args.every), end="")
    return 0


def cmd_fleet_status(args: argparse.Namespace) -> int:
    from kkmp_sheets.fleet.commands import status_text

    print(status_text(args.instances, args.behind_hours, args.json, args.redis), end="")
    return 0


def cmd_fleet_enqueue(args: argparse.Namespace) -> int:
    from kkmp_sheets.fleet.commands import enqueue_text

    print(enqueue_text(args.instances, args.codes, args.every), end="")
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
        count = f"{formats.format_number(done)}/{formats.format_number(total)}"
        self.stream.write(f"\rMembaca {bar} {count} {coop_id[:24]:<24}")
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r" + " " * (self.width + 45) + "\r")
        self.stream.flush()

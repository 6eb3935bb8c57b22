"""Build the source and sink a config asks for. The one place that knows every kind."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from kkmp_sheets.config import Config
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.outputs.base import Sink
from kkmp_sheets.sources.base import Source

if TYPE_CHECKING:
    from kkmp_sheets.google.source import FileState, GoogleSource


def make_source(cfg: Config) -> Source:
    if cfg.source_kind == "local":
        from kkmp_sheets.sources.local import LocalSource

        return LocalSource(
            cfg.registry, roots=cfg.workbook_roots, work_dir=cfg.data_dir, limits=cfg.limits
        )
    if cfg.source_kind == "google":
        from kkmp_sheets.google.api import connect
        from kkmp_sheets.google.source import GoogleSource
        from kkmp_sheets.google.state import GoogleState

        api = connect(cfg.google)
        return GoogleSource(
            api,
            cfg.registry,
            state=GoogleState.in_folder(cfg.data_dir),
            feedback=cfg.write_feedback,
        )
    if cfg.source_kind == "federation":
        raise ConfigError(
            '[source] kind = "federation" (a province or national instance) runs with '
            "`kkmp-sheets run --once` or `serve` (docs/federation.md); `check`, `digest`, "
            "`restore` and `confirm` are for a city's own cooperatives"
        )
    raise ConfigError(f'[source] kind = {cfg.source_kind!r} is not known: use "local" or "google"')


def published_at(cfg: Config) -> str:
    """Where a real run publishes the status workbook, as `Sink.link` gives it (without the tab,
    which only a publish places): for a dry run's digests, which write nothing."""
    if cfg.output_kind == "local":
        return cfg.output_path.resolve().as_uri()
    from kkmp_sheets.google.ids import file_id

    sid = file_id(cfg.output_spreadsheet)
    return f"https://docs.google.com/spreadsheets/d/{sid}/edit" if sid else ""


def make_sink(cfg: Config, source: Source | None = None) -> Sink:
    """The sink; given the cycle's Google `source`, a Google sink shares its Drive listing."""
    if cfg.output_kind == "local":
        from kkmp_sheets.outputs.local import LocalSink

        return LocalSink(cfg.output_path)
    if cfg.output_kind == "google":
        from kkmp_sheets.google.api import connect
        from kkmp_sheets.google.sink import GoogleSink
        from kkmp_sheets.google.source import GoogleSource
        from kkmp_sheets.google.state import GoogleState

        listing = _listing_of(source) if isinstance(source, GoogleSource) else None
        return GoogleSink(
            connect(cfg.google),
            cfg.output_spreadsheet,
            state=GoogleState.in_folder(cfg.data_dir),
            listing=listing,
            budget=int(cfg.google.request_budget_mb * 1024 * 1024),
        )
    raise ConfigError(f'[output] kind = {cfg.output_kind!r} is not known: use "local" or "google"')


def close(source: Source, sink: Sink) -> None:
    """Close what the source and the sink hold open (Google mode: an HTTP session, a state file);
    the sink even when closing the source failed."""
    try:
        source.close()
    finally:
        sink.close()


def _listing_of(source: GoogleSource) -> Callable[[], dict[str, FileState] | None]:
    return lambda: source.listing

"""Build the source and sink a config asks for. The one place that knows every kind."""

from __future__ import annotations

from kkmp_sheets.config import Config
from kkmp_sheets.errors import ConfigError
from kkmp_sheets.outputs.base import Sink
from kkmp_sheets.sources.base import Source


def make_source(cfg: Config) -> Source:
    if cfg.source_kind == "local":
        from kkmp_sheets.sources.local import LocalSource

        return LocalSource(cfg.registry)
    raise ConfigError(f'[source] kind = {cfg.source_kind!r} is not available yet: use "local"')


def make_sink(cfg: Config) -> Sink:
    if cfg.output_kind == "local":
        from kkmp_sheets.outputs.local import LocalSink

        return LocalSink(cfg.output_path)
    raise ConfigError(f'[output] kind = {cfg.output_kind!r} is not available yet: use "local"')

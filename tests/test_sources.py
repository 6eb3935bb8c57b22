"""Every source offers the whole `Source` Protocol, its optional capabilities included, so the
pipeline calls them plainly (mypy checks the same through `wiring.make_source`)."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from kkmp_sheets.clock import WarpClock
from kkmp_sheets.core.registry import Coop
from kkmp_sheets.google.sink import GoogleSink
from kkmp_sheets.google.source import GoogleSource
from kkmp_sheets.outputs.base import NullSink, Sink
from kkmp_sheets.outputs.local import LocalSink
from kkmp_sheets.service import wiring
from kkmp_sheets.sources.base import Source
from kkmp_sheets.sources.local import LocalSource
from kkmp_sheets.testing import FakeGoogle
from kkmp_sheets.testing.google_city import GoogleCity, connect_fake

COOP = Coop("K1", "KKMP Kedoya Selatan", "Kedoya Selatan", "Kebon Jeruk", None, "k1.xlsx")


def members(protocol: type) -> list[str]:
    """The attributes and methods a Protocol declares (its own, not `object`'s)."""
    names = set(getattr(protocol, "__annotations__", {}))
    names |= {n for n, v in vars(protocol).items() if callable(v) and not n.startswith("_")}
    return sorted(names)


@pytest.mark.parametrize(("protocol", "kinds"), [(Source, [LocalSource, GoogleSource])])
def test_each_source_class_has_every_member_with_the_protocols_parameters(protocol, kinds):
    declared = members(protocol)
    assert {"early_feedback", "unchanged", "version", "close"} <= set(declared)
    for kind in kinds:
        for name in declared:
            assert hasattr(kind, name), f"{kind.__name__} lacks {name}"
            wanted = getattr(protocol, name, None)
            if callable(wanted):
                have = list(inspect.signature(getattr(kind, name)).parameters)
                assert have == list(inspect.signature(wanted).parameters), (kind, name)


@pytest.mark.parametrize("kinds", [[LocalSink, NullSink, GoogleSink]])
def test_each_sink_class_can_be_closed(kinds):
    for kind in kinds:
        assert set(members(Sink)) <= set(dir(kind)), kind.__name__


def test_a_local_source_is_a_source_with_neutral_capabilities(tmp_path: Path):
    source = LocalSource(tmp_path / "registry.csv")
    assert isinstance(source, Source)
    assert source.early_feedback is False  # Hasil Pemeriksaan after the cycle
    assert source.unchanged(COOP, "7") is False  # always read
    assert source.version(COOP) is None
    source.close()


def test_a_google_source_is_a_source():
    with FakeGoogle() as fake:
        clients = connect_fake(fake, GoogleCity("r" * 30, "s" * 30), clock=WarpClock())
        try:
            assert isinstance(clients.source, Source)
            assert isinstance(clients.sink, Sink)
            assert clients.source.early_feedback is True
        finally:
            clients.close()


def test_an_object_without_the_capabilities_is_not_a_source():
    class Partial:
        kind = "partial"

        def registry_rows(self):
            return []

        def read(self, coop):
            raise NotImplementedError

        def link(self, coop):
            return ""

        def write_feedback(self, coop, rows, header_row, widths):
            return False

    assert not isinstance(Partial(), Source)


def test_close_closes_the_sink_even_when_the_source_fails_to(tmp_path: Path):
    closed: list[str] = []

    class Failing(LocalSource):
        def close(self) -> None:
            raise OSError("state file")

    class Sink_(LocalSink):
        def close(self) -> None:
            closed.append("sink")

    with pytest.raises(OSError, match="state file"):
        wiring.close(Failing(tmp_path / "r.csv"), Sink_(tmp_path / "out.xlsx"))
    assert closed == ["sink"]

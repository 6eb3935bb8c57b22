"""Where the city status workbook goes: a local `.xlsx` or a Google spreadsheet.

A sink writes a whole `StatusBook` at once (a reader never sees half of it) and can hand back
the Riwayat rows it already holds, so the day-by-day history survives from one cycle to the next.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from kkmp_sheets.core.tables import StatusBook


@runtime_checkable
class Sink(Protocol):
    def publish(self, book: StatusBook) -> str:
        """Write every tab in one atomic step; return where it went (a path or URL)."""
        ...

    def history(self) -> list[list]:
        """The Riwayat rows already published (first cell a date), oldest first; [] if none."""
        ...

    def link(self, tab: str) -> str:
        """Where a person opens `tab` of what was published, for the digests: a Google URL
        (deep-linked to the tab when its id is known), a `file://` URI; "" when nothing is."""
        ...

    def close(self) -> None:
        """Let go of what the sink holds open (Google: an HTTP session); nothing for a file."""
        ...


class NullSink:
    """Publishes nothing: for dry runs that must leave every file as it is. `link` is where the
    status workbook is published by a real run, so that a dry run's digests show their link."""

    def __init__(self, link: str = "") -> None:
        self._link = link

    def publish(self, book: StatusBook) -> str:
        return "(tidak ditulis)"

    def history(self) -> list[list]:
        return []

    def link(self, tab: str) -> str:
        return self._link

    def close(self) -> None:
        pass

"""Drawing the Laporan Pimpinan's pages: HTML from the template, the chart and the map, the PDF.

WeasyPrint and matplotlib cost seconds to import, so they are imported only when a page must
be drawn: a cycle in which no page changed checks that WeasyPrint is installed
(`weasyprint_available`, without importing it) and draws nothing. Pages to draw are drawn in
`workers` processes (spawned, so that none inherits the cycle's memory or threads), each
importing the libraries once and keeping one font configuration; one worker draws in the
caller's own process. The result is the same either way: each page is drawn from its view
alone (`tests/test_laporan.py` compares 1 and 2 workers).
"""

from __future__ import annotations

import base64
import importlib.util
import logging
import multiprocessing
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from kkmp_sheets.outputs.peta import map_png
from kkmp_sheets.outputs.tren import trend_png

if TYPE_CHECKING:
    import jinja2

log = logging.getLogger(__name__)

TEMPLATE = "id/laporan.html.j2"  # the meeting's language: the report is in Bahasa Indonesia
STYLE = "shared/laporan_style.html.j2"  # included by it

EnvFactory = Callable[[], "jinja2.Environment"]


class ReportUnavailable(RuntimeError):
    """WeasyPrint (or the system libraries it loads: Pango) cannot be used on this machine."""


def _unavailable(reason: str) -> ReportUnavailable:
    return ReportUnavailable(
        f"WeasyPrint cannot be used ({reason}); install it with its system libraries "
        "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0)"
    )


def weasyprint_available() -> None:
    """`ReportUnavailable` when the WeasyPrint package is not installed, found without importing
    it (missing Pango shows only on import: `weasyprint_module`, when a page is drawn)."""
    try:
        found = importlib.util.find_spec("weasyprint") is not None
    except (ImportError, ValueError):  # ValueError: a module in sys.modules without a spec
        found = False
    if not found:
        raise _unavailable("ModuleNotFoundError: No module named 'weasyprint'")


def weasyprint_module() -> Any:
    """WeasyPrint, or `ReportUnavailable` naming what is missing (the package or Pango)."""
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: the package is there, Pango is not
        raise _unavailable(f"{type(exc).__name__}: {exc}") from exc
    return weasyprint


def render_html(view: Any, env: jinja2.Environment, images: Mapping[str, str] | None = None) -> str:
    """The page as HTML; `images` (data URIs of the map and the chart) are drawn when None."""
    if images is None:
        images = charts(view)
    return env.get_template(TEMPLATE).render(v=view, images=images)


def charts(view: Any) -> dict[str, str]:
    return {
        "map": _data_uri(map_png(view.pins)),
        "trend": _data_uri(trend_png(view.trend)),
    }


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


_FONTS: list[Any] = []  # one FontConfiguration per process: fontconfig is set up once


def _font_config(weasyprint: Any) -> Any:
    if not _FONTS:
        from weasyprint.text.fonts import FontConfiguration

        _FONTS.append(FontConfiguration())
    return _FONTS[0]


def render_pdf(view: Any, env: jinja2.Environment) -> bytes:
    """The page as PDF bytes: one A4 page, shortening the lists until it fits. The chart and
    the map are drawn once; only the HTML is laid out again while the page is too long."""
    weasyprint = weasyprint_module()
    fonts = _font_config(weasyprint)
    images = charts(view)
    while True:
        html = weasyprint.HTML(string=render_html(view, env, images))
        document = html.render(font_config=fonts)
        if len(document.pages) == 1 or (view.merah_listed <= 1 and view.unplaced_listed <= 1):
            return document.write_pdf()
        log.info("%s: more than one page; listing fewer cooperatives", view.file_name)
        view = replace(
            view,
            merah_listed=max(1, min(view.merah_listed, len(view.merah)) - 2),
            unplaced_listed=max(1, min(view.unplaced_listed, len(view.unplaced)) - 2),
        )


# A worker spends a few seconds importing WeasyPrint and matplotlib before its first page, and
# a page takes under a second: fewer pages than this are drawn sooner, and with less CPU, by
# the cycle's own process (an hourly cycle in which a kecamatan or two changed).
POOL_FROM = 8


def draw_pages(
    views: Sequence[Any],
    env: jinja2.Environment,
    *,
    workers: int = 1,
    env_factory: EnvFactory | None = None,
) -> Iterator[tuple[Any, bytes | BaseException]]:
    """Each view with its PDF, or with the exception that drawing it raised (one page failing
    does not stop the others), in the order they finish. More than one worker needs
    `env_factory`, a picklable callable making the template environment in each worker."""
    if not views:
        return
    if workers <= 1 or len(views) < POOL_FROM or env_factory is None:
        for view in views:
            try:
                yield view, render_pdf(view, env)
            except ReportUnavailable:
                raise  # no page can be drawn: said once, by the caller
            except Exception as exc:
                yield view, exc
        return
    spawn = multiprocessing.get_context("spawn")
    count = min(workers, len(views))
    with ProcessPoolExecutor(count, spawn, initializer=_start, initargs=(env_factory,)) as pool:
        pending: dict[Future[bytes], Any] = {pool.submit(_draw, view): view for view in views}
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                view = pending.pop(future)
                failure = future.exception()
                if isinstance(failure, ReportUnavailable):
                    for other in pending:
                        other.cancel()
                    raise failure
                yield view, failure if failure is not None else future.result()


_WORKER_ENV: list[Any] = []


def _start(env_factory: EnvFactory) -> None:
    """A drawing worker: the template environment, WeasyPrint and matplotlib, once."""
    _WORKER_ENV.append(env_factory())
    try:
        weasyprint_module()
    except ReportUnavailable:
        return  # said by the first page drawn
    import matplotlib

    matplotlib.use("Agg")


def _draw(view: Any) -> bytes:
    return render_pdf(view, _WORKER_ENV[0])

"""matplotlib for the report's pictures: a figure on the Agg backend, saved as PNG.

PNG rather than SVG: WeasyPrint lays out and paints a raster image at once, where a chart's
SVG (every glyph a path) took it half a second per page; at 170 dpi the print is sharp enough.
matplotlib is imported only when a picture is drawn (it costs a second to import).
"""

from __future__ import annotations

import io
from typing import Any

DPI = 170


def new_figure(width_in: float, height_in: float) -> Any:
    import matplotlib

    matplotlib.use("Agg")  # no display, the same pixels on every machine
    from matplotlib.figure import Figure

    return Figure(figsize=(width_in, height_in), dpi=DPI)


def png(fig: Any) -> bytes:
    out = io.BytesIO()
    fig.savefig(out, format="png", dpi=DPI, metadata={"Software": None})
    return out.getvalue()

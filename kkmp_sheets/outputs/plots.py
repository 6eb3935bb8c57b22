"""matplotlib for the report's pictures: a figure on the Agg backend, saved as PNG.

PNG rather than SVG: WeasyPrint lays out and paints a raster image at once, where a chart's
SVG (every glyph a path) took it half a second per page; at 170 dpi the print is sharp enough.
matplotlib is imported only when a picture is drawn (it costs a second to import).

The PNG is opaque RGB (the figure's background is white, so no pixel changes): WeasyPrint
decodes every image and compresses it again into the PDF, and an image with an alpha channel
costs it a second compression for the mask. For the same reason the PNG handed to it is
compressed at the fastest level: its size is not what ends up in the PDF.
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
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    width, height = canvas.get_width_height()
    rgba = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    out = io.BytesIO()
    rgba.convert("RGB").save(out, format="PNG", compress_level=1)
    return out.getvalue()

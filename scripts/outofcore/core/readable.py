"""Figures readable at the size the Snakemake report shows them.

The report shows an image in its content pane with `max-width: 100%`: a figure wider
than the pane is scaled down, and its text with it. At a 1400-pixel browser window the
pane is 830-970 pixels wide (measured in Chromium: the menu beside it is as wide as its
longest entry), so a 14-inch figure saved at 120 dpi (1680 pixels) is shown at 50-58 %:
matplotlib's default 10-point text becomes 8-10 pixels, its small legends 7-8. `readable`
raises every text of a figure to at least MIN_TEXT_PX pixels as shown in the narrowest
such pane; `save_figure` applies it to every figure.
"""

from matplotlib.figure import Figure
from matplotlib.text import Text

DPI = 120  # the resolution figures are saved at
REPORT_WIDTH_PX = 820  # the report's image pane at a 1400-pixel window, the widest menu open
MIN_TEXT_PX = 12  # the smallest text as shown (a browser's small print is 12-13 pixels)


def shown_scale(fig: Figure) -> float:
    """The fraction of its pixels the report shows a figure at (1 if it fits the pane)."""
    return min(1.0, REPORT_WIDTH_PX / (fig.get_figwidth() * DPI))


def shown_px(fig: Figure, points: float) -> float:
    """A font size in points, in pixels as the report shows the figure."""
    return points * DPI / 72 * shown_scale(fig)


def smallest_points(fig: Figure, min_px: float = MIN_TEXT_PX) -> float:
    """The font size (points) that shows as `min_px` pixels in the report."""
    return min_px / shown_px(fig, 1.0)


def readable(fig: Figure, min_px: float = MIN_TEXT_PX) -> Figure:
    """The figure with every text (titles, labels, legends, notes, tick labels, including
    ticks drawn later) at least `min_px` pixels high as the report shows it."""
    smallest = smallest_points(fig, min_px)
    for text in fig.findobj(Text):
        if text.get_text() and text.get_fontsize() < smallest:
            text.set_fontsize(smallest)
    for ax in fig.axes:
        for axis, name in ((ax.xaxis, "x"), (ax.yaxis, "y")):
            for which in ("major", "minor"):
                ticks = axis.get_major_ticks() if which == "major" else axis.get_minor_ticks()
                size = max([t.label1.get_fontsize() for t in ticks[:1]] or [0.0])
                if size < smallest:  # also sets the size of the ticks a later draw makes
                    ax.tick_params(axis=name, which=which, labelsize=smallest)
    if fig.get_layout_engine() is None:  # laid out once by tight_layout: again, at the new sizes
        fig.set_layout_engine("tight")
    return fig


def smallest_text_px(fig: Figure) -> float:
    """The smallest non-empty text of a drawn figure, in pixels as the report shows it."""
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_text() and t.get_visible()]
    return shown_px(fig, min(sizes))

"""The assessment's charts, drawn by matplotlib as SVG (text kept as text). Each chart is shown
with the table of its numbers beside it, for screen readers and for print."""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence

#: Colours that keep apart for common colour-vision deficiencies (Okabe–Ito).
GRANTED, DENIED, OTHER = "#009E73", "#D55E00", "#0072B2"


def _figure(width: float = 6.4, height: float = 3.0):
    """A figure without pyplot's global state (safe in a threaded server)."""
    import matplotlib

    matplotlib.rcParams["svg.fonttype"] = "none"
    matplotlib.rcParams["svg.hashsalt"] = "rems"
    matplotlib.rcParams["font.family"] = "DejaVu Sans"
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _svg_data_uri(figure) -> str:
    """The figure as an SVG data: URI (an <img> source the page's CSP allows)."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode()


def _integers(axis) -> None:
    """Whole-number ticks only (counts have no halves), starting at zero."""
    from matplotlib.ticker import MaxNLocator

    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))


def _legend(axes, entries: Sequence[tuple[str, str]]) -> None:
    """A legend whose swatches show even when a series is all zeros: drawn from its colours,
    outlined, outside the bars."""
    from matplotlib.patches import Patch

    handles = [Patch(facecolor=colour, edgecolor="#222222", label=name) for name, colour in entries]
    axes.legend(handles=handles, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def decisions_chart(months: Sequence[dict]) -> str | None:
    """Grants and denials per month, stacked; every month of the period, empty ones too."""
    if not months:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    labels = [m["month"] for m in months]
    granted = [m["authorized"] for m in months]
    denied = [m["denied"] for m in months]
    axes.bar(labels, granted, color=GRANTED)
    axes.bar(labels, denied, bottom=granted, color=DENIED)
    axes.set_ylabel("Requests")
    _integers(axes.yaxis)
    axes.set_ylim(0, max(1, max(g + d for g, d in zip(granted, denied, strict=True))))
    _legend(axes, (("Authorized", GRANTED), ("Denied", DENIED)))
    axes.tick_params(axis="x", labelrotation=45)
    return _svg_data_uri(figure)


def bars_chart(
    labels: Sequence[str], values: Sequence[float], xlabel: str, *, percent: bool = False
) -> str | None:
    """A horizontal bar chart of one figure per label: counts on whole-number ticks, or
    percentages on an axis from 0 to 100."""
    if not labels:
        return None
    figure = _figure(height=max(1.6, 0.45 * len(labels) + 0.8))
    axes = figure.add_subplot()
    axes.barh(list(labels)[::-1], list(values)[::-1], color=OTHER)
    axes.set_xlabel(xlabel)
    if percent:
        axes.set_xlim(0, 100)
    else:
        _integers(axes.xaxis)
        axes.set_xlim(0, max(1, max(values, default=0)))
    return _svg_data_uri(figure)

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


def decisions_chart(months: Sequence[dict]) -> str | None:
    """Grants and denials per month, stacked."""
    if not months:
        return None
    figure = _figure()
    axes = figure.add_subplot()
    labels = [m["month"] for m in months]
    granted = [m["authorized"] for m in months]
    denied = [m["denied"] for m in months]
    axes.bar(labels, granted, color=GRANTED, label="Authorized")
    axes.bar(labels, denied, bottom=granted, color=DENIED, label="Denied")
    axes.set_ylabel("Requests")
    axes.legend(frameon=False)
    axes.tick_params(axis="x", labelrotation=45)
    return _svg_data_uri(figure)


def bars_chart(labels: Sequence[str], values: Sequence[float], xlabel: str) -> str | None:
    """A horizontal bar chart of one figure per label."""
    if not labels:
        return None
    figure = _figure(height=max(1.6, 0.45 * len(labels) + 0.8))
    axes = figure.add_subplot()
    axes.barh(list(labels)[::-1], list(values)[::-1], color=OTHER)
    axes.set_xlabel(xlabel)
    return _svg_data_uri(figure)

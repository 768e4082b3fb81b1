"""PNG charts for the monthly report (matplotlib, Agg backend: no display, thread-safe figures).

Figures are built with :class:`matplotlib.figure.Figure` directly (never pyplot), so no global
state is shared between flow runs in one process; PNG metadata is fixed so the same figures give
the same bytes. Inputs are the KPI rows of :mod:`tasks.reports.kpis` (counts only).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from tasks.mail.formatting import format_number
from tasks.reports.kpis import BASELINE_PLACEMENT
from tasks.reports.tables import STATE_LABELS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

BAR = "#2f6f9f"
ACCENT = "#c8553d"
MUTED = "#9aa5b1"
DPI = 110


@cache
def _figure_class() -> type[Figure]:
    """matplotlib's Figure on the Agg backend, imported at the first chart: a flow run starts
    without matplotlib (the daily reports run draws none; only the monthly report does)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    return Figure


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


def _empty(ax: Any, text: str = "Nessun dato nel periodo") -> None:
    ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color=MUTED, fontsize=12)


def funnel_figure(rows: Sequence[dict[str, Any]], *, title: str) -> Figure:
    """Horizontal bars, first stage on top: ``rows`` are ``{state, count}``."""
    labels = [STATE_LABELS.get(str(r["state"]), str(r["state"])) for r in rows]
    values = [int(r["count"]) for r in rows]
    fig = _figure_class()(figsize=(8, 0.45 * max(len(rows), 4) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    if rows:
        bars = ax.barh(labels, values, color=BAR)
        ax.invert_yaxis()
        ax.bar_label(bars, padding=3, fontsize=9)
        ax.set_xlim(0, max(max(values), 1) * 1.15)
    else:
        _empty(ax)
    ax.set_title(title, fontsize=13, loc="left")
    ax.set_xlabel("Numero di casi")
    ax.set_ylabel("Fase")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def time_in_stage_figure(rows: Sequence[dict[str, Any]], *, title: str) -> Figure:
    """Median and mean business days of the stays that ended, per state (from ``time_in_stage``)."""
    shown = [r for r in rows if r.get("completed")]
    fig = _figure_class()(figsize=(8, 0.5 * max(len(shown), 4) + 1.6), layout="constrained")
    ax = fig.add_subplot()
    if shown:
        labels = [STATE_LABELS.get(str(r["state"]), str(r["state"])) for r in shown]
        positions = list(range(len(shown)))
        height = 0.38
        median = ax.barh(
            [p - height / 2 for p in positions],
            [float(r["median_bd"]) for r in shown],
            height,
            color=BAR,
            label="Mediana",
        )
        mean = ax.barh(
            [p + height / 2 for p in positions],
            [float(r["mean_bd"]) for r in shown],
            height,
            color=MUTED,
            label="Media",
        )
        for bars in (median, mean):
            ax.bar_label(bars, labels=[format_number(float(b.get_width())) for b in bars], padding=3, fontsize=8)
        ax.set_yticks(positions, labels)
        ax.invert_yaxis()
        ax.legend(loc="lower right", frameon=False)
        peak = max(max(float(r["mean_bd"]), float(r["median_bd"])) for r in shown)
        ax.set_xlim(0, max(peak, 1) * 1.2)
    else:
        _empty(ax)
    ax.set_title(title, fontsize=13, loc="left")
    ax.set_xlabel("Giorni lavorativi (festività italiane e 26 agosto esclusi)")
    ax.set_ylabel("Fase")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def _office_town(code: str) -> str:
    """A CPI as a bar's label: its town ("Romano di Lombardia"), never its code."""
    from config.data import load_offices

    name = next((o.name for o in load_offices() if o.code == code), code)
    return name.removeprefix("Centro per l'Impiego di ")


def placements_figure(rows: Sequence[dict[str, Any]], *, title: str) -> Figure:
    """Placement rate per office (from ``placement``) with the 15% baseline as a dashed line."""
    shown = [r for r in rows if r["group"] != "Totale"]
    fig = _figure_class()(figsize=(8, 4.6), layout="constrained")
    ax = fig.add_subplot()
    if shown:
        labels = [_office_town(str(r["group"])) for r in shown]
        values = [100 * float(r["rate"] or 0.0) for r in shown]
        colors = [BAR if (r["rate"] or 0.0) >= BASELINE_PLACEMENT else ACCENT for r in shown]
        bars = ax.bar(labels, values, color=colors)
        ax.bar_label(bars, labels=[f"{r['hired']}/{r['taken_in_charge']}" for r in shown], padding=3, fontsize=8)
        ax.axhline(
            100 * BASELINE_PLACEMENT,
            color="#243b53",
            linestyle="--",
            linewidth=1.2,
            label="Riferimento provinciale 15%",
        )
        ax.legend(loc="upper right", frameon=False, fontsize=9)
        ax.set_ylim(0, max(max(values), 100 * BASELINE_PLACEMENT) * 1.3)
        ax.tick_params(axis="x", labelsize=9, labelrotation=30 if len(shown) > 6 else 0)
    else:
        _empty(ax)
    ax.set_title(title, fontsize=13, loc="left")
    ax.set_xlabel("Centro per l'Impiego (assunti / presi in carico sopra ogni barra)")
    ax.set_ylabel("Tasso di inserimento (%)")
    ax.spines[["top", "right"]].set_visible(False)
    return fig


def funnel_chart(rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    """The funnel as PNG bytes."""
    return _png(funnel_figure(rows, title=title))


def time_in_stage_chart(rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    """Time in stage as PNG bytes."""
    return _png(time_in_stage_figure(rows, title=title))


def placements_chart(rows: Sequence[dict[str, Any]], *, title: str) -> bytes:
    """Placements by office as PNG bytes."""
    return _png(placements_figure(rows, title=title))

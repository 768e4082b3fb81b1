"""The monthly report's charts: real PNG files with Italian titles and axis labels."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread
from sqlmodel import Session

from tasks.reports import charts
from tasks.reports.kpis import Period
from tasks.reports.monthly import MonthlyReport
from tasks.reports.tables import collect_kpis
from tests.unit.test_kpis import seed

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _check_png(path: Path) -> None:
    data = path.read_bytes()
    width, height = _png_size(data)
    assert 600 <= width <= 1400 and 300 <= height <= 1400, (width, height)
    assert 8_000 < len(data) < 400_000
    pixels = imread(path)  # decodes: a corrupt file raises here
    assert pixels.shape[:2] == (height, width)
    # something is drawn: a good share of pixels is neither white nor transparent
    drawn = np.mean(np.any(pixels[..., :3] < 0.9, axis=-1))
    assert drawn > 0.02


@pytest.fixture
def tables(session: Session) -> dict[str, list[dict[str, object]]]:
    seed(session)
    return collect_kpis(session, Period.month("2026-10"))


def test_charts_are_readable_pngs_with_italian_labels(
    tables: dict[str, list[dict[str, object]]], tmp_path: Path
) -> None:
    report = MonthlyReport(period=Period.month("2026-10"), tables=tables)  # type: ignore[arg-type]
    funnel = charts.funnel_figure(report.funnel(), title="Casi entrati in ogni fase – ottobre 2026")
    stage = charts.time_in_stage_figure(tables["time_in_stage"], title="Tempo per fase – ottobre 2026")
    placed = charts.placements_figure(tables["placement_office"], title="Tasso di inserimento per CPI")
    expected = {
        "funnel": (funnel, "Numero di casi", "Fase"),
        "tempo-per-fase": (stage, "Giorni lavorativi (festività italiane e 26 agosto esclusi)", "Fase"),
        "inserimenti-per-cpi": (placed, "Centro per l'Impiego (assunti / presi in carico sopra ogni barra)", ""),
    }
    for figure, xlabel, ylabel in expected.values():
        (ax,) = figure.axes
        assert ax.get_xlabel() == xlabel
        if ylabel:
            assert ax.get_ylabel() == ylabel
        assert ax.get_title(loc="left")
    assert [t.get_text() for t in funnel.axes[0].get_yticklabels()][:3] == [
        "Segnalati",
        "Presi in carico",
        "Colloquio fissato",
    ]
    # the funnel's bars carry the October entries: 7 referred, 4 accepted, 4 intakes scheduled
    widths = [int(p.get_width()) for p in funnel.axes[0].patches]  # type: ignore[attr-defined]
    assert widths[:3] == [7, 4, 4]
    assert placed.axes[0].get_ylabel() == "Tasso di inserimento (%)"
    office_labels = [t.get_text() for t in placed.axes[0].get_xticklabels()]
    assert office_labels == ["Albino", "Bergamo", "Trescore Balneario"]  # by town; the total is not an office
    heights = [round(p.get_height(), 1) for p in placed.axes[0].patches]  # type: ignore[attr-defined]
    assert heights == [0.0, 66.7, 40.0]

    files = {
        "funnel.png": charts.funnel_chart(report.funnel(), title="Casi entrati in ogni fase – ottobre 2026"),
        "tempo-per-fase.png": charts.time_in_stage_chart(tables["time_in_stage"], title="Tempo per fase"),
        "inserimenti-per-cpi.png": charts.placements_chart(tables["placement_office"], title="Inserimenti"),
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        _check_png(tmp_path / name)


def test_same_figures_give_the_same_bytes(tables: dict[str, list[dict[str, object]]]) -> None:
    """No timestamp or version in the PNG: a rerun attaches identical files."""
    one = charts.placements_chart(tables["placement_office"], title="Inserimenti")
    two = charts.placements_chart(tables["placement_office"], title="Inserimenti")
    assert one == two
    assert b"matplotlib" not in one


def test_empty_period_still_gives_a_labelled_chart(tmp_path: Path) -> None:
    figure = charts.time_in_stage_figure([], title="Tempo per fase – gennaio 2020")
    assert "Nessun dato nel periodo" in [t.get_text() for t in figure.axes[0].texts]
    path = tmp_path / "vuoto.png"
    path.write_bytes(charts.time_in_stage_chart([], title="Tempo per fase – gennaio 2020"))
    assert _png_size(path.read_bytes())[0] > 600
    pixels = imread(path)
    assert pixels.shape[2] in (3, 4)

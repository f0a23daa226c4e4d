"""Plots of themes: figures come back, labels are legible and do not overlap."""

from __future__ import annotations

import sys
from datetime import date
from itertools import combinations, pairwise

import pytest

pytest.importorskip("matplotlib")

from matplotlib.figure import Figure

from humanfactors.exceptions import InputError, MissingDependencyError
from humanfactors.plots import (
    figure_to_png,
    plot_comparison,
    plot_cooccurrence,
    plot_emerging,
    plot_top_factors,
    plot_trends,
)
from humanfactors.themes import compare, cooccurrence, emerging_themes, frequencies
from test_themes import _rising

DATA = _rising(seed=5)


def _no_overlap(fig: Figure, axis: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    ax = fig.axes[0]
    labels = ax.get_xticklabels() if axis == "x" else ax.get_yticklabels()
    labels = [t for t in labels if t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert boxes, "no tick labels drawn"
    angle = labels[0].get_rotation() % 180
    if angle in (0, 90):
        for a, b in combinations(boxes, 2):
            assert not a.overlaps(b), "tick labels overlap"
    else:  # parallel slanted lines: their perpendicular gap must exceed the text height
        import math

        line = labels[0].get_fontsize() * fig.dpi / 72
        ends = sorted(box.x1 for box in boxes)
        gaps = [(b - a) * math.sin(math.radians(angle)) for a, b in pairwise(ends)]
        assert min(gaps) >= 0.9 * line, "slanted tick labels overlap"
    # and every label is inside the figure
    width, height = canvas.get_width_height()
    for box in boxes:
        assert box.x0 >= -1 and box.y0 >= -1 and box.x1 <= width + 1 and box.y1 <= height + 1


@pytest.mark.parametrize(
    "make, axis",
    [
        (lambda: plot_top_factors(frequencies(DATA, by="all")), "y"),
        (lambda: plot_trends(frequencies(DATA, by="month")), "x"),
        (lambda: plot_cooccurrence(cooccurrence(DATA)), "x"),
        (lambda: plot_cooccurrence(cooccurrence(DATA), value="count"), "y"),
        (lambda: plot_emerging(emerging_themes(DATA)), "y"),
        (lambda: plot_comparison(compare(DATA, by="region"), "ERR.LAPSE"), "y"),
    ],
)
def test_figures_have_legible_labels(make, axis: str):
    fig = make()
    assert isinstance(fig, Figure)
    _no_overlap(fig, axis)
    png = figure_to_png(fig)
    assert png.startswith(b"\x89PNG") and len(png) > 5_000


def test_top_factors_names_codes_and_colours_protective():
    fig = plot_top_factors(DATA, n=5)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 5 and any(
        "CF.TASK.WORKLOAD" in lab and "Workload" in lab for lab in labels
    )
    colours = {patch.get_facecolor()[:3] for patch in fig.axes[0].patches}
    assert len(colours) == 2  # protective green beside risk blue


def test_trends_accept_codes_and_refuse_too_many():
    fig = plot_trends(frequencies(DATA, by="quarter"), codes=["ERR.LAPSE", "PROT.CHALLENGE"])
    assert len(fig.axes[0].get_lines()) == 2
    with pytest.raises(InputError, match="at most"):
        plot_trends(DATA, codes=[f"C{i}" for i in range(12)])


def test_empty_inputs_still_give_figures():
    assert isinstance(plot_top_factors([]), Figure)
    assert isinstance(plot_cooccurrence([]), Figure)
    assert isinstance(plot_emerging([]), Figure)
    assert isinstance(plot_trends([]), Figure)
    with pytest.raises(InputError, match="name the group"):
        plot_top_factors(frequencies(DATA, by="region"))
    with pytest.raises(InputError, match="not in this comparison"):
        plot_comparison(DATA, "NO.SUCH")


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'humanfactors\[plot\]'"):
        plot_top_factors(frequencies(DATA, by="all"))


def test_zero_rates_draw_without_negative_error_bars():
    from test_themes import report

    data = [report(f"b{i}", ["ERR.LAPSE"], day=date(2024, 1, 1 + i % 28)) for i in range(71)]
    data += [report(f"r{i}", [], day=date(2024, 6, 1 + i % 28)) for i in range(71)]
    em = emerging_themes(data, window_days=40, min_count=1)
    assert em.rows and em.rows[0].recent_rate == 0.0
    assert isinstance(plot_emerging(em), Figure)

"""Plots of themes (the ``plot`` extra: matplotlib).

Each function takes a result from :mod:`humanfactors.themes` (or the analyses
themselves, which it summarises with the defaults) and returns a
:class:`matplotlib.figure.Figure`. Figures are built without ``pyplot``, so nothing is
drawn on screen and no global state changes; in a notebook a returned figure shows
itself, and ``fig.savefig("trends.png")`` writes it.

Examples
--------
>>> from humanfactors.themes import frequencies          # doctest: +SKIP
>>> fig = plot_trends(frequencies(store, by="quarter"))  # doctest: +SKIP
>>> fig.savefig("trends.png", dpi=150)                   # doctest: +SKIP
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal

from .exceptions import InputError, require
from .themes import (
    Comparison,
    Cooccurrence,
    EmergingThemes,
    Frequencies,
    ThemeSource,
    compare,
    cooccurrence,
    emerging_themes,
    frequencies,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "plot_comparison",
    "plot_cooccurrence",
    "plot_emerging",
    "plot_top_factors",
    "plot_trends",
]

RISK = "#3b6ea8"
PROTECTIVE = "#3a8f5c"
BASELINE = "#b8c4d6"
# Colour-blind-safe qualitative palette (Okabe-Ito, without yellow, which is faint on white).
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000", "#7F7F7F"]


_FIGURE_CLASS: Any = None


def _figure(width: float, height: float) -> Figure:
    global _FIGURE_CLASS
    require("matplotlib", extra="plot", feature="plots")
    if _FIGURE_CLASS is None:
        from matplotlib.figure import Figure

        class ThemeFigure(Figure):
            """A Figure that shows itself in Jupyter even when pyplot was never imported."""

            def _repr_png_(self) -> bytes:
                return figure_to_png(self)

        _FIGURE_CLASS = ThemeFigure
    fig: Figure = _FIGURE_CLASS(figsize=(width, height), layout="constrained", dpi=100)
    return fig


def _label(code: str, name: str, width: int = 34) -> str:
    text = name if name and name != code else ""
    if not text:
        return code
    return "\n".join(textwrap.wrap(text, width)[:2]) + f"\n{code}"


def _err(mid: list[float], low: list[float], high: list[float]) -> list[list[float]]:
    """Error-bar lengths, never negative (rounding can put a bound a hair past the rate)."""
    return [
        [max(0.0, m - lo) for m, lo in zip(mid, low, strict=True)],
        [max(0.0, hi - m) for m, hi in zip(mid, high, strict=True)],
    ]


def _protective(code: str) -> bool:
    return code == "PROT" or code.startswith("PROT.")


def plot_top_factors(
    data: Frequencies | ThemeSource,
    *,
    n: int = 12,
    group: str | None = None,
    title: str | None = None,
) -> Figure:
    """Horizontal bars: the ``n`` codes in most reports, as rates per 100 with 95% intervals.

    ``data`` is a :class:`~humanfactors.themes.Frequencies` (with one group, or name
    the ``group`` to draw) or the analyses (summarised with ``by="all"``). Protective
    factors are green, the others blue.
    """
    freq = data if isinstance(data, Frequencies) else frequencies(data, by="all")
    if group is None:
        if len(freq.groups) > 1:
            raise InputError(
                f"these frequencies have {len(freq.groups)} groups ({freq.by});"
                " name the group to draw"
            )
        group = freq.groups[0] if freq.groups else "all"
    elif freq.groups and group not in freq.groups:
        raise InputError(
            f"group {group!r} is not in these frequencies ({freq.by});"
            f" groups are {list(freq.groups)[:10]}{' …' if len(freq.groups) > 10 else ''}"
        )
    rows = sorted((r for r in freq.rows if r.group == group), key=lambda r: (-r.count, r.code))[:n]
    fig = _figure(9.0, 1.2 + 0.55 * max(len(rows), 1))
    ax = fig.add_subplot()
    if not rows:
        ax.text(0.5, 0.5, "No findings", ha="center", va="center", fontsize=12)
        ax.set_axis_off()
        return fig
    rows = rows[::-1]
    y = range(len(rows))
    rates = [r.rate for r in rows]
    err = _err([r.rate for r in rows], [r.rate_low for r in rows], [r.rate_high for r in rows])
    colours = [PROTECTIVE if _protective(r.code) else RISK for r in rows]
    ax.barh(
        list(y),
        rates,
        color=colours,
        xerr=err,
        error_kw={"ecolor": "#555555", "capsize": 3, "lw": 1},
    )
    ax.set_yticks(list(y), [_label(r.code, r.name) for r in rows], fontsize=9)
    for yi, r in zip(y, rows, strict=True):
        ax.text(r.rate_high + 0.8, yi, f"{r.count}", va="center", fontsize=8, color="#333333")
    ax.set_xlabel(
        f"Reports with the factor, per 100 reports (n = {rows[0].reports:,}; bars: 95% interval)"
    )
    ax.set_xlim(0, min(100.0, max(r.rate_high for r in rows) * 1.12 + 2))
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.set_title(title or "Most frequent factors", loc="left", fontsize=12, fontweight="bold")
    return fig


def _check_codes(codes: Sequence[str], known: Sequence[str], where: str) -> None:
    """Refuse codes a result does not have: a line of zeros would pass for a finding."""
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise InputError(
            f"code(s) {unknown} not in {where} (no report has them);"
            f" codes are {list(known)[:10]}{' …' if len(known) > 10 else ''}"
        )


def _legend_label(code: str, name: str, width: int = 40) -> str:
    """A legend entry of at most two lines of name, then the code: long names stay legible."""
    if not name or name == code:
        return textwrap.fill(code, width)
    text = textwrap.wrap(textwrap.shorten(name, 2 * width, placeholder=" …"), width)
    return "\n".join([*text, *textwrap.wrap(f"({code})", width)])


def plot_trends(
    data: Frequencies | ThemeSource,
    *,
    codes: Sequence[str] | None = None,
    top: int = 6,
    value: Literal["rate", "count"] = "rate",
    title: str | None = None,
) -> Figure:
    """Lines over time: the rate (per 100 reports) or count of each code per period.

    ``data`` is a :class:`~humanfactors.themes.Frequencies` by month, quarter or year,
    or the analyses (summarised by quarter). Draws ``codes``, or the ``top`` most
    frequent ones.
    """
    freq = data if isinstance(data, Frequencies) else frequencies(data, by="quarter")
    chosen = list(codes) if codes is not None else list(freq.codes[:top])
    if len(chosen) > len(PALETTE):
        raise InputError(
            f"plot_trends draws at most {len(PALETTE)} codes legibly; got {len(chosen)}"
        )
    _check_codes(chosen, freq.codes, "these frequencies")
    groups = list(freq.groups)
    names = {r.code: r.name for r in freq.rows}
    labels = [_legend_label(code, names.get(code, code)) for code in chosen]
    # the legend sits right of the plot; the figure grows to hold it all (9 pt lines)
    legend_height = sum(0.17 * (label.count("\n") + 1) + 0.09 for label in labels)
    fig = _figure(10.0, max(5.0, legend_height + 0.8))
    ax = fig.add_subplot()
    if not groups or not chosen:
        ax.text(0.5, 0.5, "No dated findings", ha="center", va="center", fontsize=12)
        ax.set_axis_off()
        return fig
    table = {(r.group, r.code): r for r in freq.rows}
    x = list(range(len(groups)))
    for i, (code, label) in enumerate(zip(chosen, labels, strict=True)):
        ys = [getattr(table[(g, code)], value) if (g, code) in table else 0.0 for g in groups]
        style = "--" if _protective(code) else "-"
        ax.plot(
            x,
            ys,
            style,
            marker="o",
            ms=3.5,
            lw=1.8,
            color=PALETTE[i],
            label=label,
        )
    step = max(1, len(groups) // 16)  # at most ~16 tick labels
    ax.set_xticks(
        x[::step],
        groups[::step],
        rotation=45 if len(groups) > 8 else 0,
        ha="right" if len(groups) > 8 else "center",
        fontsize=9,
    )
    ax.set_ylabel("Reports per 100 reports" if value == "rate" else "Reports")
    ax.set_ylim(bottom=0)
    ax.grid(axis="y", color="#dddddd", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=9, frameon=False)
    ax.set_title(title or f"Trends by {freq.by}", loc="left", fontsize=12, fontweight="bold")
    return fig


def plot_cooccurrence(
    data: Cooccurrence | ThemeSource,
    *,
    top: int = 15,
    value: Literal["lift", "count"] = "lift",
    title: str | None = None,
) -> Figure:
    """Heatmap of which codes travel together, among the ``top`` most frequent codes.

    Colour shows ``value`` (lift: 1 is chance, above 1 together more often than chance;
    or the count); each cell is labelled with the number of shared reports.
    """
    co = data if isinstance(data, Cooccurrence) else cooccurrence(data)
    codes = list(co.codes[:top])
    k = len(codes)
    size = max(5.0, 0.48 * k + 3.0)
    fig = _figure(size + 1.2, size)
    ax = fig.add_subplot()
    if k < 2:
        ax.text(0.5, 0.5, "Too few codes to pair", ha="center", va="center", fontsize=12)
        ax.set_axis_off()
        return fig
    import numpy as np
    from matplotlib.colors import LogNorm

    counts = np.array(co.matrix("count"))[:k, :k]
    shown = np.array(co.matrix(value))[:k, :k]
    mask = np.eye(k, dtype=bool)
    if value == "lift":
        grid = np.where(mask | (counts == 0), np.nan, np.clip(shown, 1 / 8, 8))
        im = ax.imshow(grid, cmap="RdBu_r", norm=LogNorm(vmin=1 / 8, vmax=8))
        label = "Lift (log scale; 1 = chance)"
    else:
        grid = np.where(mask, np.nan, shown)
        im = ax.imshow(grid, cmap="Blues", vmin=0)
        label = "Reports with both"
    for i in range(k):
        for j in range(k):
            if i != j and counts[i, j]:
                dark = (value == "count" and grid[i, j] > np.nanmax(grid) * 0.6) or (
                    value == "lift" and (grid[i, j] > 4 or grid[i, j] < 0.25)
                )
                ax.text(
                    j,
                    i,
                    f"{int(counts[i, j])}",
                    ha="center",
                    va="center",
                    fontsize=7,
                    color="white" if dark else "#222222",
                )
    ax.set_xticks(range(k), codes, rotation=50, ha="right", rotation_mode="anchor", fontsize=8)
    ax.set_yticks(range(k), codes, fontsize=8)
    ax.tick_params(length=0)
    ax.spines[:].set_visible(False)
    cbar = fig.colorbar(im, ax=ax, shrink=0.7, label=label)
    if value == "lift":
        ticks = [0.125, 0.25, 0.5, 1, 2, 4, 8]
        cbar.set_ticks(ticks, labels=["1/8", "1/4", "1/2", "1", "2", "4", "8"])
        cbar.ax.minorticks_off()
    ax.set_title(
        title or f"Factors that occur together\n{co.reports:,} reports; numbers: reports with both",
        loc="left",
        fontsize=11,
    )
    return fig


def plot_emerging(
    data: EmergingThemes | ThemeSource,
    *,
    n: int = 10,
    title: str | None = None,
) -> Figure:
    """Recent against baseline rates for the ``n`` codes with the smallest p-values.

    Emerging codes (those that passed the test) are marked with a star.
    """
    em = data if isinstance(data, EmergingThemes) else emerging_themes(data)
    rows = list(em.rows[:n])[::-1]
    fig = _figure(9.0, 1.4 + 0.5 * max(len(rows), 1))
    ax = fig.add_subplot()
    if not rows:
        ax.text(
            0.5, 0.5, "No codes had enough reports to test", ha="center", va="center", fontsize=12
        )
        ax.set_axis_off()
        return fig
    y = list(range(len(rows)))
    h = 0.38
    colour = PROTECTIVE if all(r.protective for r in rows) else RISK
    ax.barh(
        [v - h / 2 for v in y],
        [r.baseline_rate for r in rows],
        height=h,
        color=BASELINE,
        label=f"Baseline ({em.baseline_start or 'start'} to {em.baseline_end})",
    )
    ax.barh(
        [v + h / 2 for v in y],
        [r.recent_rate for r in rows],
        height=h,
        color=colour,
        xerr=_err(
            [r.recent_rate for r in rows],
            [r.recent_low for r in rows],
            [r.recent_high for r in rows],
        ),
        error_kw={"ecolor": "#555555", "capsize": 2, "lw": 0.8},
        label=f"Recent ({em.recent_start} to {em.recent_end})",
    )
    labels = [("★ " if r.emerging else "") + _label(r.code, r.name) for r in rows]
    ax.set_yticks(y, labels, fontsize=9)
    ax.set_xlabel("Reports with the factor, per 100 reports (★ rise unlikely to be chance)")
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    ax.set_title(title or "Recent against baseline", loc="left", fontsize=12, fontweight="bold")
    return fig


def plot_comparison(
    data: Comparison | ThemeSource,
    code: str,
    *,
    by: str = "region",
    title: str | None = None,
) -> Figure:
    """One code's rate in each group with its interval, against the overall rate."""
    cmp = data if isinstance(data, Comparison) else compare(data, by=by)
    rows = [r for r in cmp.rows if r.code == code]
    if not rows:
        raise InputError(
            f"code {code!r} is not in this comparison; codes are {list(cmp.codes)[:10]}"
        )
    rows.sort(key=lambda r: r.rate)
    fig = _figure(8.0, 1.4 + 0.42 * len(rows))
    ax = fig.add_subplot()
    y = list(range(len(rows)))
    ax.errorbar(
        [r.rate for r in rows],
        y,
        xerr=_err([r.rate for r in rows], [r.rate_low for r in rows], [r.rate_high for r in rows]),
        fmt="o",
        color=PROTECTIVE if _protective(code) else RISK,
        ecolor="#777777",
        capsize=3,
    )
    ax.axvline(
        rows[0].overall_rate,
        color="#aa3333",
        ls="--",
        lw=1,
        label=f"All reports: {rows[0].overall_rate:.1f}",
    )
    ax.set_yticks(y, [f"{r.group} (n={r.reports})" for r in rows], fontsize=9)
    pct = round(cmp.confidence * 100)
    ax.set_xlabel(f"Reports with {code} per 100 reports ({pct}% Wilson interval)")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="lower right", fontsize=8, frameon=False)
    p = rows[0].p_value
    note = f"\nDifference between groups: chi-squared test p = {p:.3g}" if p is not None else ""
    ax.set_title(
        title or f"{textwrap.shorten(rows[0].name, 60)} by {cmp.by}{note}", loc="left", fontsize=11
    )
    return fig


def figure_to_png(fig: Any, dpi: int = 110) -> bytes:
    """PNG bytes of a figure (for embedding)."""
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, facecolor="white")
    return buf.getvalue()

"""A self-contained HTML report of themes, for readers who will not open a notebook.

:func:`write_report` writes one HTML file: inline CSS, plots embedded as PNG data URIs,
no scripts and nothing fetched from the network, so it opens from an email attachment
or a shared drive. It shows the most frequent factors, trends, emerging themes with
example evidence, the factors that occur together, what went well, and (with ``by``
set to an incident field) a comparison between groups.

Examples
--------
>>> from humanfactors.report import write_report             # doctest: +SKIP
>>> write_report("themes.html", "analyses.jsonl", since="2024-01-01")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import html
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Unpack

from .store import IncidentStore, QueryFilters
from .themes import (
    PERIODS,
    Comparison,
    Cooccurrence,
    EmergingThemes,
    Frequencies,
    ThemeSource,
    _opened,
    compare,
    cooccurrence,
    emerging_themes,
    frequencies,
)

__all__ = ["ThemeSummary", "render_report", "summarise", "write_report"]


@dataclass(frozen=True)
class ThemeSummary:
    """Every result a report shows, computed once."""

    reports: int
    first_date: str | None
    last_date: str | None
    filters: dict[str, Any]
    overall: Frequencies
    trends: Frequencies
    emerging: EmergingThemes
    protective: EmergingThemes
    together: Cooccurrence
    comparison: Comparison | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of the whole summary."""
        return {
            "reports": self.reports,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "filters": {k: str(v) for k, v in self.filters.items()},
            "top_factors": self.overall.to_dict(),
            "trends": self.trends.to_dict(),
            "emerging": self.emerging.to_dict(),
            "protective_emerging": self.protective.to_dict(),
            "cooccurrence": {k: v for k, v in self.together.to_dict().items() if k != "counts"},
            "comparison": self.comparison.to_dict() if self.comparison else None,
        }


def summarise(
    source: ThemeSource,
    *,
    by: str = "quarter",
    window_days: int = 90,
    baseline_days: int | None = 730,
    min_count: int = 5,
    **filters: Unpack[QueryFilters],
) -> ThemeSummary:
    """Compute the results of a theme report (see :func:`render_report`)."""
    with _opened(source) as store:
        return _summarise(
            store,
            by=by,
            window_days=window_days,
            baseline_days=baseline_days,
            min_count=min_count,
            filters=dict(filters),
        )


def _summarise(
    store: IncidentStore,
    *,
    by: str,
    window_days: int,
    baseline_days: int | None,
    min_count: int,
    filters: dict[str, Any],
) -> ThemeSummary:
    where, params = store._where(**{k: v for k, v in filters.items() if k != "code_prefix"})
    n, first, last = store._query(
        "SELECT count(*), min(i.event_date), max(i.event_date) FROM incidents i"
        f" JOIN analyses a ON a.incident_key = i.key WHERE {where}",
        params,
    )[0]
    period = by if by in PERIODS else "quarter"
    common: dict[str, Any] = {
        "window_days": window_days,
        "baseline_days": baseline_days,
        "min_count": min_count,
    }
    return ThemeSummary(
        reports=int(n),
        first_date=first,
        last_date=last,
        filters=filters,
        overall=frequencies(store, by="all", **filters),
        trends=frequencies(store, by=period, **filters),
        emerging=emerging_themes(store, protective=False, **common, **filters),
        protective=emerging_themes(store, protective=True, **common, **filters),
        together=cooccurrence(store, **filters),
        comparison=None if by in PERIODS else compare(store, by=by, **filters),
    )


_CSS = """
body{font-family:-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;color:#1d2733;
max-width:1080px;margin:0 auto;padding:24px 28px 60px;line-height:1.45;background:#fff}
h1{font-size:1.7em;margin:0 0 .2em}
h2{font-size:1.3em;margin-top:2.2em;border-bottom:2px solid #dfe5ec;padding-bottom:.2em}
h3{font-size:1.05em;margin:1.2em 0 .3em}
.meta{color:#566270;font-size:.95em}.lead{background:#f3f6f9;border-left:4px solid #3b6ea8;
padding:12px 16px;margin:18px 0}.good{border-left-color:#3a8f5c}
img{max-width:100%;height:auto;display:block;margin:10px 0}
table{border-collapse:collapse;margin:10px 0;font-size:.92em}th,td{padding:5px 10px;
border-bottom:1px solid #e3e8ee;text-align:left;vertical-align:top}th{background:#f3f6f9}
td.n{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:.9em;background:#f1f3f5;padding:1px 4px;border-radius:3px}
blockquote{margin:6px 0 6px 0;padding:6px 12px;border-left:3px solid #c4ccd6;color:#2d3a48;
background:#fafbfc}.theme{border:1px solid #e0e5eb;border-radius:6px;padding:4px 16px 10px;
margin:14px 0}.small{font-size:.88em;color:#566270}
@media print{h2{break-before:auto}.theme,img{break-inside:avoid}}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _img(fig: Any, alt: str) -> str:
    from .plots import figure_to_png

    data = base64.b64encode(figure_to_png(fig)).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{_e(alt)}">'


def _pct(x: float) -> str:
    return f"{x:.1f}"


def _theme_cards(result: EmergingThemes) -> str:
    parts = []
    for t in result.emerging:
        ratio = f"{t.rate_ratio:.1f} times" if t.rate_ratio else "new against a baseline of none"
        quotes = "".join(
            f"<blockquote>“{_e(q.text)}”<br><span class=small>report {_e(q.incident_id)}"
            f"{', ' + _e(q.date) if q.date else ''}</span></blockquote>"
            for q in t.evidence
        )
        parts.append(
            f'<div class="theme"><h3>{_e(t.name)} <code>{_e(t.code)}</code></h3>'
            f"<p>In {t.recent_count} of {t.recent_reports} recent reports"
            f" ({_pct(t.recent_rate)} per 100, "
            f"95% interval {_pct(t.recent_low)}&ndash;{_pct(t.recent_high)}),"
            f" against {t.baseline_count} of "
            f"{t.baseline_reports} before ({_pct(t.baseline_rate)} per 100):"
            f" {ratio} the baseline rate. "
            f"<span class=small>p = {t.p_value:.2g}, after correction for testing many factors q = "
            f"{t.q_value:.2g}.</span></p>{quotes}</div>"
        )
    return "".join(parts)


def _windows(result: EmergingThemes) -> str:
    if result.recent_end is None:
        return "No dated reports, so no recent window could be compared."
    base = (
        f"{result.baseline_start} to {result.baseline_end}"
        if result.baseline_start
        else f"everything up to {result.baseline_end}"
    )
    return (
        f"Recent window {result.recent_start} to {result.recent_end}"
        f" ({result.recent_reports} reports), "
        f"compared with {base} ({result.baseline_reports} reports)."
    )


def render_report(summary: ThemeSummary, *, title: str = "Themes from incident reports") -> str:
    """The HTML of a theme report for a :class:`ThemeSummary` (needs the ``plot`` extra)."""
    from .plots import (
        plot_comparison,
        plot_cooccurrence,
        plot_emerging,
        plot_top_factors,
        plot_trends,
    )

    s = summary
    when = datetime.now(UTC).strftime("%d %B %Y")
    span = f"{s.first_date} to {s.last_date}" if s.first_date else "undated"
    shown = ", ".join(f"{k} {v}" for k, v in s.filters.items() if v is not None)
    out = [
        "<!DOCTYPE html><html lang=en><head><meta charset=utf-8>",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{s.reports:,} reports, {_e(span)}{"; " + _e(shown) if shown else ""}. '
        f"Produced {when}.</p>",
    ]
    top = s.overall.rows[:3]
    risk_top = [r for r in s.overall.rows if not r.code.startswith("PROT")][:3]
    out.append('<div class="lead"><strong>In brief.</strong> ')
    if risk_top:
        out.append(
            "The factors seen most often were "
            + ", ".join(
                f"{_e(r.name.lower() if r.name != r.code else r.code)}"
                f" ({_pct(r.rate)} per 100 reports)"
                for r in risk_top
            )
            + ". "
        )
    n_em = len(s.emerging.emerging)
    out.append(
        f"{n_em} factor{'s' if n_em != 1 else ''} rose recently by more than chance explains"
        + (": " + ", ".join(_e(t.name) for t in s.emerging.emerging) if n_em else "")
        + ". "
    )
    n_pr = len(s.protective.emerging)
    if n_pr:
        out.append(
            "What went well more often: "
            + ", ".join(_e(t.name) for t in s.protective.emerging)
            + "."
        )
    out.append("</div>")

    out.append("<h2>Most frequent factors</h2>")
    if top:
        out.append(
            _img(plot_top_factors(s.overall, n=12), "Bar chart of the most frequent factors")
        )
        out.append(
            "<table><tr><th>Factor</th><th>Code</th><th>Reports</th><th>Per 100</th>"
            "<th>95% interval</th></tr>"
        )
        for r in s.overall.rows[:15]:
            out.append(
                f"<tr><td>{_e(r.name)}</td><td><code>{_e(r.code)}</code></td>"
                f"<td class=n>{r.count}</td><td class=n>{_pct(r.rate)}</td>"
                f"<td class=n>{_pct(r.rate_low)}&ndash;{_pct(r.rate_high)}</td></tr>"
            )
        out.append("</table>")
    else:
        out.append("<p>No findings in these reports.</p>")

    out.append(f"<h2>Trends by {_e(s.trends.by)}</h2>")
    risk_codes = [c for c in s.trends.codes if not c.startswith("PROT")][:6]
    if risk_codes and len(s.trends.groups) > 1:
        out.append(
            _img(
                plot_trends(s.trends, codes=risk_codes, title="Most frequent factors over time"),
                "Line chart of factor rates over time",
            )
        )
        out.append(
            f'<p class="small">Rates per 100 reports in each {_e(s.trends.by)}; '
            f"{s.trends.undated} undated reports are not shown.</p>"
        )
    else:
        out.append("<p>Too few periods to show a trend.</p>")

    out.append("<h2>Emerging themes</h2>")
    out.append(f"<p>{_e(_windows(s.emerging))}</p>")
    if s.emerging.rows:
        out.append(_img(plot_emerging(s.emerging), "Recent against baseline rates of factors"))
    out.append(
        _theme_cards(s.emerging)
        or "<p>No factor rose by more than chance would explain once many factors are tested"
        " at once.</p>"
    )

    out.append("<h2>What went well</h2>")
    good = [r for r in s.overall.rows if r.code.startswith("PROT")]
    if good:
        out.append(
            '<div class="lead good">'
            + "; ".join(f"{_e(r.name)}: {r.count} reports ({_pct(r.rate)} per 100)" for r in good)
            + ".</div>"
        )
    if s.protective.rows:
        out.append(
            _img(
                plot_emerging(s.protective, title="Protective factors: recent against baseline"),
                "Recent against baseline rates of protective factors",
            )
        )
    out.append(
        _theme_cards(s.protective)
        or "<p>No protective factor became more common by more than chance would explain.</p>"
    )

    out.append("<h2>Factors that occur together</h2>")
    if len(s.together.codes) >= 2:
        out.append(
            _img(plot_cooccurrence(s.together), "Heatmap of factors that occur in the same reports")
        )
        strong = [p for p in s.together.rows if p.q_value <= 0.05 and p.lift > 1][:10]
        if strong:
            out.append(
                "<table><tr><th>Factor</th><th>With</th><th>Reports with both</th>"
                "<th>Lift</th></tr>"
            )
            for p in strong:
                out.append(
                    f"<tr><td><code>{_e(p.a)}</code></td><td><code>{_e(p.b)}</code></td>"
                    f"<td class=n>{p.count}</td><td class=n>{p.lift:.1f}</td></tr>"
                )
            out.append(
                "</table><p class=small>Lift: how many times more often the two share a report"
                " than chance would give; pairs listed pass a one-sided Fisher's exact test"
                " (q ≤ 0.05).</p>"
            )
    else:
        out.append("<p>Too few factors to pair.</p>")

    if s.comparison is not None and s.comparison.codes:
        out.append(f"<h2>By {_e(s.comparison.by)}</h2>")
        for code in s.comparison.codes[:3]:
            out.append(
                _img(plot_comparison(s.comparison, code), f"Rates of {code} by {s.comparison.by}")
            )

    out.append("<h2>How to read this report</h2><ul class=small>")
    out.append(
        "<li>Counts are reports in which a factor was found; a report counts once per factor."
        " Rates are per 100 reports in the group, with 95% Wilson intervals.</li>"
    )
    out.append(
        f"<li>Emerging themes: {_e(s.emerging.test)}; a factor needs at least"
        f" {s.emerging.min_count} recent reports and q ≤ {s.emerging.alpha}.</li>"
    )
    out.append(
        "<li>Reports show what people chose to report: a rise can mean more of the problem,"
        " or more willingness to report it. Findings are automatic and should be read with"
        " the evidence.</li>"
    )
    out.append("<li>Quoted evidence comes from the redacted text of the reports.</li></ul>")
    out.append("</body></html>")
    return "\n".join(out)


def write_report(
    path: str | os.PathLike[str],
    source: ThemeSource,
    *,
    by: str = "quarter",
    title: str = "Themes from incident reports",
    window_days: int = 90,
    **filters: Unpack[QueryFilters],
) -> ThemeSummary:
    """Write a self-contained HTML theme report to ``path``; returns what it shows."""
    from ._cli._common import atomic_write_text

    summary = summarise(source, by=by, window_days=window_days, **filters)
    atomic_write_text(path, render_report(summary, title=title))
    return summary

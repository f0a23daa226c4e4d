"""``humanfactors themes STORE_OR_FILE``: themes across many analysed reports."""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
from pathlib import Path
from typing import Any

HELP = "themes across analysed reports: top factors, trends, emerging themes (text, JSON or HTML)"

_FIELDS = (
    "month",
    "quarter",
    "year",
    "region",
    "agency",
    "setting",
    "event_type",
    "harm",
    "reporter_role",
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "source",
        metavar="STORE_OR_FILE",
        help="an incident store (.sqlite/.db) or analyses JSONL as 'humanfactors analyse' "
        "writes; '-' reads analyses JSONL from stdin",
    )
    parser.add_argument(
        "--since", metavar="DATE", help="only reports dated on or after DATE (YYYY-MM-DD)"
    )
    parser.add_argument("--until", metavar="DATE", help="only reports dated on or before DATE")
    parser.add_argument(
        "--by",
        default="quarter",
        choices=_FIELDS,
        metavar="FIELD",
        help="period for trends (month, quarter, year) or a field to compare groups by "
        "(region, agency, setting, event_type, harm, reporter_role); default quarter",
    )
    parser.add_argument("--region", help="only reports from this region")
    parser.add_argument("--agency", help="only reports involving this agency")
    parser.add_argument(
        "--window",
        type=int,
        default=90,
        metavar="DAYS",
        help="recent window for emerging themes, in days (default 90)",
    )
    parser.add_argument(
        "--baseline",
        type=int,
        default=730,
        metavar="DAYS",
        help="baseline before the recent window, in days (default 730)",
    )
    parser.add_argument(
        "--min-count",
        type=int,
        default=5,
        metavar="N",
        help="fewest recent reports for a theme to count as emerging (default 5)",
    )
    parser.add_argument(
        "--html", metavar="PATH", help="also write a self-contained HTML report here"
    )
    parser.add_argument(
        "--title", default="Themes from incident reports", help="title of the HTML report"
    )
    parser.add_argument(
        "--json", action="store_true", help="print the results as JSON instead of text"
    )


_TREND_CODES = 8  # rows of the text trends table
_TREND_PERIODS = 6  # columns: the latest periods, so that a line fits a terminal


def _trends(trends: Any) -> list[str]:
    """The trends table: one row per top code, one column per period (the latest few)."""
    out = ["", f"Trends by {trends.by} (per 100 reports):"]
    if not trends.groups or not trends.codes:
        out.append("  no dated reports" if not trends.groups else "  none")
        return out
    periods = list(trends.groups[-_TREND_PERIODS:])
    codes = list(trends.codes[:_TREND_CODES])
    rate = {(r.group, r.code): r.rate for r in trends.rows}
    width = max(7, *(len(p) for p in periods))
    code_width = max(28, *(len(c) for c in codes))
    out[-1] = f"Trends by {trends.by} (per 100 reports" + (
        f"; the latest {len(periods)} of {len(trends.groups)} {trends.by}s):"
        if len(periods) < len(trends.groups)
        else "):"
    )
    out.append(f"  {'':<{code_width}}" + "".join(f" {p:>{width}}" for p in periods))
    out.append(
        f"  {'reports':<{code_width}}"
        + "".join(f" {trends.reports.get(p, 0):>{width}}" for p in periods)
    )
    for code in codes:
        out.append(
            f"  {code:<{code_width}}"
            + "".join(f" {rate.get((p, code), 0.0):>{width}.1f}" for p in periods)
        )
    if trends.undated:
        out.append(f"  ({trends.undated:,} undated reports not shown)")
    return out


def _text(summary: Any) -> str:
    out: list[str] = []
    span = f"{summary.first_date} to {summary.last_date}" if summary.first_date else "undated"
    out.append(f"{summary.reports:,} reports ({span})")
    out.append("")
    out.append("Most frequent factors (reports, per 100 reports, 95% interval):")
    for r in summary.overall.rows[:10]:
        out.append(
            f"  {r.code:<28} {r.count:>6}  {r.rate:5.1f}"
            f"  ({r.rate_low:.1f}-{r.rate_high:.1f})  {r.name}"
        )
    if not summary.overall.rows:
        out.append("  none")
    out.extend(_trends(summary.trends))
    for label, result in (
        ("Emerging themes", summary.emerging),
        ("What went well more often", summary.protective),
    ):
        out.append("")
        if result.recent_end is None:
            out.append(f"{label}: no dated reports")
            continue
        out.append(
            f"{label} (recent {result.recent_start} to {result.recent_end},"
            f" {result.recent_reports} reports; "
            f"baseline {result.baseline_reports} reports):"
        )
        for t in result.emerging:
            ratio = f"x{t.rate_ratio:.1f}" if t.rate_ratio else "new"
            out.append(
                f"  {t.code:<28} {t.recent_rate:5.1f} vs {t.baseline_rate:5.1f} per 100 ({ratio}), "
                f"q = {t.q_value:.2g}  {t.name}"
            )
            for q in t.evidence[:2]:
                out.append(
                    textwrap.fill(
                        f"“{q.text}” ({q.incident_id})",
                        width=100,
                        initial_indent="      ",
                        subsequent_indent="      ",
                    )
                )
        if not result.emerging:
            out.append("  none beyond what chance explains")
    pairs = [p for p in summary.together.rows if p.q_value <= 0.05 and p.lift > 1][:5]
    if pairs:
        out.append("")
        out.append("Factors that occur together (reports with both, lift):")
        for p in pairs:
            out.append(f"  {p.a} + {p.b}: {p.count}, x{p.lift:.1f}")
    if summary.comparison is not None and summary.comparison.codes:
        out.append("")
        out.append(f"By {summary.comparison.by} (per 100 reports, 95% interval):")
        for code in summary.comparison.codes[:3]:
            out.append(f"  {code}:")
            for r in (r for r in summary.comparison.rows if r.code == code):
                out.append(
                    f"    {r.group:<28} {r.rate:5.1f} ({r.rate_low:.1f}-{r.rate_high:.1f}),"
                    f" n={r.reports}"
                )
    return "\n".join(out)


def run(args: argparse.Namespace) -> int:
    from ..exceptions import InputError
    from ..report import render_report, summarise

    source: Any = args.source
    if source == "-":
        from ..themes import _read_analyses

        source = _read_analyses(sys.stdin, "<stdin>")
    elif not Path(source).is_file():
        raise InputError(f"no such store or analyses file: {source}")
    for name in ("window", "baseline", "min_count"):
        if getattr(args, name) < 1:
            raise InputError(
                f"--{name.replace('_', '-')} must be at least 1, got {getattr(args, name)}"
            )
    filters = {
        k: getattr(args, k) for k in ("since", "until", "region", "agency") if getattr(args, k)
    }
    summary = summarise(
        source,
        by=args.by,
        window_days=args.window,
        baseline_days=args.baseline,
        min_count=args.min_count,
        **filters,
    )
    if args.html:
        from ._common import atomic_write_text

        atomic_write_text(args.html, render_report(summary, title=args.title))
    if args.json:
        sys.stdout.write(json.dumps(summary.to_dict(), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(_text(summary) + "\n")
        if args.html:
            sys.stdout.write(f"\nHTML report written to {args.html}\n")
    return 0

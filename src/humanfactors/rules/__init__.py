"""Explainable rules and report-quality checks.

- :class:`Rule` and :class:`RuleSet`: rules that vote for taxonomy codes with evidence,
  built in for the ``safeguarding`` and ``asrs`` taxonomies (``RuleSet.default()``) or
  loaded from an organisation's TOML file (``RuleSet.from_toml(path)``).
- :func:`check`: report-quality checks (``CHK.*`` codes) with plain-English suggestions.
"""

from __future__ import annotations

from .checks import CHECK_CODES, check
from .engine import CoverageReport, Rule, RuleCoverage, RuleMatch, RuleSet

__all__ = ["CHECK_CODES", "CoverageReport", "Rule", "RuleCoverage", "RuleMatch", "RuleSet", "check"]

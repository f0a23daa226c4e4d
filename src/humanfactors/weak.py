"""Weak supervision: training data from rules, without coded reports.

Rules fire or abstain; several rules may vote for the same code, some are precise and
some fire on the wrong reports. :class:`LabelModel` learns, from the pattern of votes on
*unlabelled* reports alone, how far to trust each rule, and turns the votes into a
probability per report and code. :func:`train_from_rules` then trains a classifier on
those probabilities, so that it can recognise a factor in reports whose wording no rule
anticipated.

The model
---------
One code at a time (codes are not assumed exclusive: a report may carry several). For a
code ``c`` with rules ``j = 1..k`` and a report ``i``, the hidden truth is
``y_i in {0, 1}`` and the observations are the votes ``x_ij in {0, 1}`` (fired or
abstained). This is the two-class latent-class model of Dawid and Skene (1979) with the
rules as annotators who can only say "yes":

- ``P(y_i = 1) = pi`` (the code's prevalence);
- ``P(x_ij = 1 | y_i = 1) = alpha_j`` (the rule's *sensitivity*: how often it fires when
  the code applies);
- ``P(x_ij = 1 | y_i = 0) = beta_j`` (its *false-fire rate*);
- given ``y_i``, the rules fire independently of each other (conditional independence).

The parameters are the maximum a posteriori estimate found by expectation-maximisation
with Beta priors: the E-step computes each report's posterior
``P(y_i = 1 | x_i)`` (the naive-Bayes log-odds sum of the rules' log likelihood
ratios), the M-step re-estimates ``pi``, ``alpha`` and ``beta`` from those posteriors
plus the prior pseudo-counts. A rule is assumed better than chance
(``alpha_j >= beta_j``); one estimated worse is treated as uninformative.

Assumptions and priors
----------------------
- **Conditional independence.** Rules that look for the same words fire together and
  count twice; merge near-duplicate rules before fitting.
- **Few rules per code are weakly identified.** With fewer than three rules for a code the
  likelihood cannot separate prevalence from sensitivity, and the priors decide. The
  defaults encode what hand-written phrase rules are like: they rarely fire on a report
  without the factor (false-fire rate ``Beta(2, 50)``, mode 0.02), they miss many reports
  with it (sensitivity ``Beta(2, 3)``, mode 1/3), and prevalence is unknown
  (``Beta(1, 1)``). With a single rule for a code, the decisions then equal the rule's
  (fired: above 0.5; abstained: below the prevalence). Pass ``prevalence={"CODE": 0.3}``
  when it is known, e.g. from a coding manual or a small coded sample, or pass some coded
  reports to :meth:`LabelModel.fit` (their posteriors are fixed to the codes given, which
  anchors the estimates).
- **Abstaining is weak evidence against.** A report on which no rule fired gets a posterior
  below the prevalence, not zero: ``pi (1 - alpha) / (pi (1 - alpha) + (1 - pi) (1 - beta))``.
- Codes with no rule are not modelled; the label model knows only the codes its rules
  vote for (:attr:`LabelModel.classes_`).

Examples
--------
>>> import numpy as np
>>> from humanfactors.weak import LabelModel
>>> votes = np.array([[1, 1], [1, 0], [0, 0], [0, 0], [0, 1], [0, 0]], dtype=np.int8)
>>> lm = LabelModel().fit_votes(votes, rule_codes=["ERR.LAPSE", "ERR.LAPSE"])
>>> lm.classes_
('ERR.LAPSE',)
>>> p = lm.predict_proba_votes(votes)[:, 0]
>>> bool(p[0] > p[1] > p[2])
True
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from sklearn.base import BaseEstimator

from ._args import check_number, check_strings, check_texts
from .exceptions import InputError, ModelError

if TYPE_CHECKING:  # pragma: no cover
    from numpy.typing import NDArray

    from .models import Incident
    from .rules import RuleSet

__all__ = ["LabelModel", "RuleEstimate", "train_from_rules", "weak_labels"]

logger = logging.getLogger(__name__)

_EPS = 1e-4


@dataclass(frozen=True)
class RuleEstimate:
    """What the label model learnt about one rule.

    Attributes
    ----------
    rule_id, code : str
    coverage : float
        Share of the fitting reports on which the rule fired.
    sensitivity : float
        Estimated ``P(fires | code applies)``.
    false_fire_rate : float
        Estimated ``P(fires | code does not apply)``.
    precision : float
        Estimated ``P(code applies | fires)``.
    """

    rule_id: str
    code: str
    coverage: float
    sensitivity: float
    false_fire_rate: float
    precision: float


def _beta_pair(value: Any, name: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in value)
    except (TypeError, ValueError):
        raise InputError(
            f"LabelModel: {name} must be a pair (a, b) of Beta pseudo-counts, got {value!r}"
        ) from None
    if not (a >= 1.0 and b >= 1.0):
        raise InputError(
            f"LabelModel: {name} must have a >= 1 and b >= 1 (a proper MAP estimate), "
            f"got ({a:g}, {b:g})"
        )
    return a, b


def _map(successes: Any, trials: Any, prior: tuple[float, float]) -> Any:
    import numpy as np

    a, b = prior
    return np.clip((successes + a - 1.0) / (trials + a + b - 2.0), _EPS, 1.0 - _EPS)


class LabelModel(BaseEstimator):  # type: ignore[misc]
    """Learn how far to trust each rule from its votes on unlabelled reports.

    Parameters
    ----------
    rules : RuleSet, str or None
        The rules whose votes are combined: a :class:`~humanfactors.rules.RuleSet`, or
        the name of a taxonomy with built-in rules (``"safeguarding"``, ``"asrs"``).
        Needed by :meth:`fit`, :meth:`predict_proba` and the other text methods; the
        ``*_votes`` methods work on a vote matrix without rules.
    sensitivity_prior : (float, float)
        Beta pseudo-counts ``(a, b)`` for each rule's sensitivity; default ``(2, 3)``.
    false_fire_prior : (float, float)
        Beta pseudo-counts for each rule's false-fire rate; default ``(2, 50)``.
    prevalence_prior : (float, float)
        Beta pseudo-counts for each code's prevalence; default ``(1, 1)`` (uniform).
    prevalence : mapping of code to float, optional
        Known prevalences, held fixed instead of estimated.
    max_iter : int
        Most EM iterations per code.
    tol : float
        EM stops when no parameter moves by more than this.

    Attributes
    ----------
    classes_ : tuple of str
        The codes the rules vote for (columns of :meth:`predict_proba`).
    rule_ids_ : tuple of str
    rule_codes_ : tuple of str
        The code each rule votes for, in vote-matrix column order.
    sensitivity_, false_fire_rate_ : ndarray of shape (n_rules,)
    prevalence_ : ndarray of shape (n_classes,)
    n_iter_ : dict of str to int
        EM iterations used per code.

    Examples
    --------
    >>> from humanfactors.weak import LabelModel
    >>> lm = LabelModel(rules="safeguarding")
    >>> lm.fit(["I forgot to send the referral.", "The visit went well."])  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        rules: RuleSet | str | None = None,
        sensitivity_prior: tuple[float, float] = (2.0, 3.0),
        false_fire_prior: tuple[float, float] = (2.0, 50.0),
        prevalence_prior: tuple[float, float] = (1.0, 1.0),
        prevalence: Mapping[str, float] | None = None,
        max_iter: int = 1000,
        tol: float = 1e-6,
    ) -> None:
        self.rules = rules
        self.sensitivity_prior = sensitivity_prior
        self.false_fire_prior = false_fire_prior
        self.prevalence_prior = prevalence_prior
        self.prevalence = prevalence
        self.max_iter = max_iter
        self.tol = tol

    # -- rules and votes -------------------------------------------------------------
    def _ruleset(self) -> RuleSet:
        from .rules import RuleSet

        if isinstance(self.rules, RuleSet):
            return self.rules
        if isinstance(self.rules, str):
            return RuleSet.default(self.rules)
        raise InputError(
            "LabelModel: rules must be a RuleSet or the name of a taxonomy with built-in "
            f"rules to work on texts, got {type(self.rules).__name__}; "
            "use fit_votes/predict_proba_votes for a vote matrix"
        )

    def votes(self, texts: Sequence[str | Incident]) -> NDArray[Any]:
        """The rules' vote matrix on ``texts``: int8 of shape (n_texts, n_rules)."""
        rs = self._ruleset()
        return rs.vote_matrix(list(texts))

    # -- fitting -----------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str | Incident],
        y: Sequence[Sequence[str] | None] | None = None,
    ) -> LabelModel:
        """Apply the rules to ``texts`` and fit the label model to their votes.

        Parameters
        ----------
        texts : sequence of str or Incident
            Reports, usually unlabelled.
        y : sequence of (list of codes or None), optional
            Codes of those reports that have been coded (None for the others). Coded
            reports anchor the estimates; the model never needs them.

        Returns
        -------
        self
        """
        rs = self._ruleset()
        texts = check_strings(texts, "texts", "LabelModel.fit", "a list of texts or Incidents")
        if y is not None:
            check_texts(y, "y", "LabelModel.fit", "a list with each report's codes or None")
        if y is not None and rs.taxonomy is not None:
            y = _resolve_rows(y, rs.taxonomy)
        votes = rs.vote_matrix(texts)
        return self.fit_votes(votes, [r.code for r in rs], y=y, rule_ids=rs.rule_ids)

    def fit_votes(
        self,
        votes: Any,
        rule_codes: Sequence[str],
        *,
        y: Sequence[Sequence[str] | None] | None = None,
        rule_ids: Sequence[str] | None = None,
    ) -> LabelModel:
        """Fit the label model to a vote matrix.

        Parameters
        ----------
        votes : array of shape (n_reports, n_rules)
            1 where a rule fired, 0 where it abstained.
        rule_codes : sequence of str
            The code each column votes for.
        y : sequence of (list of codes or None), optional
            Known codes of some reports (see :meth:`fit`).
        rule_ids : sequence of str, optional
            Names of the columns (default ``rule0``, ``rule1`` ...).

        Returns
        -------
        self
        """
        import numpy as np

        sens_prior = _beta_pair(self.sensitivity_prior, "sensitivity_prior")
        false_prior = _beta_pair(self.false_fire_prior, "false_fire_prior")
        prev_prior = _beta_pair(self.prevalence_prior, "prevalence_prior")
        if not (isinstance(self.max_iter, int) and self.max_iter >= 1):
            raise InputError(f"LabelModel: max_iter must be a positive int, got {self.max_iter!r}")
        L = self._check_votes(votes, len(rule_codes))
        n, k = L.shape
        if n == 0:
            raise InputError("LabelModel: no reports to fit")
        ids = tuple(rule_ids) if rule_ids is not None else tuple(f"rule{j}" for j in range(k))
        if len(ids) != k:
            raise InputError(f"LabelModel: {len(ids)} rule ids for {k} vote columns")
        codes = tuple(dict.fromkeys(str(c) for c in rule_codes))
        known = dict(self.prevalence or {})
        for code, value in known.items():
            if code not in codes:
                raise InputError(
                    f"LabelModel: prevalence names {code!r}, which no rule votes for; "
                    f"the codes are {', '.join(codes)}"
                )
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise InputError(
                    f"LabelModel: prevalence of {code!r} must be a number, got "
                    f"{type(value).__name__}"
                ) from None
            if not 0.0 < value < 1.0:
                raise InputError(
                    f"LabelModel: prevalence of {code!r} must be strictly between 0 and 1, "
                    f"got {value!r}"
                )
        clamp = self._clamp(y, n, codes)

        sens = np.zeros(k)
        false = np.zeros(k)
        prev = np.zeros(len(codes))
        n_iter: dict[str, int] = {}
        col_codes = [str(c) for c in rule_codes]
        for ci, code in enumerate(codes):
            cols = [j for j, c in enumerate(col_codes) if c == code]
            a, b, pi, it = self._em(
                L[:, cols].astype(float),
                clamp[:, ci] if clamp is not None else None,
                fixed_prev=float(known[code]) if code in known else None,
                priors=(sens_prior, false_prior, prev_prior),
            )
            sens[cols], false[cols], prev[ci] = a, b, pi
            n_iter[code] = it
        self.classes_ = codes
        self.rule_ids_ = ids
        self.rule_codes_ = tuple(col_codes)
        self.sensitivity_ = sens
        self.false_fire_rate_ = false
        self.prevalence_ = prev
        self.coverage_ = L.mean(axis=0)
        self.n_iter_ = n_iter
        return self

    @staticmethod
    def _check_votes(votes: Any, n_rules: int) -> NDArray[Any]:
        import numpy as np

        L = votes.toarray() if hasattr(votes, "toarray") else np.asarray(votes)
        if L.ndim != 2:
            raise InputError(f"votes: expected a 2-D matrix (reports x rules), got shape {L.shape}")
        if L.shape[1] != n_rules:
            raise InputError(f"votes: {L.shape[1]} columns but {n_rules} rule codes")
        if L.size and not np.isin(L, (0, 1)).all():
            raise InputError("votes: a vote matrix holds only 0 (abstain) and 1 (fired)")
        return L.astype(np.int8)

    @staticmethod
    def _clamp(
        y: Sequence[Sequence[str] | None] | None, n: int, codes: tuple[str, ...]
    ) -> NDArray[Any] | None:
        """Known labels as a (n, n_codes) float matrix, NaN where unknown."""
        import numpy as np

        if y is None:
            return None
        y = list(y)
        if len(y) != n:
            raise InputError(f"y: {len(y)} label lists for {n} reports")
        out = np.full((n, len(codes)), np.nan)
        for i, given in enumerate(y):
            if given is None:
                continue
            if isinstance(given, str):
                raise InputError(f"y: row {i} is a string; give a list of codes (or None)")
            have = set(given)
            out[i] = [1.0 if c in have else 0.0 for c in codes]
        return out

    def _em(
        self,
        L: NDArray[Any],
        clamp: NDArray[Any] | None,
        *,
        fixed_prev: float | None,
        priors: tuple[tuple[float, float], tuple[float, float], tuple[float, float]],
    ) -> tuple[NDArray[Any], NDArray[Any], float, int]:
        import numpy as np

        sens_prior, false_prior, prev_prior = priors
        n, k = L.shape
        known = None if clamp is None else ~np.isnan(clamp)
        if not L.any() and (known is None or not known.any()):
            # The rules never fired: the votes say nothing, the priors are all there is.
            a = np.full(k, float(_map(0.0, 0.0, sens_prior)))
            b = np.full(k, float(_map(0.0, 0.0, false_prior)))
            pi = fixed_prev if fixed_prev is not None else prev_prior[0] / sum(prev_prior)
            return a, b, float(pi), 0
        # Start from "any rule fired" (a confident but not certain guess).
        q = np.where(L.any(axis=1), 0.9, 0.1) if k else np.full(n, 0.5)
        if known is not None and clamp is not None:
            q = np.where(known, np.nan_to_num(clamp), q)
        pi = fixed_prev if fixed_prev is not None else 0.5
        a = np.full(k, 0.5)
        b = np.full(k, 0.05)
        it = 0
        for it in range(1, int(self.max_iter) + 1):  # noqa: B007 - used after the loop
            # M-step
            pos = q.sum()
            new_pi = (
                fixed_prev
                if fixed_prev is not None
                else float(_map(pos, float(n), prev_prior))
            )
            new_a = _map(q @ L, pos, sens_prior)
            new_b = _map((1.0 - q) @ L, n - pos, false_prior)
            worse = new_a < new_b  # a rule worse than chance carries no information
            if worse.any():
                pooled = L[:, worse].mean(axis=0)
                new_a[worse] = pooled
                new_b[worse] = pooled
            delta = max(
                abs(new_pi - pi),
                float(np.max(np.abs(new_a - a), initial=0.0)),
                float(np.max(np.abs(new_b - b), initial=0.0)),
            )
            pi, a, b = new_pi, new_a, new_b
            # E-step
            q = self._posterior(L, a, b, pi)
            if known is not None and clamp is not None:
                q = np.where(known, np.nan_to_num(clamp), q)
            if delta < self.tol:
                break
        else:
            logger.info("label model EM stopped at max_iter=%d before converging", self.max_iter)
        return a, b, float(pi), it

    @staticmethod
    def _posterior(L: NDArray[Any], a: NDArray[Any], b: NDArray[Any], pi: float) -> NDArray[Any]:
        import numpy as np

        fire = np.log(a) - np.log(b)
        abstain = np.log1p(-a) - np.log1p(-b)
        logit = math.log(pi) - math.log1p(-pi) + L @ fire + (1.0 - L) @ abstain
        return 1.0 / (1.0 + np.exp(-logit))  # type: ignore[no-any-return]

    # -- prediction ------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "classes_"):
            raise ModelError("LabelModel is not fitted yet: call fit or fit_votes first")

    def predict_proba_votes(self, votes: Any) -> NDArray[Any]:
        """Posterior ``P(code applies | votes)``: shape (n_reports, n_classes)."""
        import numpy as np

        self._check_fitted()
        L = self._check_votes(votes, len(self.rule_codes_)).astype(float)
        out = np.zeros((L.shape[0], len(self.classes_)))
        codes = np.array(self.rule_codes_)
        for ci, code in enumerate(self.classes_):
            cols = np.flatnonzero(codes == code)
            out[:, ci] = self._posterior(
                L[:, cols], self.sensitivity_[cols], self.false_fire_rate_[cols],
                float(self.prevalence_[ci]),
            )
        return out

    def predict_proba(self, texts: Sequence[str | Incident]) -> NDArray[Any]:
        """Apply the rules and return the posteriors (see :meth:`predict_proba_votes`)."""
        self._check_fitted()
        rs = self._ruleset()
        if rs.rule_ids != self.rule_ids_:
            raise ModelError(
                "LabelModel: the rules changed since fitting "
                f"({len(rs.rule_ids)} rules now, {len(self.rule_ids_)} when fitted); refit"
            )
        who = "LabelModel.predict_proba"
        texts = check_strings(texts, "texts", who, "a list of texts or Incidents")
        return self.predict_proba_votes(rs.vote_matrix(texts))

    def predict(self, texts: Sequence[str | Incident], *, threshold: float = 0.5) -> NDArray[Any]:
        """0/1 indicator matrix over :attr:`classes_`: posterior at or above ``threshold``."""
        import numpy as np

        check_number(threshold, "threshold", "LabelModel.predict")
        return (self.predict_proba(texts) >= threshold).astype(np.int8)

    def predict_codes(
        self, texts: Sequence[str | Incident], *, threshold: float = 0.5
    ) -> list[list[str]]:
        """The codes whose posterior reaches ``threshold``, per report."""
        pred = self.predict(texts, threshold=threshold)
        return [[c for c, v in zip(self.classes_, row, strict=True) if v] for row in pred]

    def rule_estimates(self) -> list[RuleEstimate]:
        """What was learnt about each rule, in vote-matrix column order."""
        self._check_fitted()
        prev = dict(zip(self.classes_, self.prevalence_, strict=True))
        out = []
        for j, rid in enumerate(self.rule_ids_):
            code = self.rule_codes_[j]
            a, b, pi = float(self.sensitivity_[j]), float(self.false_fire_rate_[j]), prev[code]
            out.append(
                RuleEstimate(
                    rule_id=rid,
                    code=code,
                    coverage=float(self.coverage_[j]),
                    sensitivity=a,
                    false_fire_rate=b,
                    precision=pi * a / (pi * a + (1.0 - pi) * b),
                )
            )
        return out


def weak_labels(
    proba: Any,
    classes: Sequence[str],
    *,
    threshold: float = 0.5,
) -> tuple[list[list[str]], NDArray[Any]]:
    """Hard code lists and per-report confidence from label-model posteriors.

    Parameters
    ----------
    proba : array of shape (n_reports, n_classes)
        Posteriors from :meth:`LabelModel.predict_proba`.
    classes : sequence of str
        Their column order.
    threshold : float
        A code is given where its posterior reaches this value.

    Returns
    -------
    labels : list of list of str
    confidence : ndarray of shape (n_reports,)
        The mean over codes of ``max(p, 1 - p)``: how sure the label model is of the
        report's whole label set (usable as a sample weight).
    """
    import numpy as np

    p = np.asarray(proba, dtype=float)
    if p.ndim != 2 or p.shape[1] != len(classes):
        raise InputError(f"proba: expected shape (n, {len(classes)}), got {p.shape}")
    labels = [[c for c, v in zip(classes, row, strict=True) if v >= threshold] for row in p]
    confidence = np.maximum(p, 1.0 - p).mean(axis=1) if p.shape[1] else np.ones(len(p))
    return labels, confidence


def train_from_rules(
    texts: Sequence[str | Incident],
    *,
    rules: RuleSet | str = "safeguarding",
    label_model: LabelModel | None = None,
    estimator: Any = None,
    threshold: float = 0.5,
    weighting: Literal["confidence", "none"] = "confidence",
) -> tuple[Any, LabelModel]:
    """Train a classifier on unlabelled reports, from the rules' votes alone.

    The label model is fitted to the rules' votes on ``texts`` (unless already fitted);
    its posteriors are thresholded at ``threshold`` into code lists, and the estimator
    is fitted on the texts with those codes. When the estimator's ``fit`` accepts
    ``sample_weight`` and ``weighting="confidence"``, each report is weighted by how
    sure the label model is of its codes (see :func:`weak_labels`).

    Parameters
    ----------
    texts : sequence of str or Incident
    rules : RuleSet or str
        The rules (or the taxonomy name of built-in rules), when ``label_model`` is None.
    label_model : LabelModel, optional
        A label model to use; fitted here if it is not yet.
    estimator : scikit-learn style multi-label text estimator, optional
        Default: :class:`~humanfactors.classifier.HumanFactorsClassifier` for the
        rules' taxonomy.
    threshold : float
        Posterior at which a report counts as carrying a code.
    weighting : {"confidence", "none"}

    Returns
    -------
    estimator : the fitted estimator
    label_model : the fitted LabelModel
    """
    import inspect

    texts = list(texts)
    lm = label_model if label_model is not None else LabelModel(rules=rules)
    if not hasattr(lm, "classes_"):
        lm.fit(texts)
    proba = lm.predict_proba(texts)
    labels, confidence = weak_labels(proba, lm.classes_, threshold=threshold)
    if not any(labels):
        raise ModelError(
            "train_from_rules: the label model gave no report any code; "
            "the rules may not fire on these reports"
        )
    if estimator is None:
        from .classifier import HumanFactorsClassifier

        # the rule set's own taxonomy (a file's, or a custom one), not a name to look up
        estimator = HumanFactorsClassifier(taxonomy=lm._ruleset().taxonomy)
    fit_params: dict[str, Any] = {}
    if weighting == "confidence":
        try:
            accepts = "sample_weight" in inspect.signature(estimator.fit).parameters
        except (TypeError, ValueError):  # pragma: no cover - builtins without signatures
            accepts = False
        if accepts:
            fit_params["sample_weight"] = confidence
    elif weighting != "none":
        raise InputError(f"weighting must be 'confidence' or 'none', got {weighting!r}")
    estimator.fit(texts, labels, **fit_params)
    logger.info(
        "trained from rules: %d reports, %d with at least one code",
        len(texts), sum(bool(x) for x in labels),
    )
    return estimator, lm


def _resolve_rows(
    y: Sequence[Sequence[str] | None], taxonomy: Any
) -> list[list[str] | None]:
    """Known codes with aliases resolved; an unknown code is refused, naming its row."""
    from .exceptions import UnknownCodeError

    out: list[list[str] | None] = []
    for i, given in enumerate(y):
        if given is None or isinstance(given, str):
            out.append(given)  # type: ignore[arg-type]  # _clamp refuses a string
            continue
        try:
            out.append([taxonomy.resolve(c) for c in given])
        except UnknownCodeError as exc:
            raise InputError(f"y: row {i}: {exc}") from None
    return out

"""Weak supervision: the label model on synthetic votes, on real rules, and training from it."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone

from humanfactors.exceptions import InputError, ModelError
from humanfactors.weak import LabelModel, RuleEstimate, train_from_rules, weak_labels

TRUE_PREV = 0.3
TRUE_SENS = np.array([0.6, 0.5, 0.4, 0.3])
TRUE_FALSE = np.array([0.02, 0.05, 0.01, 0.10])


def _synthetic(n: int = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.random(n) < TRUE_PREV
    fired = np.where(y[:, None], rng.random((n, 4)) < TRUE_SENS, rng.random((n, 4)) < TRUE_FALSE)
    return fired.astype(np.int8), y


def test_recovers_rule_accuracies_without_labels():
    votes, _ = _synthetic()
    lm = LabelModel().fit_votes(votes, ["X"] * 4)
    assert lm.classes_ == ("X",)
    assert lm.prevalence_[0] == pytest.approx(TRUE_PREV, abs=0.05)
    assert lm.sensitivity_ == pytest.approx(TRUE_SENS, abs=0.06)
    assert lm.false_fire_rate_ == pytest.approx(TRUE_FALSE, abs=0.03)
    est = lm.rule_estimates()
    true_prec = TRUE_PREV * TRUE_SENS / (TRUE_PREV * TRUE_SENS + (1 - TRUE_PREV) * TRUE_FALSE)
    assert [e.precision for e in est] == pytest.approx(true_prec, abs=0.05)
    assert [e.coverage for e in est] == pytest.approx(votes.mean(axis=0))


def test_beats_any_rule_fired_baseline():
    votes, y = _synthetic(seed=1)
    lm = LabelModel().fit_votes(votes, ["X"] * 4)
    p = lm.predict_proba_votes(votes)[:, 0]
    lm_acc = np.mean((p >= 0.5) == y)
    any_acc = np.mean(votes.any(axis=1) == y)
    assert lm_acc > any_acc
    # the noisy rule alone is not enough to call a report positive, the precise one is
    alone = np.eye(4, dtype=np.int8)
    p_alone = lm.predict_proba_votes(alone)[:, 0]
    assert p_alone[2] > 0.5 > p_alone[3]


def test_posterior_grows_with_votes_and_abstaining_lowers_it():
    votes, _ = _synthetic()
    lm = LabelModel().fit_votes(votes, ["X"] * 4)
    rows = np.array([[0, 0, 0, 0], [1, 0, 0, 0], [1, 1, 0, 0], [1, 1, 1, 0], [1, 1, 1, 1]])
    p = lm.predict_proba_votes(rows)[:, 0]
    assert np.all(np.diff(p) > 0)
    assert p[0] < lm.prevalence_[0]


def test_codes_are_modelled_separately():
    votes, y = _synthetic()
    other = np.zeros((len(y), 1), dtype=np.int8)
    lm = LabelModel().fit_votes(np.hstack([votes, other]), ["X"] * 4 + ["Y"])
    assert lm.classes_ == ("X", "Y")
    single = LabelModel().fit_votes(votes, ["X"] * 4)
    both = lm.predict_proba_votes(np.hstack([votes, other]))
    assert both[:, 0] == pytest.approx(single.predict_proba_votes(votes)[:, 0])
    assert both.shape == (len(y), 2)


def test_worse_than_chance_rule_is_ignored():
    votes, y = _synthetic()
    rng = np.random.default_rng(5)
    noise = (rng.random((len(y), 1)) < np.where(y, 0.05, 0.3)[:, None]).astype(np.int8)
    lm = LabelModel().fit_votes(np.hstack([votes, noise]), ["X"] * 5)
    assert lm.sensitivity_[4] == pytest.approx(lm.false_fire_rate_[4])
    base = np.zeros((1, 5), dtype=np.int8)
    fired = base.copy()
    fired[0, 4] = 1
    assert lm.predict_proba_votes(fired) == pytest.approx(lm.predict_proba_votes(base))


def test_known_labels_anchor_a_single_rule():
    # One rule: prevalence and sensitivity cannot be told apart from votes alone.
    votes, y = _synthetic(n=6000, seed=2)
    one = votes[:, :1]
    coded = [(["X"] if yi else []) if i < 400 else None for i, yi in enumerate(y)]
    lm = LabelModel(sensitivity_prior=(1, 1)).fit_votes(one, ["X"], y=coded)
    assert lm.prevalence_[0] == pytest.approx(TRUE_PREV, abs=0.05)
    assert lm.sensitivity_[0] == pytest.approx(TRUE_SENS[0], abs=0.08)


def test_fixed_prevalence_is_kept():
    votes, _ = _synthetic()
    lm = LabelModel(prevalence={"X": 0.5}).fit_votes(votes, ["X"] * 4)
    assert lm.prevalence_[0] == 0.5


@pytest.mark.parametrize(
    "kwargs, votes, codes, message",
    [
        ({}, [[0, 2]], ["X", "X"], "only 0"),
        ({}, [[0, 1]], ["X"], "2 columns but 1"),
        ({}, [0, 1], ["X"], "2-D"),
        ({}, np.zeros((0, 1)), ["X"], "no reports"),
        ({"sensitivity_prior": (0.5, 1)}, [[1]], ["X"], "a >= 1"),
        ({"false_fire_prior": "x"}, [[1]], ["X"], "pair"),
        ({"prevalence": {"X": 1.0}}, [[1]], ["X"], "strictly between"),
        ({"max_iter": 0}, [[1]], ["X"], "max_iter"),
    ],
)
def test_bad_inputs(kwargs, votes, codes, message):
    with pytest.raises(InputError, match=message):
        LabelModel(**kwargs).fit_votes(np.asarray(votes), codes)


def test_unfitted_and_ruleless_use_is_refused():
    with pytest.raises(ModelError, match="not fitted"):
        LabelModel().predict_proba_votes([[1]])
    with pytest.raises(InputError, match="rules must be a RuleSet"):
        LabelModel().fit(["some text"])


def test_sklearn_plumbing():
    lm = LabelModel(rules="safeguarding", prevalence={"ERR.LAPSE": 0.2})
    assert clone(lm).get_params() == lm.get_params()
    assert "rules='safeguarding'" in repr(lm)
    assert not hasattr(clone(LabelModel().fit_votes([[1], [0]], ["X"])), "classes_")


def test_on_the_bundled_corpus_with_builtin_rules():
    from humanfactors.corpus import load_corpus
    from humanfactors.rules import RuleSet

    reports = load_corpus("train")[:150]  # about 2 s of rule matching per pass
    texts = [r.narrative for r in reports]
    rules = RuleSet.default("safeguarding")
    lm = LabelModel(rules=rules).fit(texts)
    assert set(lm.classes_) <= set(rules.taxonomy.codes)
    assert lm.rule_ids_ == rules.rule_ids
    proba = lm.predict_proba(texts)
    assert proba.shape == (150, len(lm.classes_))
    assert ((proba >= 0) & (proba <= 1)).all()
    votes = rules.vote_matrix(texts)
    assert lm.predict_proba_votes(votes) == pytest.approx(proba)
    # a report on which a code's rules fired is likelier to carry it than one where none did
    for ci, code in enumerate(lm.classes_):
        cols = [j for j, c in enumerate(lm.rule_codes_) if c == code]
        fired = votes[:, cols].any(axis=1)
        if fired.any() and (~fired).any():
            assert proba[fired, ci].min() > proba[~fired, ci].max()
    estimates = lm.rule_estimates()
    assert len(estimates) == len(rules) and isinstance(estimates[0], RuleEstimate)
    codes = lm.predict_codes(texts[:10])
    assert len(codes) == 10 and all(set(c) <= set(lm.classes_) for c in codes)


def test_weak_labels_threshold_and_confidence():
    labels, conf = weak_labels([[0.9, 0.2], [0.5, 0.5], [0.1, 0.0]], ["A", "B"])
    assert labels == [["A"], ["A", "B"], []]
    assert conf == pytest.approx([0.85, 0.5, 0.95])
    with pytest.raises(InputError, match="expected shape"):
        weak_labels([[0.1]], ["A", "B"])


class _Recorder:
    """A stand-in estimator that records what it was trained on."""

    def fit(self, X, y, sample_weight=None):
        self.X, self.y, self.sample_weight = X, y, sample_weight
        return self


def test_train_from_rules_passes_weak_labels_and_weights():
    texts = [
        "I forgot to send the referral and it was never sent.",
        "Staff shortages meant the team was short staffed all month.",
        "The visit went well.",
    ] * 4
    est, lm = train_from_rules(texts, rules="safeguarding", estimator=_Recorder())
    assert texts == est.X and len(est.y) == len(texts)
    assert any(est.y) and all(set(c) <= set(lm.classes_) for c in est.y)
    assert est.sample_weight is not None and len(est.sample_weight) == len(texts)
    est2, _ = train_from_rules(texts, label_model=lm, estimator=_Recorder(), weighting="none")
    assert est2.sample_weight is None and est2.y == est.y


def test_train_from_rules_with_the_classifier():
    from humanfactors.classifier import HumanFactorsClassifier
    from humanfactors.corpus import load_corpus

    texts = [r.narrative for r in load_corpus("train")[:100]]
    clf, lm = train_from_rules(
        texts, rules="safeguarding", estimator=HumanFactorsClassifier(cv=2, random_state=0)
    )
    assert set(clf.classes_) <= set(lm.classes_)
    assert clf.predict_proba(texts[:5]).shape == (5, len(clf.classes_))


def test_train_from_rules_refuses_when_nothing_fires():
    with pytest.raises(ModelError, match="no report any code"):
        train_from_rules(["Nothing.", "Nor here."], rules="safeguarding", estimator=_Recorder())


@pytest.mark.slow
@pytest.mark.realdata
def test_label_model_on_real_asrs_reports(asrs_dir):
    from humanfactors.evaluate import evaluate
    from humanfactors.io import load_asrs_dev
    from humanfactors.rules import RuleSet

    data = load_asrs_dev(asrs_dir / "dev.csv")
    texts, labels = data.texts[:300], data.labels[:300]
    rules = RuleSet.default("asrs")
    if not len(rules):
        pytest.skip("no built-in asrs rules in this build")
    lm = LabelModel(rules=rules).fit(texts)  # the analysts' labels are not used
    assert set(lm.classes_) <= set(rules.taxonomy.codes)
    proba = lm.predict_proba_votes(rules.vote_matrix(texts))
    report = evaluate(labels, (proba >= 0.5).astype(np.int8), classes=list(lm.classes_),
                      y_score=proba)
    # far from perfect, but the rules carry real signal about the analysts' codes
    assert report.micro_f1 > 0.2 and report.p_at_1 is not None and report.p_at_1 > 0.15

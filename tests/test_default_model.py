"""The embedded default model: built once from the bundled corpus, cached, reused."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("cache")
    old = os.environ.get("HUMANFACTORS_CACHE_DIR")
    os.environ["HUMANFACTORS_CACHE_DIR"] = str(path)
    from humanfactors import _default

    _default.default_model.cache_clear()
    _default.default_predictor.cache_clear()
    yield path
    _default.default_model.cache_clear()
    _default.default_predictor.cache_clear()
    if old is None:
        os.environ.pop("HUMANFACTORS_CACHE_DIR", None)
    else:
        os.environ["HUMANFACTORS_CACHE_DIR"] = old


def _run_fresh(code: str, cache) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter with ``cache`` as the cache; it must succeed."""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HUMANFACTORS_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr[-2000:]
    return out


def test_built_once_and_cached_on_disk(cache):
    from humanfactors._default import default_model, default_model_path

    model = default_model()
    path = default_model_path()
    assert path.parent == cache and path.exists()
    assert default_model() is model  # in-process cache
    assert set(model.classes_) <= set(__import__("humanfactors").load_taxonomy().leaves())
    codes = model.predict_codes(
        ["I forgot to send the referral; it slipped my mind during a busy duty shift."]
    )
    assert "ERR.LAPSE" in codes[0]


def test_fresh_process_loads_the_cache_without_training(cache):
    from humanfactors._default import default_model

    default_model()
    code = (
        "import humanfactors._default as d\n"
        "def boom():\n    raise RuntimeError('rebuilt instead of loading the cache')\n"
        "d.build_default_model = boom\n"
        "m = d.default_model()\n"
        "print(m.predict_codes(['The HV did not feel able to challenge the consultant.'])[0])\n"
    )
    out = _run_fresh(code, cache)
    assert "GRP.AUTHORITY_GRADIENT" in out.stdout


def test_damaged_cache_is_rebuilt_not_trusted(cache, caplog):
    from humanfactors._default import default_model, default_model_path

    default_model()
    path = default_model_path()
    path.write_bytes(path.read_bytes()[:100])  # truncated
    default_model.cache_clear()
    model = default_model()
    assert model.predict_codes(["I forgot the visit."])
    assert path.stat().st_size > 100
    assert "rebuilding" in caplog.text


def test_training_is_deterministic(cache):
    import numpy as np

    from humanfactors._default import build_default_model

    a, b = build_default_model(), build_default_model()
    text = ["Nobody shared the police information with the school before the strategy discussion."]
    assert np.array_equal(a.predict_proba(text), b.predict_proba(text))


# -- the frozen, prediction-only form the pipeline uses ---------------------------------
_EDGE_TEXTS = [
    "",
    "   \n ",
    "qqhfsepqq I forgot qqhfsepqq to send it.",  # an unknown word, twice
    "Ünïcödé \u017ftraße: the SW forgot the visit.\u2028Nobody challenged the plan!",
    "forgot " * 800,
    "No full stop and one line",
]


def _texts():
    from humanfactors.corpus import load_corpus

    return [r.narrative for r in load_corpus("test")] + _EDGE_TEXTS


def test_frozen_default_predicts_exactly_as_the_model(cache):
    import numpy as np

    from humanfactors._default import default_model, default_predictor

    model, frozen = default_model(), default_predictor()
    texts = _texts()
    p_model, best_model = model.predict_proba_with_evidence(texts)
    p_frozen, best_frozen = frozen.predict_proba_with_evidence(texts)
    assert np.array_equal(p_model, p_frozen)
    assert best_model == best_frozen
    assert list(frozen.classes_) == list(model.classes_)
    assert np.array_equal(frozen.predict(texts), model.predict(texts))
    assert frozen.predict_codes(texts[:5]) == model.predict_codes(texts[:5])
    assert frozen.model_version_ == "SentenceEvidenceClassifier"


def test_frozen_file_round_trip_and_damage(cache, tmp_path):
    import numpy as np

    from humanfactors._default import default_predictor, default_predictor_path
    from humanfactors._frozen import load_frozen, save_frozen
    from humanfactors.exceptions import ModelLoadError

    frozen = default_predictor()
    assert default_predictor_path().exists()
    path = save_frozen(frozen, tmp_path / "f.npz")
    with np.load(path, allow_pickle=False) as z:  # arrays only: loading runs no code
        assert "sentence_coef_" in z.files
    again = load_frozen(path)
    texts = _texts()[:40]
    assert np.array_equal(again.predict_proba(texts), frozen.predict_proba(texts))
    blob = path.read_bytes()
    (tmp_path / "cut.npz").write_bytes(blob[: len(blob) // 2])
    (tmp_path / "junk.npz").write_bytes(b"not a model at all")
    for name in ("cut.npz", "junk.npz", "missing.npz"):
        with pytest.raises(ModelLoadError, match=name):
            load_frozen(tmp_path / name)


def test_damaged_frozen_cache_is_rebuilt(cache, caplog):
    from humanfactors._default import default_predictor, default_predictor_path

    default_predictor()
    path = default_predictor_path()
    path.write_bytes(path.read_bytes()[:100])
    default_predictor.cache_clear()
    assert default_predictor().predict_codes(["I forgot the visit."])
    assert path.stat().st_size > 100
    assert "rebuilding" in caplog.text


def test_unwritable_cache_directory_gives_a_working_model_and_a_warning(cache, tmp_path, caplog,
                                                                      monkeypatch):
    from humanfactors import _default

    _default.default_model()  # the trained model, so that only the cache write is at stake
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be")
    monkeypatch.setenv("HUMANFACTORS_CACHE_DIR", str(blocked / "cache"))
    _default.default_predictor.cache_clear()
    try:
        frozen = _default.default_predictor()
        assert "ERR.LAPSE" in frozen.predict_codes(["I forgot to send the referral."])[0]
        assert "not cached" in caplog.text
        assert not (blocked / "cache").exists()
    finally:
        _default.default_predictor.cache_clear()


def test_first_analyse_in_a_fresh_process_does_not_import_sklearn(cache):
    from humanfactors._default import default_predictor

    default_predictor()  # the cache a user has after the first run
    code = (
        "import sys, humanfactors as hf\n"
        "a = hf.analyse('I forgot to send the referral; it slipped my mind.')\n"
        "print(sorted(f.code for f in a.findings))\n"
        "print('sklearn' in sys.modules)\n"
    )
    out = _run_fresh(code, cache)
    codes, imported = out.stdout.strip().splitlines()
    assert "ERR.LAPSE" in codes
    assert imported == "False"


def test_pipeline_findings_are_the_same_with_the_model_or_its_frozen_form(cache):
    from humanfactors._default import default_model
    from humanfactors.pipeline import Analyser

    texts = _texts()[:60]
    frozen = Analyser()  # model=None: the frozen default
    full = Analyser(model=default_model())
    assert type(frozen._model).__name__ == "FrozenSentenceModel"
    for text in texts:
        if not text.strip():
            continue
        a, b = frozen.analyse(text), full.analyse(text)
        assert a.findings and a.model_dump() == b.model_dump()


def test_freeze_refuses_an_unfitted_model_and_keeps_other_settings():
    import numpy as np

    from humanfactors._frozen import freeze, load_frozen, save_frozen
    from humanfactors.exceptions import ModelError
    from humanfactors.sentence_model import SentenceEvidenceClassifier

    with pytest.raises(ModelError, match="fitted"):
        freeze(SentenceEvidenceClassifier())
    texts = ["I forgot to send the referral.", "We met the family at home.",
             "I forgot to record the visit.", "The visit went to plan.", "Nobody challenged it."]
    labels = [["ERR.LAPSE"], [], ["ERR.LAPSE"], [], ["GRP.AUTHORITY_GRADIENT"]]
    for params in ({"char_ngram_range": None, "blend": 0.0, "cv": 0},
                   {"pooling": "top2", "word_ngram_range": (1, 3), "cv": 0}):
        model = SentenceEvidenceClassifier(**params).fit(texts, labels)
        frozen = freeze(model)
        probe = [*texts, "I forgot. Then I forgot again.", ""]
        assert np.array_equal(frozen.predict_proba(probe), model.predict_proba(probe))
        import tempfile
        from pathlib import Path

        with tempfile.TemporaryDirectory() as d:
            again = load_frozen(save_frozen(frozen, Path(d) / "m.npz"))
        assert np.array_equal(again.predict_proba(probe), model.predict_proba(probe))

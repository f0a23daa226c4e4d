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
    yield path
    _default.default_model.cache_clear()
    if old is None:
        os.environ.pop("HUMANFACTORS_CACHE_DIR", None)
    else:
        os.environ["HUMANFACTORS_CACHE_DIR"] = old


def test_built_once_and_cached_on_disk(cache):
    from humanfactors._default import default_model, default_model_path

    model = default_model()
    path = default_model_path()
    assert path.parent == cache and path.exists()
    assert default_model() is model  # in-process cache
    assert set(model.classes_) <= set(__import__("humanfactors").load_taxonomy().leaves())
    codes = model.predict_codes(["I forgot to send the referral; it slipped my mind during a busy duty shift."])
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
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "HUMANFACTORS_CACHE_DIR": str(cache)})
    assert out.returncode == 0, out.stderr[-2000:]
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

"""The embedded default model: trained from the bundled corpus, cached, never downloaded.

The first call trains a :class:`~humanfactors.sentence_model.SentenceEvidenceClassifier`
on the train split of the bundled corpus (redacted first, exactly as reports are at
analysis time, with the coders' evidence spans moved onto the redacted text, so the model
learns from the sentences that show each factor), deterministically, and saves it in the
user cache directory under a key made of the library version, the scikit-learn version
and a hash of the corpus. Later calls, in this process or another, load that file.
Concurrent first calls build it once (a file lock), a damaged cache file is rebuilt
rather than trusted, and where the cache directory cannot be written the model is used
from memory (with a warning).

The pipeline predicts with :func:`default_predictor`: the same model frozen into plain
arrays (:mod:`humanfactors._frozen`), cached beside it. Loading that form imports
neither scikit-learn nor any pickled code, so a first analysis in a fresh process is
quick; its probabilities are the model's own.

Set ``HUMANFACTORS_CACHE_DIR`` to move the cache.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ._version import __version__
from .exceptions import ModelLoadError

if TYPE_CHECKING:  # pragma: no cover
    from ._frozen import FrozenSentenceModel
    from .sentence_model import SentenceEvidenceClassifier

__all__ = ["cache_dir", "default_model", "default_model_path", "default_predictor"]

log = logging.getLogger(__name__)


def cache_dir() -> Path:
    """Where cached models live (``HUMANFACTORS_CACHE_DIR`` or the user cache directory)."""
    env = os.environ.get("HUMANFACTORS_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("humanfactors", appauthor=False))


# Names how the default model is made beyond the corpus and the library version: change
# it whenever training or sentence splitting changes, so that no cache built the old way
# is loaded.
_RECIPE = "r2"


@functools.lru_cache(maxsize=1)
def _cache_key() -> str:
    """Library version, scikit-learn version and corpus hash (scikit-learn not imported).

    Computed once per process: the bundled corpus does not change while it runs.
    """
    from importlib.metadata import version

    from .corpus import corpus_fingerprint

    return f"{__version__}-{_RECIPE}-sk{version('scikit-learn')}-{corpus_fingerprint()[:16]}"


def default_model_path() -> Path:
    """The cache file of the default model for this version, scikit-learn and corpus."""
    return cache_dir() / f"default-sentence-{_cache_key()}.hfmodel"


def default_predictor_path() -> Path:
    """The cache file of the default model's frozen, prediction-only form."""
    return cache_dir() / f"default-sentence-{_cache_key()}.frozen.npz"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+b") as fh:
        try:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - Windows: no lock, last writer wins
            pass
        yield


def training_data() -> tuple[list[str], list[list[str]], list[list[tuple[str, int, int]]]]:
    """The default model's training data: the corpus train split, redacted.

    Returns texts, code lists, and per report the evidence spans ``(code, start, end)``
    moved onto the redacted text.
    """
    from .corpus import load_corpus
    from .redact import Redactor
    from .sentence_model import redacted_evidence

    redactor = Redactor()
    texts: list[str] = []
    labels: list[list[str]] = []
    evidence: list[list[tuple[str, int, int]]] = []
    for report in load_corpus("train"):
        red = redactor.redact(report.narrative)
        texts.append(red.text)
        labels.append(list(report.codes))
        evidence.append(list(redacted_evidence(report.evidence, red.spans)))
    return texts, labels, evidence


def training_texts_and_labels() -> tuple[list[str], list[list[str]]]:
    """The default model's training texts (redacted) and code lists."""
    texts, labels, _ = training_data()
    return texts, labels


def build_default_model() -> SentenceEvidenceClassifier:
    """Train the default model from the bundled corpus (deterministic)."""
    from .sentence_model import SentenceEvidenceClassifier

    texts, labels, evidence = training_data()
    model = SentenceEvidenceClassifier(taxonomy="safeguarding", random_state=0)
    return model.fit(texts, labels, evidence=evidence)


@functools.lru_cache(maxsize=1)
def default_model() -> SentenceEvidenceClassifier:
    """The embedded default classifier for the ``safeguarding`` taxonomy.

    Built on first use from the bundled corpus and cached on disk; no network.

    Examples
    --------
    >>> from humanfactors import default_model
    >>> model = default_model()                                   # doctest: +SKIP
    >>> model.predict_codes(["I forgot to send the referral."])   # doctest: +SKIP
    [['ERR.LAPSE']]
    """
    from .persistence import load_model, save_model

    path = default_model_path()
    if path.exists():
        try:
            return load_model(path, trusted=True)  # type: ignore[no-any-return]
        except ModelLoadError as exc:
            log.warning("cached default model unusable (%s); rebuilding", exc)
    model = None
    try:
        with _file_lock(path.with_suffix(".lock")):
            if path.exists():  # another process built it while we waited
                try:
                    return load_model(path, trusted=True)  # type: ignore[no-any-return]
                except ModelLoadError:
                    pass
            log.info("building the default model from the bundled corpus (once)")
            model = build_default_model()
            from .corpus import corpus_fingerprint

            info = {"sha256": corpus_fingerprint(), "n": int(getattr(model, "n_train_", 0))}
            _write_atomically(path, lambda tmp: save_model(model, tmp, training_data=info))
            return model
    except OSError as exc:  # a read-only or full cache directory: work without the cache
        _not_cached("default model", exc)
        return model if model is not None else build_default_model()


def _not_cached(what: str, exc: OSError) -> None:
    log.warning(
        "%s not cached (%s: %s); using it from memory",
        what,
        type(exc).__name__,
        exc.strerror or "cannot write",
    )


def _write_atomically(path: Path, write: Callable[[Path], object]) -> None:
    """``write`` a temporary file beside ``path``, then move it into place."""
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


@functools.lru_cache(maxsize=1)
def default_predictor() -> FrozenSentenceModel:
    """The default model in prediction-only form (what :func:`humanfactors.analyse` uses).

    Loaded from the cache when it is there (arrays only; scikit-learn is not imported),
    otherwise made from :func:`default_model` and cached. Its probabilities equal the
    default model's.
    """
    from ._frozen import freeze, load_frozen, save_frozen

    path = default_predictor_path()
    if path.exists():
        try:
            return load_frozen(path)
        except ModelLoadError as exc:
            log.warning("cached default predictor unusable (%s); rebuilding", exc)
    frozen = freeze(default_model())
    try:
        with _file_lock(path.with_suffix(".lock")):
            _write_atomically(path, lambda tmp: save_frozen(frozen, tmp))
    except OSError as exc:  # a read-only or full cache directory: work without the cache
        _not_cached("default predictor", exc)
    return frozen

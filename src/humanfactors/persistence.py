"""Save and load trained models in a verified envelope.

A model file is::

    b"HFMODEL\\0"  format version (2 bytes, big-endian)  header length (4 bytes)
    header (UTF-8 JSON)  payload

The header records the humanfactors, scikit-learn, numpy and Python versions, the
taxonomy's name, version and fingerprint, the label set, the training data's SHA-256
and size, validation metrics, and the payload's format, size and SHA-256.

**Loading a pickle runs code.** A pickled payload can do anything the Python process can
do, so :func:`load_model` checks everything it can before it unpickles anything: the
magic bytes, the format version, the header, the library versions and the payload's
SHA-256. Then it decides whether to trust the file:

- files saved on this machine carry an HMAC-SHA256 signature made with a secret key kept
  in the user's configuration directory (created on first save, readable only by the
  user) and load without fuss;
- a pickle from anywhere else is refused unless the caller passes ``trusted=True``;
- a file saved with ``format="skops"`` (optional extra ``humanfactors[skops]``) is loaded
  by skops, which builds only an allow-list of types and does not run pickled code, so
  it is the format to exchange models in.

Set ``HUMANFACTORS_CONFIG_DIR`` to keep the signing key somewhere else.

Examples
--------
>>> import tempfile, pathlib
>>> from humanfactors.classifier import HumanFactorsClassifier
>>> clf = HumanFactorsClassifier(cv=0).fit(["forgot the visit", "no interpreter"] * 3,
...                                         [["ERR.LAPSE"], ["FAM.LANGUAGE"]] * 3)
>>> path = pathlib.Path(tempfile.mkdtemp()) / "model.hfm"
>>> info = save_model(clf, path)
>>> load_model(path).classes_.tolist()
['ERR.LAPSE', 'FAM.LANGUAGE']
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import pickle
import platform
import secrets
import struct
import tempfile
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from ._version import __version__
from .exceptions import InputError, ModelError, ModelLoadError, require

__all__ = [
    "FORMAT_VERSION",
    "MAGIC",
    "SKOPS_TRUSTED_TYPES",
    "ModelInfo",
    "load_model",
    "read_header",
    "save_model",
]

logger = logging.getLogger(__name__)

MAGIC = b"HFMODEL\x00"
FORMAT_VERSION = 1
_PRELUDE = struct.Struct(">8sHI")
_MAX_HEADER = 16 * 1024 * 1024
_KEY_FILE = "model-signing.key"

PayloadFormat = Literal["pickle", "skops"]
ModelInfo = dict[str, Any]


# -- the signing key -----------------------------------------------------------------------
def _config_dir() -> Path:
    override = os.environ.get("HUMANFACTORS_CONFIG_DIR")
    if override:
        return Path(override)
    import platformdirs

    return Path(platformdirs.user_config_dir("humanfactors", appauthor=False))


def _signing_key(*, create: bool) -> bytes | None:
    """The machine's model-signing key; created (mode 0600) when ``create`` and absent."""
    path = _config_dir() / _KEY_FILE
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    except OSError as exc:
        logger.warning("cannot read the model-signing key at %s (%s)", path, exc.strerror)
        return None
    if not create:
        return None
    key = secrets.token_bytes(32)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes()  # another process made it first
    except OSError as exc:
        logger.warning("cannot create the model-signing key at %s (%s)", path, exc.strerror)
        return None
    with os.fdopen(fd, "wb") as fh:
        fh.write(key)
    return key


def _signature(key: bytes, header: Mapping[str, Any]) -> str:
    unsigned = {k: v for k, v in header.items() if k != "signature"}
    blob = json.dumps(unsigned, sort_keys=True, ensure_ascii=True).encode()
    return hmac.new(key, blob, hashlib.sha256).hexdigest()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"humanfactors-key-id" + key).hexdigest()[:16]


# -- saving --------------------------------------------------------------------------------
def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    return {
        "humanfactors": __version__,
        "scikit-learn": sklearn.__version__,
        "numpy": numpy.__version__,
        "python": platform.python_version(),
    }


def _training_data(model: Any, training_data: Any) -> dict[str, Any] | None:
    if training_data is None:
        sha = getattr(model, "training_sha256_", None)
        n = getattr(model, "n_train_", None)
        return {"sha256": sha, "n": n} if sha or n else None
    if isinstance(training_data, Mapping):
        if "sha256" not in training_data:
            raise InputError("save_model: training_data mapping needs a 'sha256' key")
        return {str(k): v for k, v in training_data.items()}
    if isinstance(training_data, str | os.PathLike):
        path = Path(training_data)
        h = hashlib.sha256()
        try:
            with path.open("rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
            size = path.stat().st_size
        except OSError as exc:
            raise InputError(
                f"save_model: training_data file {path}: cannot read it "
                f"({exc.strerror or type(exc).__name__})"
            ) from None
        return {"sha256": h.hexdigest(), "n": None, "file": path.name, "bytes": size}
    raise InputError(
        "save_model: training_data must be None, a path, or a mapping with 'sha256' and 'n'"
    )


def _plain(value: Any) -> Any:
    """``value`` with numpy numbers and arrays turned into Python ones, for JSON."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _check_model(model: Any) -> None:
    """Refuse, before anything is written, an object that cannot be loaded and used."""
    if not callable(getattr(model, "predict", None)):
        raise InputError(
            "save_model: model must be a fitted estimator with a predict method, "
            f"got {type(model).__name__}"
        )
    if not callable(getattr(model, "fit", None)):
        return  # a prediction-only model (such as a frozen one) is fitted by construction
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    try:
        check_is_fitted(model)
    except NotFittedError:
        raise ModelError(
            f"save_model: model ({type(model).__name__}) is not fitted: fit it first"
        ) from None


def save_model(
    model: Any,
    path: str | os.PathLike[str],
    *,
    training_data: Any = None,
    metrics: Mapping[str, Any] | None = None,
    format: PayloadFormat = "pickle",
) -> ModelInfo:
    """Write ``model`` to ``path`` in a verified envelope (atomically).

    Parameters
    ----------
    model : estimator
        A fitted model, usually a :class:`~humanfactors.HumanFactorsClassifier`.
    path : str or path-like
        Destination file; written to a temporary file and renamed into place.
    training_data : None, path, or mapping
        ``None`` records the hash and size the model computed at ``fit``; a path
        records that file's SHA-256; a mapping such as ``{"sha256": ..., "n": ...}``
        is recorded as given (it must hold ``sha256`` and be JSON-serialisable).
    metrics : mapping, optional
        Validation metrics to record (JSON-serialisable), e.g. ``{"micro_f1": 0.61}``.
        numpy numbers and arrays are recorded as the Python numbers and lists they hold.
    format : {"pickle", "skops"}, default "pickle"
        ``"skops"`` writes a payload that loads without running pickled code (needs
        the optional extra ``humanfactors[skops]``); use it for files you share.

    Returns
    -------
    dict
        The header that was written.

    Raises
    ------
    InputError
        ``model`` is not an estimator with a ``predict`` method (a string, ``None``, a
        dict…); ``format`` is unknown; ``metrics`` or ``training_data`` cannot be
        written as JSON (an object JSON does not know, ``nan`` or infinity, keys of
        mixed types), or the ``training_data`` file cannot be read.
    ModelError
        ``model`` is not fitted.
    """
    _check_model(model)
    if metrics is not None and not isinstance(metrics, Mapping):
        raise InputError(
            f"save_model: metrics must be a mapping or None, got {type(metrics).__name__}"
        )
    if format == "pickle":
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
    elif format == "skops":
        sio = require("skops.io", extra="skops", feature="save_model(format='skops')")
        payload = sio.dumps(model)  # type: ignore[attr-defined]
    else:
        raise InputError(f"save_model: format must be 'pickle' or 'skops', got {format!r}")
    taxonomy = getattr(model, "taxonomy_", None)
    classes = getattr(model, "classes_", None)
    header: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "versions": _versions(),
        "model_class": f"{type(model).__module__}.{type(model).__qualname__}",
        "taxonomy": None
        if taxonomy is None
        else {
            "name": taxonomy.name,
            "version": taxonomy.version,
            "fingerprint": taxonomy.fingerprint,
        },
        "classes": None if classes is None else [str(c) for c in classes],
        "training_data": _plain(_training_data(model, training_data)),
        "metrics": _plain(dict(metrics)) if metrics is not None else None,
        "payload": {
            "format": format,
            "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(),
        },
    }
    try:
        # as the signature will serialise it (sorted keys), and as it will be written
        json.dumps(header, sort_keys=True, ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InputError(
            f"save_model: metrics and training_data must be JSON-serialisable and finite, "
            f"with keys of one type ({exc})"
        ) from None
    key = _signing_key(create=True)
    if key is not None:
        header["signature"] = {
            "alg": "hmac-sha256",
            "key_id": _key_id(key),
            "value": _signature(key, header),
        }
    head = json.dumps(header, ensure_ascii=True, allow_nan=False).encode()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hfmodel-", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(_PRELUDE.pack(MAGIC, FORMAT_VERSION, len(head)))
            fh.write(head)
            fh.write(payload)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    logger.info("saved model (%s, %d bytes payload) to %s", format, len(payload), target)
    return header


# -- loading -------------------------------------------------------------------------------
def _split(blob: bytes, where: str) -> tuple[dict[str, Any], bytes]:
    if len(blob) < _PRELUDE.size:
        if MAGIC.startswith(blob[: len(MAGIC)]) and blob:
            raise ModelLoadError(f"{where}: truncated model file ({len(blob)} bytes)")
        raise ModelLoadError(f"{where}: not a humanfactors model file (no HFMODEL magic bytes)")
    magic, version, head_len = _PRELUDE.unpack_from(blob)
    if magic != MAGIC:
        raise ModelLoadError(f"{where}: not a humanfactors model file (no HFMODEL magic bytes)")
    if version != FORMAT_VERSION:
        raise ModelLoadError(
            f"{where}: model file format version {version} is not supported by humanfactors "
            f"{__version__} (it reads version {FORMAT_VERSION}); use the humanfactors version "
            "that wrote it, or retrain"
        )
    if head_len > _MAX_HEADER or _PRELUDE.size + head_len > len(blob):
        raise ModelLoadError(f"{where}: truncated model file (header cut short)")
    raw = blob[_PRELUDE.size : _PRELUDE.size + head_len]
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ModelLoadError(f"{where}: corrupt model file header (not valid JSON)") from None
    if not isinstance(header, dict) or not isinstance(header.get("payload"), dict):
        raise ModelLoadError(f"{where}: corrupt model file header (no payload description)")
    payload = blob[_PRELUDE.size + head_len :]
    info = header["payload"]
    size, digest = info.get("size"), info.get("sha256")
    if not isinstance(size, int) or not isinstance(digest, str):
        raise ModelLoadError(f"{where}: corrupt model file header (payload size or hash missing)")
    if len(payload) < size:
        raise ModelLoadError(
            f"{where}: truncated model file (payload has {len(payload)} of {size} bytes)"
        )
    if len(payload) > size:
        raise ModelLoadError(
            f"{where}: model file has {len(payload) - size} unexpected trailing bytes"
        )
    if not hmac.compare_digest(hashlib.sha256(payload).hexdigest(), digest):
        raise ModelLoadError(
            f"{where}: payload SHA-256 does not match the header: the file was modified or damaged"
        )
    return header, payload


def read_header(path: str | os.PathLike[str]) -> ModelInfo:
    """The verified header of a model file, without loading the model.

    Raises
    ------
    ModelLoadError
        The file is not a model file, is truncated, or its payload does not match its hash.
    """
    where = str(path)
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"{where}: cannot read model file ({exc.strerror})") from None
    return _split(blob, where)[0]


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


def _check_versions(header: Mapping[str, Any], where: str, allow: bool) -> None:
    import sklearn

    saved = (header.get("versions") or {}).get("scikit-learn")
    if not isinstance(saved, str):
        raise ModelLoadError(f"{where}: model file header does not record its scikit-learn version")
    if _minor(saved) != _minor(sklearn.__version__):
        message = (
            f"{where}: model was saved with scikit-learn {saved} but {sklearn.__version__} is "
            "installed; models may not load or may predict differently across scikit-learn "
            f"minor versions. Install scikit-learn=={saved}, retrain, or pass "
            "allow_version_mismatch=True to load anyway"
        )
        if not allow:
            raise ModelLoadError(message)
        logger.warning("%s", message)


def load_model(
    path: str | os.PathLike[str],
    *,
    trusted: bool = False,
    allow_version_mismatch: bool = False,
) -> Any:
    """Load a model written by :func:`save_model`, verifying it first.

    Parameters
    ----------
    path : str or path-like
    trusted : bool, default False
        Load a pickled model that was not signed on this machine. Loading a pickle
        runs code from the file: pass ``True`` only for files whose source you trust.
        Not needed for files this machine saved, nor for skops files.
    allow_version_mismatch : bool, default False
        Load a model saved with another scikit-learn major/minor version (with a warning).

    Raises
    ------
    ModelLoadError
        Not a model file; truncated; modified (hash mismatch); an unsupported format or
        scikit-learn version; an untrusted pickle; or a skops file holding types outside
        the allow-list. Raised before any pickled code runs.
    """
    where = str(path)
    try:
        blob = Path(path).read_bytes()
    except OSError as exc:
        raise ModelLoadError(f"{where}: cannot read model file ({exc.strerror})") from None
    header, payload = _split(blob, where)
    _check_versions(header, where, allow_version_mismatch)
    fmt = header["payload"].get("format")
    if fmt == "skops":
        return _load_skops(payload, header, where)
    if fmt != "pickle":
        raise ModelLoadError(f"{where}: unknown payload format {fmt!r}")
    if not trusted and not _signed_here(header):
        raise ModelLoadError(
            f"{where}: this pickled model was not saved on this machine, and loading a pickle "
            "runs code from the file. Pass trusted=True only if you trust its source, or ask "
            "for a copy saved with save_model(..., format='skops')"
        )
    try:
        return pickle.loads(payload)
    except Exception as exc:
        raise ModelLoadError(
            f"{where}: the model payload cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None


def _signed_here(header: Mapping[str, Any]) -> bool:
    sig = header.get("signature")
    if not isinstance(sig, dict) or sig.get("alg") != "hmac-sha256":
        return False
    key = _signing_key(create=False)
    if key is None or sig.get("key_id") != _key_id(key):
        return False
    value = sig.get("value")
    return isinstance(value, str) and hmac.compare_digest(value, _signature(key, header))


#: Types of this library that a skops payload may hold besides skops' own defaults.
SKOPS_TRUSTED_TYPES: tuple[str, ...] = (
    "humanfactors.classifier.HumanFactorsClassifier",
    "humanfactors.sentence_model.SentenceEvidenceClassifier",
)


def _load_skops(payload: bytes, header: Mapping[str, Any], where: str) -> Any:
    sio: Any = require("skops.io", extra="skops", feature="loading a skops model file")
    try:
        untrusted = sio.get_untrusted_types(data=payload)
    except Exception as exc:
        raise ModelLoadError(
            f"{where}: the skops payload cannot be read ({type(exc).__name__})"
        ) from None
    refused = [t for t in untrusted if t not in SKOPS_TRUSTED_TYPES]
    if refused:
        raise ModelLoadError(
            f"{where}: the skops payload holds types outside the allow-list: "
            f"{', '.join(sorted(refused))}"
        )
    try:
        return sio.loads(payload, trusted=[t for t in untrusted if t in SKOPS_TRUSTED_TYPES])
    except Exception as exc:
        raise ModelLoadError(
            f"{where}: the skops payload cannot be loaded ({type(exc).__name__}: {exc})"
        ) from None

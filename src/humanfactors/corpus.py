"""The bundled corpus of fictional, coded safeguarding reports.

The corpus is package data (``data/safeguarding/`` in the source tree): ``train.jsonl``
and ``test.jsonl`` in the coded-report format, split once and for all by a hash of each
report's id. It trains the embedded default model and feeds the tests of the rules and
the redaction. Every person, address and number in it is invented.

Examples
--------
>>> from humanfactors.corpus import load_corpus
>>> reports = load_corpus("train")
>>> reports[0].codes  # doctest: +SKIP
('ERR.LAPSE', 'CF.TASK.WORKLOAD')
"""

from __future__ import annotations

import functools
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Literal

from .exceptions import InputError
from .models import CodedIncident

__all__ = ["corpus_fingerprint", "corpus_path", "example_path", "load_corpus"]

Split = Literal["train", "test", "all"]
_SPLITS = ("train", "test")


def _data_root() -> Path:
    """``humanfactors/_data`` in an installed wheel, else the checkout's ``data/``."""
    packaged = resources.files("humanfactors") / "_data"
    if packaged.is_dir():
        return Path(str(packaged))
    checkout = Path(__file__).resolve().parents[2] / "data"
    if checkout.is_dir():
        return checkout
    raise InputError("the bundled data is missing from this installation of humanfactors")


def corpus_path(split: Literal["train", "test"] = "train") -> Path:
    """Path of a split's JSONL file."""
    if split not in _SPLITS:
        raise InputError(f"split must be one of {_SPLITS}, got {split!r}")
    return _data_root() / "safeguarding" / f"{split}.jsonl"


def example_path() -> Path:
    """Path of the bundled example reports (``data/examples/reports.jsonl``)."""
    return _data_root() / "examples" / "reports.jsonl"


@functools.lru_cache(maxsize=4)
def _load(split: str) -> tuple[CodedIncident, ...]:
    path = corpus_path(split)  # type: ignore[arg-type]
    out = []
    with open(path, encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                out.append(CodedIncident.model_validate(json.loads(line)))
            except ValueError as exc:
                raise InputError(
                    f"{path.name} line {line_no}: invalid coded report ({type(exc).__name__})"
                ) from None
    return tuple(out)


def load_corpus(split: Split = "train") -> list[CodedIncident]:
    """The coded reports of a split (``"train"``, ``"test"`` or ``"all"``)."""
    if split == "all":
        return [*_load("train"), *_load("test")]
    if split not in _SPLITS:
        raise InputError(f"split must be one of 'train', 'test', 'all', got {split!r}")
    return list(_load(split))


@functools.lru_cache(maxsize=1)
def corpus_fingerprint() -> str:
    """SHA-256 over both split files: changes whenever the corpus does."""
    digest = hashlib.sha256()
    for split in _SPLITS:
        digest.update(corpus_path(split).read_bytes())  # type: ignore[arg-type]
    return digest.hexdigest()

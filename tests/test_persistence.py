"""Tests of humanfactors.persistence: the verified model envelope and safe loading."""

from __future__ import annotations

import json
import pickle
import struct
from pathlib import Path

import numpy as np
import pytest

from humanfactors.classifier import HumanFactorsClassifier
from humanfactors.exceptions import InputError, ModelError, ModelLoadError
from humanfactors.persistence import MAGIC, load_model, read_header, save_model

TEXTS = [
    "she forgot to send the referral",
    "no interpreter was booked",
    "the caseload was too high",
] * 5
LABELS = [["ERR.LAPSE"], ["FAM.LANGUAGE"], ["CF.TASK.WORKLOAD"]] * 5


@pytest.fixture(autouse=True)
def config_dir(tmp_path, monkeypatch) -> Path:
    """Keep the signing key of each test in its own folder, never in the user's."""
    folder = tmp_path / "config"
    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture(scope="module")
def model() -> HumanFactorsClassifier:
    return HumanFactorsClassifier(cv=3).fit(TEXTS, LABELS)


@pytest.fixture
def saved(model, tmp_path) -> Path:
    path = tmp_path / "model.hfm"
    save_model(model, path, metrics={"micro_f1": 0.5})
    return path


def _parts(path: Path) -> tuple[bytes, dict, bytes]:
    blob = path.read_bytes()
    _, _, n = struct.unpack_from(">8sHI", blob)
    head = blob[14 : 14 + n]
    return blob[:14], json.loads(head), blob[14 + n :]


def test_round_trip_gives_identical_probabilities(model, saved):
    loaded = load_model(saved)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert loaded.classes_.tolist() == model.classes_.tolist()


def test_header_records_what_the_issue_asks(model, saved):
    header = read_header(saved)
    assert header["format_version"] == 1
    assert set(header["versions"]) >= {"humanfactors", "scikit-learn", "numpy", "python"}
    assert header["taxonomy"]["name"] == "safeguarding"
    assert header["taxonomy"]["version"] == model.taxonomy_.version
    assert header["classes"] == model.classes_.tolist()
    assert header["training_data"] == {"sha256": model.training_sha256_, "n": len(TEXTS)}
    assert header["metrics"] == {"micro_f1": 0.5}
    assert header["payload"]["format"] == "pickle"
    assert len(header["payload"]["sha256"]) == 64
    assert saved.read_bytes().startswith(MAGIC)


def test_training_data_may_be_a_file_or_a_mapping(model, tmp_path):
    data = tmp_path / "train.jsonl"
    data.write_text("{}\n")
    h1 = save_model(model, tmp_path / "a.hfm", training_data=data)
    assert h1["training_data"]["bytes"] == 3 and len(h1["training_data"]["sha256"]) == 64
    h2 = save_model(model, tmp_path / "b.hfm", training_data={"sha256": "ab" * 32, "n_reports": 9})
    assert h2["training_data"] == {"sha256": "ab" * 32, "n_reports": 9}
    with pytest.raises(InputError, match="sha256"):
        save_model(model, tmp_path / "c.hfm", training_data={"n": 3})


def test_tampered_payload_is_refused_before_unpickling(saved, monkeypatch):
    blob = bytearray(saved.read_bytes())
    blob[-10] ^= 0xFF
    saved.write_bytes(bytes(blob))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    with pytest.raises(ModelLoadError, match="SHA-256"):
        load_model(saved, trusted=True)


def test_tampered_header_breaks_the_signature(saved):
    _, header, payload = _parts(saved)
    header["classes"] = ["ERR.SLIP"]
    head = json.dumps(header).encode()
    saved.write_bytes(struct.pack(">8sHI", MAGIC, 1, len(head)) + head + payload)
    with pytest.raises(ModelLoadError, match="not saved on this machine"):
        load_model(saved)


def test_swapped_payload_with_matching_hash_is_still_untrusted(saved, tmp_path):
    evil = pickle.dumps({"not": "a model"})
    _, header, _ = _parts(saved)
    import hashlib

    header["payload"].update(size=len(evil), sha256=hashlib.sha256(evil).hexdigest())
    head = json.dumps(header).encode()
    saved.write_bytes(struct.pack(">8sHI", MAGIC, 1, len(head)) + head + evil)
    with pytest.raises(ModelLoadError, match="trusted=True"):
        load_model(saved)


@pytest.mark.parametrize("keep", [0, 5, 13, 40, -1])
def test_truncated_file_is_refused(saved, keep):
    blob = saved.read_bytes()
    saved.write_bytes(blob[:keep] if keep >= 0 else blob[:-1])
    with pytest.raises(ModelLoadError, match=r"truncated|not a humanfactors"):
        load_model(saved)


@pytest.mark.parametrize(
    "content",
    [b"PK\x03\x04 a zip file", pickle.dumps([1, 2, 3]), b'{"json": true}', b"\x00" * 64],
    ids=["zip", "bare-pickle", "json", "zeros"],
)
def test_foreign_file_is_refused(tmp_path, content):
    path = tmp_path / "foreign.bin"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="not a humanfactors model file"):
        load_model(path, trusted=True)


def test_missing_file_is_a_model_load_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot read"):
        load_model(tmp_path / "absent.hfm")


def test_future_format_version_is_refused(saved):
    blob = bytearray(saved.read_bytes())
    blob[8:10] = (99).to_bytes(2, "big")
    saved.write_bytes(bytes(blob))
    with pytest.raises(ModelLoadError, match="format version 99"):
        load_model(saved)


def test_corrupt_header_is_refused(saved):
    blob = bytearray(saved.read_bytes())
    blob[14] = ord("!")
    saved.write_bytes(bytes(blob))
    with pytest.raises(ModelLoadError, match="header"):
        load_model(saved)


def test_other_scikit_learn_minor_version_is_refused_unless_allowed(model, tmp_path, monkeypatch):
    import sklearn

    path = tmp_path / "m.hfm"
    monkeypatch.setattr(sklearn, "__version__", "0.1.0")
    save_model(model, path)
    monkeypatch.undo()
    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(tmp_path / "config"))
    with pytest.raises(ModelLoadError, match=r"scikit-learn 0\.1\.0"):
        load_model(path)
    assert (
        load_model(path, allow_version_mismatch=True).classes_.tolist() == model.classes_.tolist()
    )


def test_file_from_another_machine_needs_trust(saved, tmp_path, monkeypatch):
    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(ModelLoadError, match="trusted=True"):
        load_model(saved)
    assert load_model(saved, trusted=True).classes_ is not None


def test_signing_key_is_private(saved, config_dir):
    key = config_dir / "model-signing.key"
    assert key.stat().st_size == 32
    assert key.stat().st_mode & 0o077 == 0


def test_skops_format_loads_anywhere_without_trust(model, tmp_path, monkeypatch):
    pytest.importorskip("skops")
    path = tmp_path / "m.hfm"
    save_model(model, path, format="skops")
    monkeypatch.setenv("HUMANFACTORS_CONFIG_DIR", str(tmp_path / "elsewhere"))
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    assert loaded.taxonomy_ == model.taxonomy_
    assert read_header(path)["payload"]["format"] == "skops"


def test_skops_refuses_types_outside_the_allow_list(tmp_path, monkeypatch):
    pytest.importorskip("skops")
    path = tmp_path / "m.hfm"
    save_model(Gadget(), path, format="skops")
    with pytest.raises(ModelLoadError, match=r"allow-list: .*Gadget"):
        load_model(path)


class Gadget:
    """A prediction-only model class that no allow-list knows."""

    def __init__(self) -> None:
        self.payload = [1, 2, 3]

    def predict(self, X: list[str]) -> list[int]:
        return [0 for _ in X]


def test_unknown_format_and_bad_metrics_are_refused(model, tmp_path):
    with pytest.raises(InputError, match="format"):
        save_model(model, tmp_path / "m.hfm", format="joblib")  # type: ignore[arg-type]
    with pytest.raises(InputError, match="JSON"):
        save_model(model, tmp_path / "m.hfm", metrics={"f1": float("nan")})
    assert not (tmp_path / "m.hfm").exists()


def test_save_is_atomic_and_leaves_no_temporary_files(model, tmp_path):
    save_model(model, tmp_path / "m.hfm")
    assert [p.name for p in tmp_path.iterdir() if p.name != "config"] == ["m.hfm"]


@pytest.mark.parametrize("obj", ["a model", None, 3, {"classes_": ["ERR.LAPSE"]}, object()])
def test_an_object_that_is_not_a_model_is_refused_at_save(obj, tmp_path):
    with pytest.raises(InputError, match=r"model must be a fitted estimator .* got "):
        save_model(obj, tmp_path / "m.hfm")
    assert not (tmp_path / "m.hfm").exists()


def test_an_unfitted_model_is_refused_at_save(tmp_path):
    with pytest.raises(ModelError, match=r"model \(HumanFactorsClassifier\) is not fitted"):
        save_model(HumanFactorsClassifier(), tmp_path / "m.hfm")
    assert not (tmp_path / "m.hfm").exists()

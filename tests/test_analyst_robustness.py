"""Robustness of the analyst tools: frames, suggest, themes, taxonomy, rules and plots."""

from __future__ import annotations

import json

import pytest

from humanfactors.exceptions import InputError

# -- frames -----------------------------------------------------------------------------


class _Unreadable:
    """A cell that claims to be a sequence and fails when read."""

    def __len__(self) -> int:
        return 1

    def __iter__(self):  # type: ignore[no-untyped-def]
        raise RuntimeError("Jane Smith, 12 Acacia Road")


def _frame_with_agencies(agencies: list[object]):  # type: ignore[no-untyped-def]
    pd = pytest.importorskip("pandas")
    n = len(agencies)
    texts = ["I forgot to ring the school.", "Mum did not attend.", "The visit went ahead."]
    return pd.DataFrame(
        {"id": list("abc")[:n], "narrative": texts[:n], "agencies": agencies}
    )


def test_frame_accepts_array_list_cells():
    np = pytest.importorskip("numpy")
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies(
        [np.array(["police", "GP"]), np.array(["school"]), np.array([], dtype=object)]
    )
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert res.errors.empty
    assert list(res.wide.index) == ["a", "b", "c"]


def test_frame_accepts_tuple_cells_and_missing_values():
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies([("police",), None, float("nan")])
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert res.errors.empty and list(res.wide.index) == ["a", "b", "c"]


def test_frame_row_failure_is_that_rows_error_record():
    from humanfactors.frames import analyse_frame

    df = _frame_with_agencies([["police"], _Unreadable(), ["school"]])
    res = analyse_frame(df, text_column="narrative", id_column="id", model=False)
    assert list(res.wide.index) == ["a", "c"]
    (err,) = res.errors.to_dict("records")
    assert err["id"] == "b" and err["line"] == 2
    assert "agencies" in err["error"] and "Acacia" not in err["error"]

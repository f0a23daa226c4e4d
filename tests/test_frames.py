"""analyse_frame: tidy and wide frames (pandas extra)."""

from __future__ import annotations

import pytest

pd = pytest.importorskip("pandas", reason="the pandas extra is not installed")

from humanfactors.frames import TIDY_COLUMNS, analyse_frame  # noqa: E402


def test_tidy_and_wide_frames():
    df = pd.DataFrame({
        "ref": ["a", "b", "c"],
        "text": [
            "I forgot to send the referral.",
            "Nothing of note happened on the visit today at all.",
            None,
        ],
        "region": ["London", "North East", "London"],
    })
    res = analyse_frame(df, text_column="text", id_column="ref", model=False)
    assert list(res.tidy.columns) == TIDY_COLUMNS
    assert "ERR.LAPSE" in set(res.tidy.loc[res.tidy.incident_id == "a", "code"])
    assert (res.tidy.region[res.tidy.incident_id == "a"] == "London").all()
    assert list(res.wide.index) == ["a", "b"]
    assert res.wide.loc["a", "ERR.LAPSE"] > 0 and res.wide.loc["b"].sum() == 0
    assert "PROT.DETECTION" in res.wide.columns  # one column per code, found or not
    assert list(res.errors["id"]) == ["c"]


def test_missing_column_is_named():
    from humanfactors.exceptions import InputError

    with pytest.raises(InputError, match="'narrative'"):
        analyse_frame(pd.DataFrame({"text": ["x"]}), text_column="narrative")

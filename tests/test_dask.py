"""Dask integration against a real dask.distributed LocalCluster."""

from __future__ import annotations

import pytest

pytest.importorskip("dask.dataframe", reason="the dask extra is not installed")
distributed = pytest.importorskip("distributed", reason="the dask extra is not installed")
pd = pytest.importorskip("pandas", reason="the pandas extra is not installed")

import dask.bag as db  # noqa: E402
import dask.dataframe as dd  # noqa: E402

from humanfactors.dask import analyse_bag, analyse_dataframe  # noqa: E402

TEXTS = [
    "I forgot to send the referral to the school.",
    "The HV did not feel able to challenge the consultant at the meeting.",
    "The duty manager spotted the missed visit the next morning.",
    "  ",
] * 3


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=40) as cluster, \
            distributed.Client(cluster) as c:
        yield c


@pytest.mark.slow
def test_dataframe_on_local_cluster_matches_local(client):
    from humanfactors.frames import analyse_frame

    df = pd.DataFrame({"id": [f"r{i}" for i in range(len(TEXTS))], "text": TEXTS})
    ddf = dd.from_pandas(df, npartitions=3)
    tidy = analyse_dataframe(ddf, text_column="text", id_column="id", model=False).compute()
    errors = tidy[tidy.source == "error"]
    assert sorted(errors.incident_id) == ["r11", "r3", "r7"]
    found = tidy[tidy.source != "error"].reset_index(drop=True)
    local = analyse_frame(df, text_column="text", id_column="id", model=False).tidy
    columns = ["incident_id", "code"]
    assert found[columns].values.tolist() == local[columns].values.tolist()


@pytest.mark.slow
def test_bag_on_local_cluster_keeps_every_record(client):
    bag = db.from_sequence(TEXTS, npartitions=4)
    out = analyse_bag(bag, model=False).compute()
    assert len(out) == len(TEXTS)
    assert sum("error" in r for r in out) == 3
    assert all("incident" in r for r in out if "error" not in r)

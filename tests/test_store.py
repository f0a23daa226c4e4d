"""IncidentStore: round trips, upserts, filters, migrations, and real concurrent processes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import date, timedelta
from pathlib import Path

import pytest

from humanfactors import Analysis, Finding, Incident, IncidentStore
from humanfactors.exceptions import InputError, StoreError
from humanfactors.models import Evidence, QualityIssue, RecordError, RedactionSpan, Severity
from humanfactors.store import MIGRATIONS, SCHEMA_VERSION, _statements

SRC = str(Path(__file__).resolve().parents[1] / "src")

NARRATIVE = (
    "I forgot to send the safety plan to the school. I had 30 cases and two colleagues off sick. "
    "The DSL noticed and rang me, and the plan went the same day."
)


def ev(text: str, phrase: str) -> Evidence:
    start = text.index(phrase)
    return Evidence(start=start, end=start + len(phrase), text=phrase)


def make(
    id: str = "r1",
    codes: tuple[str, ...] = ("ERR.LAPSE", "CF.TASK.WORKLOAD", "PROT.DETECTION"),
    *,
    region: str | None = "North West",
    occurred_on: date | None = date(2024, 3, 5),
    agencies: tuple[str, ...] = ("children's social care", "education"),
    model_version: str | None = "m-1",
    **fields: object,
) -> Analysis:
    phrases = {
        "ERR.LAPSE": "forgot to send",
        "CF.TASK.WORKLOAD": "I had 30 cases",
        "PROT.DETECTION": "The DSL noticed",
    }
    findings = [
        Finding(
            code=c,
            confidence=0.5 + 0.1 * i,
            source="rule" if i % 2 else "model",
            evidence=(ev(NARRATIVE, phrases[c]),) if c in phrases else (),
            explanation=f"because {c}",
            rule_ids=(f"rule.{i}",) if i % 2 else (),
        )
        for i, c in enumerate(codes)
    ]
    incident = Incident(
        id=id,
        narrative=NARRATIVE,
        region=region,
        occurred_on=occurred_on,
        agencies=agencies,
        **fields,
    )  # type: ignore[arg-type]
    return Analysis(
        incident=incident,
        findings=tuple(findings),
        taxonomy="safeguarding",
        taxonomy_version="1.0.0",
        model_version=model_version,
    )


@pytest.fixture
def store(tmp_path: Path):
    with IncidentStore(tmp_path / "store.sqlite") as s:
        yield s


def test_round_trip_is_exact(store: IncidentStore):
    rich = make(
        "rich",
        event_type="near_miss",
        harm="low",
        reported_on=date(2024, 3, 9),
        setting="home visit",
        reporter_role="social worker",
        metadata={"team": "north", "n": 3, "nested": {"a": [1, 2.5, None]}},
    )
    quality = QualityIssue(
        code="CHK.HINDSIGHT",
        message="m",
        suggestion="s",
        severity=Severity.INFO,
        evidence=(ev(NARRATIVE, "forgot"),),
    )
    rich = rich.model_copy(
        update={
            "quality_issues": (quality,),
            "redacted": True,
            "feedback": "Thank you.",
            "redactions": (
                RedactionSpan(entity="PERSON", start=0, end=4, replacement="[PERSON_1]"),
            ),
        }
    )
    bare = make("bare", codes=(), region=None, occurred_on=None, agencies=(), model_version=None)
    assert store.add([rich, bare]) == 2
    back = {a.incident.id: a for a in store.analyses()}
    assert back == {"rich": rich, "bare": bare}
    assert back["rich"].model_dump_json() == rich.model_dump_json()


def test_upsert_replaces_findings_and_keeps_history(store: IncidentStore):
    store.add(make("r1", model_version="m-1"))
    store.add(make("r1", codes=("GRP.GROUPTHINK",), region="London", model_version="m-2"))
    assert store.count() == 1
    (only,) = store.analyses()
    assert only.codes == ("GRP.GROUPTHINK",)
    assert only.incident.region == "London"
    assert [f.code for f in store.findings()] == ["GRP.GROUPTHINK"]
    assert [h.model_version for h in store.history("r1")] == ["m-1", "m-2"]
    assert store.history("r1")[0].analysed_at <= store.history("r1")[1].analysed_at


def test_repeated_id_in_one_batch_keeps_the_last(store: IncidentStore):
    assert store.add([make("r1"), make("r1", codes=("ERR.SLIP",))]) == 1
    assert [f.code for f in store.findings()] == ["ERR.SLIP"]


def _fixture_store(store: IncidentStore) -> None:
    store.add(
        [
            make(
                "a",
                region="North West",
                occurred_on=date(2023, 1, 10),
                agencies=("police",),
                event_type="incident",
                harm="moderate",
                setting="office",
            ),
            make(
                "b",
                codes=("ERR.SLIP",),
                region="London",
                occurred_on=date(2024, 6, 1),
                agencies=(),
                event_type="near_miss",
                harm="none",
                setting="home visit",
            ),
            make(
                "c",
                codes=("CF.TASK.PROCEDURE", "PROT.CHALLENGE"),
                region="London",
                occurred_on=None,
                reported_on=date(2025, 2, 1),
                agencies=("police", "health"),
            ),
            make("d", codes=("CF.TASKS.X",), region=None, occurred_on=None),
        ]
    )


@pytest.mark.parametrize(
    "filters, expected",
    [
        ({}, {"a", "b", "c", "d"}),
        ({"code_prefix": "ERR"}, {"a", "b"}),
        ({"code_prefix": "ERR.LAPSE"}, {"a"}),
        ({"code_prefix": "CF.TASK"}, {"a", "c"}),  # not CF.TASKS.X: prefixes stop at dots
        ({"code_prefix": "CF.TASK."}, {"a", "c"}),
        ({"code_prefix": "PROT"}, {"a", "c"}),
        ({"code_prefix": "NOPE"}, set()),
        ({"since": "2024-01-01"}, {"b", "c"}),  # c has only reported_on
        ({"until": date(2024, 6, 1)}, {"a", "b"}),
        ({"since": "2024-01-01", "until": "2024-12-31"}, {"b"}),
        ({"region": "London"}, {"b", "c"}),
        ({"agency": "police"}, {"a", "c"}),
        ({"agency": "health", "region": "London"}, {"c"}),
        ({"setting": "home visit"}, {"b"}),
        ({"event_type": "near_miss"}, {"b"}),
        ({"harm": "moderate"}, {"a"}),
        ({"region": "London", "code_prefix": "PROT"}, {"c"}),
    ],
)
def test_filters(store: IncidentStore, filters: dict[str, object], expected: set[str]):
    _fixture_store(store)
    assert {i.id for i in store.incidents(**filters)} == expected  # type: ignore[arg-type]
    assert store.count(**filters) == len(expected)  # type: ignore[arg-type]
    assert {a.incident.id for a in store.analyses(**filters)} == expected  # type: ignore[arg-type]


def test_findings_filter_selects_findings_themselves(store: IncidentStore):
    _fixture_store(store)
    found = store.findings(code_prefix="ERR")
    assert sorted((f.incident_id, f.code) for f in found) == [("a", "ERR.LAPSE"), ("b", "ERR.SLIP")]
    lapse = next(f for f in found if f.code == "ERR.LAPSE")
    assert [e.text for e in lapse.evidence] == ["forgot to send"]
    assert lapse.event_date == date(2023, 1, 10) and lapse.region == "North West"
    assert "forgot" not in repr(lapse)
    assert store.codes(region="London") == {
        "ERR.SLIP": 1,
        "CF.TASK.PROCEDURE": 1,
        "PROT.CHALLENGE": 1,
    }


@pytest.mark.parametrize(
    "filters, message",
    [
        ({"since": "last tuesday"}, "since must be a date"),
        ({"harm": "awful"}, "harm must be one of"),
        ({"event_type": "accident"}, "event_type must be one of"),
        ({"code_prefix": " "}, "code_prefix"),
    ],
)
def test_bad_filters_are_input_errors(
    store: IncidentStore, filters: dict[str, object], message: str
):
    with pytest.raises(InputError, match=message):
        store.count(**filters)  # type: ignore[arg-type]


def test_add_is_atomic_and_skips_record_errors(
    store: IncidentStore, caplog: pytest.LogCaptureFixture
):
    store.add(make("keep"))
    with pytest.raises(InputError, match="item 2 is a str"):
        store.add([make("x1"), make("x2"), "not an analysis"])  # type: ignore[list-item]
    assert [a.incident.id for a in store.analyses()] == ["keep"]
    assert store.add([make("y"), RecordError(id="bad", line=2, error="narrative is empty")]) == 1
    assert "skipped 1 failed records" in caplog.text
    # a code inserted by the rolled-back transaction must not be cached as existing
    with pytest.raises(InputError):
        store.add([make("z", codes=("NEW.CODE",)), 3])  # type: ignore[list-item]
    store.add(make("z", codes=("NEW.CODE",)))
    assert store.codes()["NEW.CODE"] == 1


def test_pragmas_and_integrity(tmp_path: Path):
    path = tmp_path / "s.db"
    with IncidentStore(path) as s:
        s.add(make())
        assert s._query("PRAGMA journal_mode")[0][0] == "wal"
        assert s._query("PRAGMA foreign_keys")[0][0] == 1
        assert s.schema_version == SCHEMA_VERSION
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA foreign_key_check").fetchall() == []


def test_migrates_a_version_1_store(tmp_path: Path):
    path = tmp_path / "old.sqlite"
    con = sqlite3.connect(path)
    con.execute(
        "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)"
    )
    for statement in _statements(MIGRATIONS[0]):
        con.execute(statement)
    con.execute("INSERT INTO schema_version VALUES (1, '2024-01-01T00:00:00+00:00')")
    con.execute(
        "INSERT INTO incidents (id, narrative, occurred_on, region)"
        " VALUES ('old', ?, '2023-05-01', 'London')",
        (NARRATIVE,),
    )
    con.execute("INSERT INTO codes (code) VALUES ('ERR.LAPSE')")
    con.execute(
        "INSERT INTO analyses VALUES (1, 'safeguarding', '0.9', 'm-0', 0,"
        " '2024-01-01T00:00:00+00:00', '[]', '[]', '', 1)"
    )
    con.execute("INSERT INTO findings VALUES (1, 0, 1, 0.8, 'rule', '[[2, 8]]', '', '[]')")
    con.commit()
    con.close()
    with IncidentStore(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        (old,) = s.analyses()
        assert old.codes == ("ERR.LAPSE",) and old.findings[0].evidence[0].text == "forgot"
        assert s.count(since="2023-01-01", code_prefix="ERR") == 1
        assert [(h.incident_id, h.taxonomy_version) for h in s.history()] == [("old", "0.9")]
        s.add(make("new"))
        assert s.count() == 2
    with IncidentStore(path) as s:  # opening again is a no-op
        assert [
            v for (v,) in s._query("SELECT version FROM schema_version ORDER BY version")
        ] == list(range(1, SCHEMA_VERSION + 1))


def test_refuses_newer_foreign_and_corrupt_files(tmp_path: Path):
    newer = tmp_path / "newer.db"
    IncidentStore(newer).close()
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO schema_version VALUES (?, 'x')", (SCHEMA_VERSION + 1,))
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="newer than this humanfactors supports"):
        IncidentStore(newer)
    foreign = tmp_path / "foreign.db"
    con = sqlite3.connect(foreign)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="not a humanfactors store"):
        IncidentStore(foreign)
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match="not a usable humanfactors store"):
        IncidentStore(garbage)
    with pytest.raises(StoreError, match="directory"):
        IncidentStore(tmp_path)


def test_closed_store_refuses_work(tmp_path: Path):
    s = IncidentStore(tmp_path / "s.db")
    s.close()
    s.close()
    with pytest.raises(StoreError, match="closed"):
        s.add(make())
    assert "closed" in repr(s)


def test_export_jsonl_and_frame(store: IncidentStore, tmp_path: Path):
    from humanfactors.frames import analyses_to_frames

    _fixture_store(store)
    out = tmp_path / "out.jsonl"
    assert store.export_jsonl(out, region="London") == 2
    lines = [Analysis.model_validate_json(line) for line in out.read_text().splitlines()]
    assert {a.incident.id for a in lines} == {"b", "c"}
    frame = store.to_frame().sort_values(["incident_id", "code"]).reset_index(drop=True)
    tidy = analyses_to_frames(store.analyses()).tidy
    tidy = tidy.sort_values(["incident_id", "code"]).reset_index(drop=True)
    assert list(frame.columns) == list(tidy.columns)
    assert frame.astype(str).equals(tidy.astype(str))


def test_to_frame_without_pandas_names_the_extra(
    store: IncidentStore, monkeypatch: pytest.MonkeyPatch
):
    from humanfactors.exceptions import MissingDependencyError

    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'humanfactors\[pandas\]'"):
        store.to_frame()


def test_threads_share_one_store(store: IncidentStore):
    from concurrent.futures import ThreadPoolExecutor

    def work(i: int) -> int:
        store.add(make(f"t{i}"))
        return store.count()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, range(40)))
    assert store.count() == 40


# -- real processes ------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {src!r})
    from datetime import date
    from humanfactors import Analysis, Finding, Incident, IncidentStore
    path, batch, batches = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    def make(i):
        inc = Incident(id=f"w{{i:07d}}", narrative="I forgot the visit. " * 3, region="London",
                       occurred_on=date(2024, 1 + i % 12, 1))
        findings = [Finding(code="ERR.LAPSE", confidence=0.9, source="rule"),
                    Finding(code="CF.TASK.WORKLOAD", confidence=0.6, source="model")]
        return Analysis(incident=inc, findings=findings,
                        taxonomy="safeguarding", taxonomy_version="1.0.0")
    items = [make(i) for i in range(batch * batches)]
    with IncidentStore(path) as store:
        for b in range(batches):
            store.add(items[b * batch:(b + 1) * batch])
            print("committed", (b + 1) * batch, flush=True)
""")

READER = textwrap.dedent("""
    import sys, time
    sys.path.insert(0, {src!r})
    from humanfactors import IncidentStore
    path, batch, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    seen, end = [], time.monotonic() + seconds
    with IncidentStore(path) as store:
        while time.monotonic() < end:
            f = len(store.findings(code_prefix="ERR"))
            n = store.count()  # read after: the writer may have committed in between
            assert n % batch == 0 and f % batch == 0 and f <= n, (n, f)  # never half a batch
            assert not seen or n >= seen[-1]
            seen.append(n)
    print(len(seen), seen[-1])
""")


def _script(tmp_path: Path, name: str, body: str) -> Path:
    path = tmp_path / name
    path.write_text(body.format(src=SRC))
    return path


def test_many_readers_one_writer_in_real_processes(tmp_path: Path):
    db = str(tmp_path / "shared.sqlite")
    IncidentStore(db).close()
    writer = _script(tmp_path, "writer.py", WRITER)
    reader = _script(tmp_path, "reader.py", READER)
    readers = [
        subprocess.Popen(
            [sys.executable, str(reader), db, "200", "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    w = subprocess.run(
        [sys.executable, str(writer), db, "200", "15"], capture_output=True, text=True, timeout=120
    )
    assert w.returncode == 0, w.stderr[-2000:]
    for r in readers:
        out, err = r.communicate(timeout=120)
        assert r.returncode == 0, err[-2000:]
        polls, _last = map(int, out.split())
        assert polls > 5
    with IncidentStore(db) as s:
        assert s.count() == 3000


def test_writer_killed_mid_batch_leaves_a_consistent_store(tmp_path: Path):
    db = str(tmp_path / "killed.sqlite")
    writer = _script(tmp_path, "writer.py", WRITER)
    batch = 4000
    proc = subprocess.Popen(
        [sys.executable, str(writer), db, str(batch), "8"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    committed = 0
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while committed < 2 * batch and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        committed = int(line.split()[1])
    assert committed >= 2 * batch, proc.stderr.read() if proc.stderr else ""
    time.sleep(0.05)  # into the next batch's transaction
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)  # reaps it and closes the pipes
    assert proc.returncode == -signal.SIGKILL
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with IncidentStore(db) as s:
        n = s.count()
        assert n >= committed and n % batch == 0
        assert len(s.findings()) == 2 * n
        assert len(s.history()) == n
        assert s._query("PRAGMA foreign_key_check") == []
        s.add(make("after"))  # and it takes writes again
        assert s.count() == n + 1


def test_kill_during_long_transaction_rolls_it_back(tmp_path: Path):
    """Kill while a transaction is certainly open (the writer says so, then sleeps in it)."""
    db = str(tmp_path / "open-txn.sqlite")
    with IncidentStore(db) as s:
        s.add([make(f"base{i}") for i in range(10)])
    code = textwrap.dedent(f"""
        import sys, time
        sys.path.insert(0, {SRC!r})
        from humanfactors import IncidentStore
        from humanfactors.models import Analysis
        import json
        items = [Analysis.model_validate_json(l) for l in sys.stdin]
        def slow():
            for i, a in enumerate(items):
                if i == len(items) - 1:
                    print("inside", flush=True)
                    time.sleep(60)
                yield a
        IncidentStore({db!r}).add(slow())
    """)
    payload = "".join(make(f"new{i}").model_dump_json() + "\n" for i in range(5000))
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(payload)
    proc.stdin.close()
    assert proc.stdout.readline().strip() == "inside"
    probe = sqlite3.connect(db, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        probe.execute("BEGIN IMMEDIATE")  # the writer's transaction is open
    probe.close()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()
    proc.stderr.close()  # type: ignore[union-attr]
    con = sqlite3.connect(db)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    with IncidentStore(db) as s:
        assert s.count() == 10
        assert {a.incident.id for a in s.analyses()} == {f"base{i}" for i in range(10)}


def test_jsonl_export_reimports(tmp_path: Path, store: IncidentStore):
    _fixture_store(store)
    out = tmp_path / "all.jsonl"
    store.export_jsonl(out)
    with IncidentStore(tmp_path / "copy.db") as copy:
        copy.add(Analysis.model_validate(json.loads(line)) for line in out.read_text().splitlines())
        assert list(copy.analyses()) == list(store.analyses())
        assert date.today() - timedelta(days=1) <= copy.history()[0].analysed_at.date()


def test_remove_deletes_everything_of_a_report(store: IncidentStore):
    _fixture_store(store)
    store.add(make("a", codes=("ERR.SLIP",)))  # a second history entry
    assert store.remove(["a", "missing"]) == 1
    assert store.count() == 3 and "a" not in {i.id for i in store.incidents()}
    assert store.history("a") == []
    assert all(f.incident_id != "a" for f in store.findings())
    assert store._query("SELECT count(*) FROM incident_agencies g WHERE g.incident_key NOT IN"
                        " (SELECT key FROM incidents)") == [(0,)]
    assert store.remove("b") == 1 and store.count() == 2

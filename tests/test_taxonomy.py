"""Taxonomies: built-ins complete, lookups, hierarchy, validation errors, crosswalks."""

from __future__ import annotations

import pickle
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from humanfactors.exceptions import TaxonomyError, UnknownCodeError
from humanfactors.taxonomy import list_taxonomies, load_crosswalk, load_taxonomy

ARCH = Path(__file__).resolve().parents[2] / "shared" / "ARCHITECTURE.md"
ARCH_CODES = """ERR.SLIP ERR.LAPSE ERR.MISTAKE.RULE ERR.MISTAKE.KNOWLEDGE VIOL.ROUTINE
VIOL.SITUATIONAL VIOL.EXCEPTIONAL GRP.GROUPTHINK GRP.RISKY_SHIFT GRP.AUTHORITY_GRADIENT
GRP.DIFFUSION
BIAS.CONFIRMATION BIAS.OPTIMISM ANL.SINGLE_ISSUE ANL.DESCRIPTIVE ANL.HISTORY_IGNORED
FAM.DISGUISED_COMPLIANCE FAM.NON_ENGAGEMENT FAM.CHILD_UNSEEN FAM.LANGUAGE CF.IND.SKILLS
CF.IND.WELLBEING CF.IND.DISTRACTION CF.TASK.WORKLOAD CF.TASK.PROCEDURE CF.TASK.TOOLS
CF.TEAM.COMMUNICATION CF.TEAM.INFO_SHARING CF.TEAM.SUPERVISION CF.ENV.STAFFING
CF.ENV.RECORDING_IT CF.ORG.FUNDING CF.ORG.BUREAUCRACY CF.ORG.CULTURE CF.ORG.CHANGE
CF.ORG.QUALITY_ASSURANCE CF.INST.POLICY PROT.DETECTION PROT.MITIGATION PROT.GOOD_PRACTICE
PROT.CHALLENGE PROT.RELATIONSHIPS""".split()  # noqa: SIM905 - laid out as in ARCHITECTURE.md
ASRS_SPELLINGS = [
    "Situational Awareness", "Communication Breakdown", "Confusion", "Distraction", "Workload",
    "Time Pressure", "Human-Machine Interface", "Training / Qualification", "Troubleshooting",
    "Other / Unknown", "Physiological - Other", "Fatigue",
]


def test_builtins_listed():
    assert set(list_taxonomies()) >= {"safeguarding", "hfacs", "asrs"}
    assert load_taxonomy().name == "safeguarding"


def test_every_architecture_code_is_a_leaf_with_content():
    tax = load_taxonomy("safeguarding")
    assert set(tax.leaves()) == set(ARCH_CODES)
    if ARCH.is_file():  # the list above must match the architecture document
        documented = set(
            re.findall(r"`((?:ERR|VIOL|GRP|BIAS|ANL|FAM|CF|PROT)\.[A-Z_.]+)`", ARCH.read_text())
        )
        assert documented == set(ARCH_CODES)
    for f in tax:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", f.definition.strip()) if s]
        assert len(sentences) >= 2, f.code
        assert len(f.examples) >= 3, f.code
        assert f.sources, f.code


def test_protective_polarity_inherited():
    tax = load_taxonomy()
    assert tax.is_protective("PROT.CHALLENGE")
    assert not tax.is_protective("ERR.LAPSE")


def test_hierarchy_queries():
    tax = load_taxonomy()
    assert tax.ancestors("ERR.MISTAKE.RULE") == ("ERR.MISTAKE", "ERR")
    assert tax.parent("ERR.MISTAKE.RULE") == "ERR.MISTAKE"
    assert set(tax.children("ERR.MISTAKE")) == {"ERR.MISTAKE.RULE", "ERR.MISTAKE.KNOWLEDGE"}
    assert set(tax.leaves("ERR")) == {
        "ERR.SLIP", "ERR.LAPSE", "ERR.MISTAKE.RULE", "ERR.MISTAKE.KNOWLEDGE"
    }
    assert tax.at_level("ERR.MISTAKE.RULE", 1) == "ERR"
    assert tax.at_level("ERR.MISTAKE.RULE", 2) == "ERR.MISTAKE"
    assert tax.at_level("ERR.LAPSE", 5) == "ERR.LAPSE"
    assert tax["ERR.MISTAKE.RULE"].level == 3
    assert "ERR.LAPSE" in tax.descendants("ERR")
    assert set(tax.roots()) == {"ERR", "VIOL", "GRP", "BIAS", "ANL", "FAM", "CF", "PROT"}


def test_hfacs_has_four_tiers_and_nineteen_categories():
    tax = load_taxonomy("hfacs")
    assert len(tax.roots()) == 4
    assert len(tax.leaves()) == 19


def test_asrs_aliases_are_exact_spellings():
    tax = load_taxonomy("asrs")
    assert len(tax.leaves()) == 12
    aliases = {a for f in tax for a in f.aliases}
    assert set(ASRS_SPELLINGS) <= aliases
    assert len({tax.resolve(s) for s in ASRS_SPELLINGS}) == 12


def test_lookup_by_alias_case_insensitive():
    tax = load_taxonomy()
    assert tax.resolve("err.lapse") == "ERR.LAPSE"
    assert tax["Rule of Optimism"].code == "BIAS.OPTIMISM"
    assert "err.lapse" in tax and "NOPE" not in tax and 3 not in tax


def test_unknown_code_suggests_near_matches():
    tax = load_taxonomy()
    with pytest.raises(UnknownCodeError) as info:
        tax.resolve("ERR.LAPS")
    assert "ERR.LAPSE" in str(info.value)
    assert isinstance(info.value, KeyError) and isinstance(info.value, TaxonomyError)
    assert tax.get("ERR.LAPS") is None


def test_taxonomy_pickles_and_compares():
    tax = load_taxonomy("asrs")
    again = pickle.loads(pickle.dumps(tax))
    assert again == tax and again.fingerprint == tax.fingerprint
    assert tax != load_taxonomy("hfacs")


def _write(tmp_path, body):
    p = tmp_path / "mine.toml"
    p.write_text(body, encoding="utf-8")
    return p


HEAD = '[taxonomy]\nname = "mine"\nversion = "1"\n'


def fac(code, parent=None):
    extra = f'parent = "{parent}"\n' if parent else ""
    return f'[[factors]]\ncode = "{code}"\nname = "n"\ndefinition = "d"\n{extra}'


@pytest.mark.parametrize(
    "body, message",
    [
        (HEAD + fac("A") + fac("A"), "duplicate code 'A'"),
        (HEAD + fac("A.B"), "parent 'A' is not defined"),
        (HEAD + fac("A", "B") + fac("B", "A"), "cycle"),
        (HEAD + fac("A", "A"), "its own parent"),
        (HEAD, "missing \\[\\[factors\\]\\]"),
        ('[taxonomy]\nname = "x"\n' + fac("A"), "version"),
        (HEAD + '[[factors]]\ncode = "A"\nname = "n"\n', "factor 'A'.*definition"),
        (
            HEAD + fac("A") + 'aliases = ["b"]\n' + fac("B"),
            "alias 'B' of 'B' is already used by 'A'",
        ),
        ("not = [toml", "invalid TOML"),
    ],
)
def test_invalid_files_name_file_code_and_problem(tmp_path, body, message):
    path = _write(tmp_path, body)
    with pytest.raises(TaxonomyError, match=message) as info:
        load_taxonomy(path)
    assert str(path) in str(info.value)


def test_user_file_loads(tmp_path):
    path = _write(tmp_path, HEAD + fac("A") + fac("A.B") + fac("C"))
    tax = load_taxonomy(path)
    assert tax.leaves() == ("A.B", "C") and tax.version == "1"


def test_unknown_name_and_missing_file(tmp_path):
    with pytest.raises(TaxonomyError, match="unknown taxonomy 'nonesuch'"):
        load_taxonomy("nonesuch")
    with pytest.raises(TaxonomyError, match="cannot read"):
        load_taxonomy(tmp_path / "absent.toml")


@given(st.binary(max_size=300) | st.text(max_size=300).map(lambda s: s.encode("utf-8", "replace")))
def test_garbage_files_give_taxonomy_error_only(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("g") / "g.toml"
    path.write_bytes(blob)
    with pytest.raises(TaxonomyError):
        load_taxonomy(path)


@given(st.lists(st.tuples(st.sampled_from(["A", "B", "C", "A.B", "B.C", "X.Y"]),
                          st.none() | st.sampled_from(["A", "B", "C", "Z"])), max_size=6))
def test_random_structures_load_or_raise_taxonomy_error(tmp_path_factory, items):
    body = HEAD + "".join(fac(c, p) for c, p in items)
    path = tmp_path_factory.mktemp("s") / "s.toml"
    path.write_text(body)
    try:
        tax = load_taxonomy(path)
    except TaxonomyError:
        return
    for code in tax.codes:  # a loaded taxonomy is a proper tree
        assert code not in tax.ancestors(code)


def test_crosswalks_map_both_ways():
    walk = load_crosswalk("asrs", "safeguarding")
    assert walk.map("Distraction") == ("CF.IND.DISTRACTION",)
    back = load_crosswalk("safeguarding", "asrs")
    assert "DISTRACTION" in back.map("CF.IND.DISTRACTION")
    hf = load_crosswalk("hfacs", "safeguarding")
    assert hf.mappings and all(m.target in load_taxonomy() for m in hf.mappings)
    with pytest.raises(TaxonomyError, match="no built-in crosswalk"):
        load_crosswalk("asrs", "asrs")


def test_taxonomy_reference_page_is_current():
    import runpy

    root = Path(__file__).resolve().parents[1]
    tool = root / "tools" / "gen_taxonomy_docs.py"
    page = root / "docs" / "taxonomy.md"
    if not tool.is_file():
        pytest.skip("tools/ is not part of this checkout")
    render = runpy.run_path(str(tool))["render"]
    assert page.read_text(encoding="utf-8") == render(), "run python tools/gen_taxonomy_docs.py"

"""`cases assign --to` names a department of the catalog or the districts, however it is typed."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from socialbot.catalog import load_catalog
from socialbot.config import SHIPPED_HASHTAGS
from socialbot.departments import department_named, fold, known_departments
from socialbot.districts import load_districts
from socialbot.errors import UnknownDepartment

CATALOG = load_catalog(SHIPPED_HASHTAGS)
DISTRICTS = load_districts(
    Path(__file__).resolve().parent.parent / "socialbot/data/districts-demo.geojson",
    known_categories=[c.key for c in CATALOG.categories],
)
KNOWN = known_departments(CATALOG, DISTRICTS)


def test_the_known_departments_are_the_catalog_s_and_the_districts_overrides() -> None:
    assert set(KNOWN) == {c.department for c in CATALOG.categories} | {
        "Back Bay Association – Clean Team"
    }
    assert len(KNOWN) == len(set(KNOWN)) == 21
    assert "Back Bay Association – Clean Team" not in known_departments(CATALOG)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("Public Works – Highway", "Public Works – Highway"),
        ("public works - highway", "Public Works – Highway"),
        ("PUBLIC WORKS HIGHWAY", "Public Works – Highway"),
        ("  public   works —  highway ", "Public Works – Highway"),
        ("back bay association - clean team", "Back Bay Association – Clean Team"),
        ("Police – Nón-Emergency", "Police – Non-Emergency"),
    ],
)
def test_a_department_is_matched_folded_and_stored_as_the_catalog_spells_it(
    typed: str, meant: str
) -> None:
    assert department_named(typed, KNOWN) == meant


def test_an_unknown_department_is_refused_with_the_nearest_names() -> None:
    with pytest.raises(UnknownDepartment) as refused:
        department_named("Parks", KNOWN)
    assert refused.value.suggestions == (
        "Parks and Recreation – Maintenance",
        "Parks and Recreation – Urban Forestry",
    )
    assert str(refused.value) == (
        "--to 'Parks': no department of the catalog or districts is called that; did you mean "
        "'Parks and Recreation – Maintenance', 'Parks and Recreation – Urban Forestry'? "
        "(--force assigns to a new department)"
    )


def test_a_typo_is_offered_its_department_first() -> None:
    with pytest.raises(UnknownDepartment) as refused:
        department_named("Pubilc Works Highway", KNOWN)
    assert refused.value.suggestions[0] == "Public Works – Highway"
    assert len(refused.value.suggestions) <= 3


def test_a_name_like_none_says_where_the_names_are() -> None:
    with pytest.raises(UnknownDepartment) as refused:
        department_named("Library", KNOWN)
    assert refused.value.suggestions == ()
    assert "the catalog's `department:` fields (SOCIALBOT_HASHTAGS) list them" in str(refused.value)


def _retyped(name: str, data: st.DataObject) -> str:
    """`name` as staff might type it: any case, accents decomposed, any dash, extra spaces."""
    out = []
    for char in unicodedata.normalize("NFD", name):
        if unicodedata.category(char) == "Pd":
            char = data.draw(st.sampled_from(["-", "–", "—", " - ", ""]))
        elif char == " ":
            char = data.draw(st.sampled_from([" ", "  ", "\t"]))
        elif data.draw(st.booleans()):
            char = char.swapcase()
        out.append(char)
    return "".join(out)


@given(st.sampled_from(KNOWN), st.data())
def test_every_department_however_typed_is_itself(name: str, data: st.DataObject) -> None:
    assert department_named(_retyped(name, data), KNOWN) == name


@given(st.text())
def test_folding_is_idempotent_and_no_text_breaks_the_lookup(text: str) -> None:
    assert fold(fold(text)) == fold(text)
    try:
        found = department_named(text, KNOWN)
    except UnknownDepartment as refused:
        assert all(name in KNOWN for name in refused.suggestions)
    else:
        assert found in KNOWN

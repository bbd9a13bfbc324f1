"""The catalog's Open311 mapping: `open311_service_code` and `open311_attributes` per category,
and one exact `file:line` message per kind of mistake."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialbot.catalog import OPEN311_PLACEHOLDERS, load_catalog, parse_catalog
from socialbot.errors import CatalogError
from tests.test_catalog import GOOD, SHIPPED, error, load_text

# The pothole category (line 3) mapped: its fields are lines 11 to 15.
MAPPED = GOOD.replace(
    "    featured: true\n",
    "    featured: true\n"
    "    open311_service_code: 4fd3b167e750846744000005\n"
    "    open311_attributes:\n"
    "      ward: '{district}'\n"
    "      source: '{network}'\n"
    "      size: large\n",
    1,
)


def test_the_shipped_catalog_maps_nothing() -> None:
    # The shipped categories have no city's codes: a code made up here would be sent to a CRM.
    catalog = load_catalog(SHIPPED)
    assert [c.key for c in catalog.categories if c.open311_service_code is not None] == []
    assert all(c.open311_attributes == () for c in catalog.categories)


def test_a_mapped_category_carries_its_code_and_attribute_rules(tmp_path: Path) -> None:
    catalog = load_text(tmp_path, MAPPED)
    pothole, graffiti = catalog.categories
    assert pothole.open311_service_code == "4fd3b167e750846744000005"
    assert pothole.open311_attributes == (
        ("ward", "{district}"),
        ("source", "{network}"),
        ("size", "large"),
    )
    assert (graffiti.open311_service_code, graffiti.open311_attributes) == (None, ())


def test_a_code_written_as_a_number_is_kept_as_written(tmp_path: Path) -> None:
    catalog = load_text(tmp_path, MAPPED.replace("4fd3b167e750846744000005", "007"))
    assert catalog.categories[0].open311_service_code == "007"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "open311_service_code: 4fd3b167e750846744000005",
            "open311_service_code:",
            "11: open311_service_code of category 'pothole' is empty",
        ),
        (
            "open311_service_code: 4fd3b167e750846744000005",
            "open311_service_code: [a, b]",
            "11: open311_service_code of category 'pothole' must be text, not a list",
        ),
        (
            "open311_service_code: 4fd3b167e750846744000005",
            "open311_service_code: " + "x" * 101,
            "11: open311_service_code of category 'pothole' must be a code as `socialbot "
            "open311 services` lists it, one line of at most 100 characters",
        ),
        (
            "      ward: '{district}'",
            "      ward: '{distrct}'",
            "13: attribute 'ward' of category 'pothole': '{distrct}' is not one of ours; use "
            "{category}, {district}, {network} or a fixed value without braces",
        ),
        (
            "      size: large",
            "      ward: large",
            "15: attribute 'ward' appears twice in open311_attributes of category 'pothole' "
            "(lines 13 and 15); keep one",
        ),
        (
            "      size: large",
            "      size: [large]",
            "15: attribute 'size' in open311_attributes of category 'pothole' must be text, not "
            "a list",
        ),
        (
            "      size: large",
            "      size:",
            "15: attribute 'size' in open311_attributes of category 'pothole' is empty",
        ),
        (
            "    open311_attributes:\n      ward: '{district}'\n      source: '{network}'\n"
            "      size: large",
            "    open311_attributes: [ward]",
            "12: open311_attributes of category 'pothole' must map attribute codes to values, "
            "like {ward: '{district}', size: large}, not a list",
        ),
        (
            "    open311_service_code: 4fd3b167e750846744000005\n",
            "",
            "11: open311_attributes of category 'pothole' without open311_service_code: add the "
            "service they belong to, or remove them",
        ),
    ],
)
def test_each_mistake_is_one_line_naming_file_and_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in MAPPED
    assert error(tmp_path, MAPPED.replace(old, new, 1)) == f"DIR/hashtags.yaml:{message}"


def test_the_code_given_twice_names_both_lines(tmp_path: Path) -> None:
    text = MAPPED.replace(
        "    open311_attributes:", "    open311_service_code: other\n    open311_attributes:", 1
    )
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:12: field 'open311_service_code' appears twice in category "
        "'pothole' (lines 11 and 12); keep one"
    )


VALUES = st.one_of(
    st.sampled_from([*OPEN311_PLACEHOLDERS, "{distrct}", "large", "'{x}'", "[a]", "", "1"]),
    st.text(max_size=20),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(code=VALUES, attributes=st.dictionaries(VALUES, VALUES, max_size=4))
def test_any_mapping_loads_or_is_one_line_naming_the_file(
    code: str, attributes: dict[str, str]
) -> None:
    # Values quoted as JSON (valid YAML flow scalars), so the category stays one mapping.
    import json

    lines = [f"    open311_service_code: {json.dumps(code)}"]
    if attributes:
        lines.append("    open311_attributes:")
        lines += [f"      {json.dumps(k)}: {json.dumps(v)}" for k, v in attributes.items()]
    text = GOOD.replace("    featured: true\n", "    featured: true\n" + "\n".join(lines) + "\n")
    try:
        catalog = parse_catalog(text, Path("hashtags.yaml"))
    except CatalogError as exc:
        message = str(exc)
        assert message.startswith("hashtags.yaml:") and "\n" not in message
        return
    pothole = catalog.categories[0]
    assert pothole.open311_service_code == code.strip()
    for name, value in pothole.open311_attributes:
        assert name and value
        assert value in OPEN311_PLACEHOLDERS or not ({"{", "}"} & set(value))

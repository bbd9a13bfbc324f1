"""The hashtag catalog: the shipped file, matching, and one exact message per kind of mistake."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from socialbot.catalog import (
    Alias,
    Catalog,
    Category,
    Priority,
    load_catalog,
    normalize_tag,
    parse_catalog,
)
from socialbot.errors import CatalogError

SHIPPED = Path(__file__).resolve().parents[1] / "hashtags.yaml"

# Two valid categories; the error tests below change one thing each. Line 3 is `- key: pothole`.
GOOD = """\
version: 1
categories:
  - key: pothole
    names: {en: Pothole, es: Bache}
    aliases:
      en: [pothole, potholes]
      es: [bache, baches]
    department: Public Works
    priority: normal
    featured: true
  - key: graffiti
    names: {en: Graffiti, es: Grafiti}
    aliases:
      en: [graffiti]
      es: [grafiti]
    department: Property Management
    priority: low
"""


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return load_catalog(SHIPPED)


def load_text(tmp_path: Path, text: str) -> Catalog:
    path = tmp_path / "hashtags.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_catalog(path)


def error(tmp_path: Path, text: str) -> str:
    """The one-line message loading `text` fails with, `tmp_path` shown as `DIR`."""
    with pytest.raises(CatalogError) as caught:
        load_text(tmp_path, text)
    return str(caught.value).replace(str(tmp_path), "DIR")


# --- the shipped catalog --------------------------------------------------------------------


def test_the_shipped_catalog_loads_with_enough_categories(shipped: Catalog) -> None:
    assert len(shipped.categories) >= 20
    keys = {category.key for category in shipped.categories}
    assert {"pothole", "streetlight", "graffiti", "missed_trash", "downed_wire"} <= keys


def test_the_shipped_catalog_marks_dangerous_categories_as_emergencies(shipped: Catalog) -> None:
    assert shipped.get("downed_wire").priority is Priority.EMERGENCY
    assert shipped.get("water_main_break").priority is Priority.EMERGENCY


def test_the_shipped_help_reply_lists_a_handful_of_hashtags(shipped: Catalog) -> None:
    assert 4 <= len(shipped.featured_hashtags("en")) <= 6
    assert len(shipped.featured_hashtags("es")) == len(shipped.featured_hashtags("en"))


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hashtag", "lang"),
    [
        ("Pothole", "en"),
        ("POTHOLE", "en"),
        ("#pothole", "en"),
        ("bache", "es"),
        ("Baché", "es"),
        ("BACHÉ", "es"),
    ],
)
def test_case_and_accents_do_not_matter(shipped: Catalog, hashtag: str, lang: str) -> None:
    match = shipped.match([hashtag])
    assert match is not None
    assert (match.category.key, match.lang) == ("pothole", lang)


def test_the_match_keeps_the_hashtag_as_written_without_the_hash(shipped: Catalog) -> None:
    match = shipped.match(["#Baché"])
    assert match is not None
    assert match.hashtag == "Baché"


def test_normalize_tag_drops_the_hash_accents_and_case() -> None:
    assert normalize_tag("#Baché") == normalize_tag("BACHE") == "bache"
    assert normalize_tag("\uff03ÁrbolCaído") == "arbolcaido"  # full-width '#' (CJK keyboards)


def test_the_first_known_hashtag_wins(shipped: Catalog) -> None:
    match = shipped.match(["Boston", "graffiti", "pothole"])
    assert match is not None
    assert (match.category.key, match.hashtag) == ("graffiti", "graffiti")


def test_unknown_hashtags_match_nothing(shipped: Catalog) -> None:
    assert shipped.match(["Boston", "MondayMotivation"]) is None
    assert shipped.match([]) is None


def test_featured_hashtags_are_the_first_alias_per_language_in_file_order(tmp_path: Path) -> None:
    catalog = load_text(
        tmp_path, GOOD.replace("    priority: low\n", "    priority: low\n    featured: true\n")
    )
    assert catalog.featured_hashtags("en") == ["#pothole", "#graffiti"]
    assert catalog.featured_hashtags("es") == ["#bache", "#grafiti"]
    assert catalog.featured_hashtags("fr") == ["#pothole", "#graffiti"]  # falls back to English


def test_names_and_longest_name(tmp_path: Path) -> None:
    catalog = load_text(tmp_path, GOOD)
    graffiti = catalog.get("graffiti")
    assert (graffiti.name("en"), graffiti.name("es"), graffiti.name("fr")) == (
        "Graffiti",
        "Grafiti",
        "Graffiti",
    )
    assert graffiti.featured is False  # the default
    assert catalog.longest_name("en") == "Graffiti"
    with pytest.raises(KeyError):
        catalog.get("potholes")


def test_building_a_catalog_directly_still_refuses_duplicate_aliases() -> None:
    def category(key: str, tag: str) -> Category:
        return Category(key, key, key, (Alias(tag, "en"),), "Public Works")

    with pytest.raises(ValueError, match="alias 'Bache' of 'b' is already taken"):
        Catalog((category("a", "bache"), category("b", "Bache")))


def test_parse_catalog_names_the_path_it_is_given() -> None:
    assert len(parse_catalog(GOOD, Path("city.yaml")).categories) == 2
    with pytest.raises(CatalogError, match=r"^city\.yaml:1: unsupported version '2'"):
        parse_catalog(GOOD.replace("version: 1", "version: 2"), Path("city.yaml"))


# --- reading the file -----------------------------------------------------------------------


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path / "nope.yaml")
    assert str(caught.value) == (
        f"{tmp_path}/nope.yaml: file not found; check the 'hashtags' setting (SOCIALBOT_HASHTAGS)"
    )
    assert caught.value.line is None


def test_a_directory_instead_of_a_file(tmp_path: Path) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory; point 'hashtags' at the YAML file"


def test_a_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "hashtags.yaml"
    path.write_bytes(GOOD.replace("Bache", "Bach\xe9").encode("latin-1"))
    with pytest.raises(CatalogError) as caught:
        load_catalog(path)
    assert str(caught.value) == f"{path}:4: byte 0xe9 is not UTF-8; save the file as UTF-8"


# --- YAML and the top level -----------------------------------------------------------------


def test_bad_yaml_names_the_line_yaml_stumbled_on(tmp_path: Path) -> None:
    text = GOOD.replace("    department: Public Works\n", "   department: Public Works\n")
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:8: invalid YAML: expected <block end>, "
        "but found '<block mapping start>' "
        "(while parsing a block collection on line 3)"
    )


def test_bad_yaml_from_a_hash_in_a_flow_list_gets_a_hint(tmp_path: Path) -> None:
    text = GOOD.replace("en: [pothole, potholes]", "en: [#pothole, #potholes]")
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:8: invalid YAML: expected ',' or ']', but got '<scalar>' "
        "(while parsing a flow sequence on line 6); "
        "note that '#' starts a comment in YAML, so write hashtags without it"
    )


def test_an_empty_file(tmp_path: Path) -> None:
    assert error(tmp_path, "# nothing yet\n") == (
        "DIR/hashtags.yaml: the file is empty; it needs 'version: 1' and 'categories:'"
    )


def test_a_top_level_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert error(tmp_path, "- pothole\n- graffiti\n") == (
        "DIR/hashtags.yaml:1: the top level must be a mapping with 'version' and 'categories', "
        "not a list"
    )


def test_missing_categories(tmp_path: Path) -> None:
    assert error(tmp_path, "version: 1\n") == (
        "DIR/hashtags.yaml:1: missing 'categories' (the list of categories) at the top level"
    )


def test_categories_that_are_not_a_list(tmp_path: Path) -> None:
    assert error(tmp_path, "version: 1\ncategories:\n  pothole: Bache\n") == (
        "DIR/hashtags.yaml:3: 'categories' must be a list of categories ('- key: ...'), "
        "not a mapping"
    )


def test_no_categories(tmp_path: Path) -> None:
    assert error(tmp_path, "version: 1\ncategories: []\n") == (
        "DIR/hashtags.yaml:2: 'categories' is empty; add at least one category"
    )


def test_a_wrong_version(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("version: 1", "version: 2")) == (
        "DIR/hashtags.yaml:1: unsupported version '2'; this socialbot reads 'version: 1'"
    )


def test_a_missing_version(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("version: 1\n", "")) == (
        "DIR/hashtags.yaml:1: missing 'version' at the top level; add 'version: 1'"
    )


def test_an_unknown_top_level_field(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("categories:", "categoires:")) == (
        "DIR/hashtags.yaml:2: unknown field 'categoires' at the top level "
        "(expected one of: version, categories)"
    )


# --- categories -----------------------------------------------------------------------------


def test_a_category_that_is_not_a_mapping(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD + "  - streetlight\n") == (
        "DIR/hashtags.yaml:18: category #3 must be a mapping with key, names, aliases, "
        "department, priority, not 'streetlight'"
    )


@pytest.mark.parametrize(
    ("remove", "line", "problem"),
    [
        ("key: pothole\n    ", 3, "missing field 'key' in category #1"),
        ("en: Pothole, ", 4, "missing field 'names.en' in category 'pothole'"),
        (", es: Bache", 4, "missing field 'names.es' in category 'pothole'"),
        (
            "    aliases:\n      en: [pothole, potholes]\n      es: [bache, baches]\n",
            3,
            "missing field 'aliases' in category 'pothole'",
        ),
        ("    department: Public Works\n", 3, "missing field 'department' in category 'pothole'"),
        ("    priority: normal\n", 3, "missing field 'priority' in category 'pothole'"),
    ],
)
def test_a_missing_required_field(tmp_path: Path, remove: str, line: int, problem: str) -> None:
    assert error(tmp_path, GOOD.replace(remove, "", 1)) == (f"DIR/hashtags.yaml:{line}: {problem}")


def test_an_unknown_field_in_a_category(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("department: Public", "departmnet: Public")) == (
        "DIR/hashtags.yaml:8: unknown field 'departmnet' in category 'pothole' "
        "(expected one of: key, names, description, aliases, department, priority, featured, "
        "sla, duplicate_radius_m, open311_service_code, open311_attributes)"
    )


def test_an_unknown_field_in_names(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("es: Bache}", "es: Bache, fr: Nid-de-poule}")) == (
        "DIR/hashtags.yaml:4: unknown field 'fr' in names of category 'pothole' "
        "(expected one of: en, es)"
    )


def test_an_alias_language_other_than_en_or_es(tmp_path: Path) -> None:
    text = GOOD.replace(
        "      es: [bache, baches]\n", "      es: [bache, baches]\n      pt: [buraco]\n"
    )
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:8: unknown alias language 'pt' in category 'pothole' "
        "(expected one of: en, es)"
    )


def test_a_field_given_twice_in_one_category(tmp_path: Path) -> None:
    # PyYAML alone would silently keep the second one.
    text = GOOD.replace("    priority: normal\n", "    priority: normal\n    priority: high\n")
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:10: field 'priority' appears twice in category 'pothole' "
        "(lines 9 and 10); keep one"
    )


def test_a_key_that_is_not_a_slug(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("key: graffiti", "key: Graffiti-Wall")) == (
        "DIR/hashtags.yaml:11: category key 'Graffiti-Wall' must be a lowercase slug of a-z, 0-9 "
        "and '_' (e.g. 'graffiti_wall')"
    )


def test_a_duplicate_category_key(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("key: graffiti", "key: pothole")) == (
        "DIR/hashtags.yaml:11: category key 'pothole' is used twice (lines 3 and 11); "
        "keys must be unique"
    )


def test_a_bad_priority(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("priority: low", "priority: urgent")) == (
        "DIR/hashtags.yaml:17: priority 'urgent' of category 'graffiti' must be one of: "
        "emergency, high, normal, low"
    )


def test_featured_must_be_true_or_false(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("featured: true", "featured: sometimes")) == (
        "DIR/hashtags.yaml:10: featured of category 'pothole' must be true or false, "
        "not 'sometimes'"
    )


def test_an_empty_department(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("department: Public Works", "department:")) == (
        "DIR/hashtags.yaml:8: department of category 'pothole' is empty"
    )


def test_merge_keys_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("    department: Public Works\n", "    <<: {department: Public Works}\n")
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:8: merge keys ('<<') are not supported in category 'pothole'; "
        "write the fields out"
    )


# --- aliases --------------------------------------------------------------------------------


def test_an_alias_duplicating_another_category_after_normalisation(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("es: [grafiti]", "es: [grafiti, Baché]")) == (
        "DIR/hashtags.yaml:15: alias 'Baché' (line 15) duplicates 'bache' of category 'pothole' "
        "(line 7)"
    )


def test_an_alias_duplicated_within_a_category_across_languages(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("es: [grafiti]", "es: [GRAFFITI]")) == (
        "DIR/hashtags.yaml:15: alias 'GRAFFITI' (line 15) duplicates 'graffiti' of category "
        "'graffiti' (line 14)"
    )


def test_an_alias_written_with_a_hash(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("[graffiti]", '["#graffiti"]')) == (
        "DIR/hashtags.yaml:14: alias '#graffiti' in category 'graffiti' must not start with '#'; "
        "write 'graffiti'"
    )


def test_an_alias_with_a_space(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("[graffiti]", "[graffiti wall]")) == (
        "DIR/hashtags.yaml:14: alias 'graffiti wall' in category 'graffiti' contains a space, "
        "which ends a hashtag; write 'graffitiwall'"
    )


def test_an_empty_alias_from_a_hash_in_a_block_list(tmp_path: Path) -> None:
    text = GOOD.replace("      en: [graffiti]\n", "      en:\n        - #graffiti\n")
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:15: empty alias in aliases.en of category 'graffiti' "
        "(a '#' starts a YAML comment: write hashtags without it)"
    )


def test_an_alias_with_punctuation(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("[graffiti]", "[graffiti-wall]")) == (
        "DIR/hashtags.yaml:14: alias 'graffiti-wall' in category 'graffiti' contains '-'; "
        "a hashtag has only letters, digits and '_'"
    )


def test_an_alias_of_digits_only(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("[graffiti]", "[graffiti, 311]")) == (
        "DIR/hashtags.yaml:14: alias '311' in category 'graffiti' has no letter; "
        "X does not treat it as a hashtag"
    )


def test_empty_aliases(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    aliases:\n      en: [graffiti]\n      es: [grafiti]\n", "    aliases: {}\n"
    )
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:13: aliases of category 'graffiti' is empty; "
        "list hashtags under en and es"
    )


def test_an_empty_alias_list(tmp_path: Path) -> None:
    assert error(tmp_path, GOOD.replace("es: [grafiti]", "es: []")) == (
        "DIR/hashtags.yaml:15: aliases.es of category 'graffiti' is empty; "
        "list at least one hashtag"
    )


def test_aliases_that_are_not_a_mapping(tmp_path: Path) -> None:
    text = GOOD.replace(
        "    aliases:\n      en: [graffiti]\n      es: [grafiti]\n", "    aliases: [graffiti]\n"
    )
    assert error(tmp_path, text) == (
        "DIR/hashtags.yaml:13: aliases of category 'graffiti' must map languages to hashtag lists, "
        "like {en: [pothole], es: [bache]}, not a list"
    )


def test_a_category_may_set_its_sla_and_duplicate_radius(tmp_path: Path) -> None:
    catalog = load_text(
        tmp_path,
        GOOD.replace(
            "    priority: normal\n",
            "    priority: normal\n    sla: 3 business days\n    duplicate_radius_m: 75\n",
        ),
    )
    pothole, graffiti = catalog.categories
    assert (str(pothole.sla), pothole.duplicate_radius_m) == ("3 business days", 75.0)
    assert (graffiti.sla, graffiti.duplicate_radius_m) == (None, None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "    sla: 3 days",
            "DIR/hashtags.yaml:10: sla of category 'pothole': '3 days' is ambiguous: write "
            "'3 business days', or a number of hours for a round-the-clock target",
        ),
        (
            "    duplicate_radius_m: far",
            "DIR/hashtags.yaml:10: duplicate_radius_m of category 'pothole' must be a number of "
            "metres from 0 to 1000 (0: never merge), not 'far'",
        ),
        (
            "    duplicate_radius_m: 5000",
            "DIR/hashtags.yaml:10: duplicate_radius_m of category 'pothole' must be a number of "
            "metres from 0 to 1000 (0: never merge), not '5000'",
        ),
    ],
)
def test_a_bad_sla_or_radius_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    assert (
        error(tmp_path, GOOD.replace("    priority: normal\n", f"    priority: normal\n{line}\n"))
        == message
    )


def test_every_shipped_category_has_a_target(shipped: Catalog) -> None:
    assert all(category.sla is not None for category in shipped.categories)


def test_a_category_may_describe_itself_in_each_language(tmp_path: Path) -> None:
    catalog = load_text(
        tmp_path,
        GOOD.replace(
            "    names: {en: Pothole, es: Bache}\n",
            "    names: {en: Pothole, es: Bache}\n"
            "    description: {en: A hole in the road., es: Un hoyo en la calle.}\n",
        ).replace(
            "    names: {en: Graffiti, es: Grafiti}\n",
            "    names: {en: Graffiti, es: Grafiti}\n    description: {en: Paint on walls.}\n",
        ),
    )
    pothole, graffiti = catalog.categories
    assert (pothole.description("en"), pothole.description("es")) == (
        "A hole in the road.",
        "Un hoyo en la calle.",
    )
    assert (graffiti.description("en"), graffiti.description("es")) == (
        "Paint on walls.",
        "Paint on walls.",  # no Spanish one written: the English one, not nothing
    )


def test_a_category_without_a_description_is_described_by_its_name(tmp_path: Path) -> None:
    pothole, _ = load_text(tmp_path, GOOD).categories
    assert (pothole.description("en"), pothole.description("es")) == ("Pothole", "Bache")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "    description: Holes",
            "DIR/hashtags.yaml:5: description of category 'pothole' must be a mapping like "
            "{en: Holes in the road, es: Hoyos en la calle}, not 'Holes'",
        ),
        (
            "    description: {fr: Nid-de-poule}",
            "DIR/hashtags.yaml:5: unknown field 'fr' in description of category 'pothole' "
            "(expected one of: en, es)",
        ),
        (
            "    description: {}",
            "DIR/hashtags.yaml:5: description of category 'pothole' is empty; give en, es or both",
        ),
        (
            "    description: {en: ''}",
            "DIR/hashtags.yaml:5: description.en of category 'pothole' is empty",
        ),
        (
            "    description: {en: " + "x" * 501 + "}",
            "DIR/hashtags.yaml:5: description.en of category 'pothole' is 501 characters; "
            "keep it to 500 (one or two sentences)",
        ),
    ],
)
def test_a_bad_description_names_the_line(tmp_path: Path, line: str, message: str) -> None:
    text = GOOD.replace(
        "    names: {en: Pothole, es: Bache}\n", f"    names: {{en: Pothole, es: Bache}}\n{line}\n"
    )
    assert error(tmp_path, text) == message


def test_every_shipped_category_is_described_in_both_languages(shipped: Catalog) -> None:
    described = [c for c in shipped.categories if c.description_en and c.description_es]
    assert described == list(shipped.categories)

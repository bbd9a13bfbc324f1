"""The checks hashtags.yaml and answers.yaml share: each file's own error, in each file's words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from socialbot.errors import AnswersError, CatalogError
from socialbot.yaml_fields import Reader, Wording, kind, line_of

PATH = Path("/etc/socialbot/things.yaml")

WORDING = Wording(
    invalid=lambda exc, text: f"invalid YAML: {exc.problem}",
    empty_file="the file is empty",
    top_level="the top level must be a mapping, not {kind}",
    merge_key="no '<<' {where}",
    repeated="field {name} twice {where} (lines {first} and {line})",
    unknown="unknown field {name} {where} (expected one of: {allowed})",
    missing_version="missing 'version'; add 'version: {version}'",
    bad_version="unsupported version {kind}; write 'version: {version}'",
    empty_text="{what} is empty",
    cut=5,
)
READER = Reader(PATH, CatalogError, WORDING)


def problem(text: str) -> str:
    with pytest.raises(CatalogError) as caught:
        READER.document(text, ("version", "things"), 1)
    return str(caught.value)


def test_a_good_document_gives_its_fields() -> None:
    _root, fields = READER.document("version: 1\nthings: [a]\n", ("version", "things"), 1)
    assert sorted(fields) == ["things", "version"]
    assert line_of(fields["things"].key) == 2
    assert kind(fields["things"].value) == "a list"


def test_each_problem_names_the_file_and_line_in_the_files_words() -> None:
    assert problem("") == f"{PATH}: the file is empty"
    assert problem("- a\n") == f"{PATH}:1: the top level must be a mapping, not a list"
    assert problem("things: []\n") == f"{PATH}:1: missing 'version'; add 'version: 1'"
    assert problem("version: '1'\n") == f"{PATH}:1: unsupported version '1'; write 'version: 1'"
    assert problem("version: 1\nversion: 1\n") == (
        f"{PATH}:2: field 'versi' twice at the top level (lines 1 and 2)"
    )
    assert problem("version: 1\ncolour: red\n") == (
        f"{PATH}:2: unknown field 'colou' at the top level (expected one of: version, things)"
    )
    assert problem("version: 1\n<<: {things: 1}\n") == f"{PATH}:2: no '<<' at the top level"
    assert problem("version: 1\n[a]: b\n") == (
        f"{PATH}:2: a field name at the top level must be a word, not a list"
    )
    assert problem("version: 1\nthings: [a\n").startswith(f"{PATH}:3: invalid YAML: ")
    assert problem("version: 1\x01") == (
        f"{PATH}: invalid YAML: unacceptable character #x0001: special characters are not allowed"
    )


def test_a_text_is_a_scalar_with_something_in_it() -> None:
    node = yaml.compose("[x, '  ', ~, [y]]", Loader=yaml.SafeLoader)
    assert isinstance(node, yaml.SequenceNode)
    assert READER.text(node.value[0], "the name") == "x"
    for item, message in [
        (node.value[1], f"{PATH}:1: the name is empty"),
        (node.value[2], f"{PATH}:1: the name is empty"),
        (node.value[3], f"{PATH}:1: the name must be text, not a list"),
    ]:
        with pytest.raises(CatalogError) as caught:
            READER.text(item, "the name")
        assert str(caught.value) == message


def test_the_error_is_the_files_own() -> None:
    reader = Reader(PATH, AnswersError, WORDING)
    with pytest.raises(AnswersError):
        reader.document("", ("version",), 1)


@given(st.text(max_size=200))
def test_any_text_gives_fields_or_one_line_of_the_files_error(text: str) -> None:
    try:
        READER.document(text, ("version", "things"), 1)
    except CatalogError as exc:
        assert "\n" not in exc.problem
        assert str(exc).startswith(str(PATH))
    except RecursionError:
        pass  # a document nested thousands deep: each parser says so in its own words

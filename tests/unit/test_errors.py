"""The error catalogue: every code once, with a name and a default message."""

import edge.errors as errors
from edge.errors import CATALOGUE, INVALID_ARGUMENT, MB_BAD_REQUEST, EdgeError


def test_every_code_constant_is_in_the_catalogue_under_its_own_name():
    constants = {name: value for name, value in vars(errors).items() if name.isupper() and isinstance(value, int)}
    assert {entry.name: code for code, entry in CATALOGUE.items()} == constants
    assert all(entry.message and entry.api in ("machbase", "factorytx") for entry in CATALOGUE.values())


def test_an_error_without_text_gets_the_catalogue_message():
    assert EdgeError(INVALID_ARGUMENT).text == CATALOGUE[INVALID_ARGUMENT].message
    assert EdgeError(MB_BAD_REQUEST, "no statement").text == "no statement"

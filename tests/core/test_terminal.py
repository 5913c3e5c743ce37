"""murmur.terminal: what is made inert, what a name shows, and JSON that a terminal cannot act on."""

from __future__ import annotations

import json

import pytest

from murmur.terminal import inert, json_line, one_line, say, visible_name
from tests.hostile import HOSTILE, acting_characters


@pytest.mark.parametrize("hostile", list(HOSTILE.values()), ids=list(HOSTILE))
def test_inert_leaves_nothing_that_acts(hostile: str) -> None:
    assert acting_characters(inert(f"a{hostile}b")) == []
    assert "\n" not in one_line(f"x\n{hostile}\ny", 500)


def test_inert_shows_each_kind_visibly() -> None:
    assert inert("\x1b[2J") == "␛[2J"
    assert inert("\x9b2J") == "<U+009B>2J"
    assert inert("a\x7fb\x00c\x08d\re") == "a␡b␀c␈d␍e"
    assert inert("\u202eevil\u2066") == "<U+202E>evil<U+2066>"
    assert inert("zero\u200bwidth\ufeff") == "zero<U+200B>width<U+FEFF>"
    assert inert("one\u2028two") == "one<U+2028>two"
    assert inert("lines\nstay\ttabs") == "lines\nstay    tabs"


def test_text_keeps_what_writers_mean_and_names_show_it() -> None:
    family = "👨\u200d👩\u200d👧 and ﻻ\u200c"
    assert inert(family) == family
    assert visible_name("Ada\u200d") == "Ada<U+200D>"
    assert visible_name("Ada\u00a0Lovelace") == "Ada<U+00A0>Lovelace"
    assert visible_name("Ali\u200bce\u3164") == "Ali<U+200B>ce<U+3164>"
    assert visible_name("\x1b]0;x\x07Eve\n") == "␛]0;x␇Eve␊"
    assert visible_name("Ada Lovelace") == "Ada Lovelace"


def test_json_line_escapes_what_acts_and_decodes_unchanged() -> None:
    value = {"text": "".join(HOSTILE.values()) + "é 👍"}
    line = json_line(value)
    assert acting_characters(line) == [] and "é 👍" in line
    assert json.loads(line) == value


def test_say_makes_the_whole_text_inert(capsys: pytest.CaptureFixture[str]) -> None:
    say("ours\n" + "".join(HOSTILE.values()))
    say("to stderr \x1b[31m", err=True)
    out, err = capsys.readouterr()
    assert out.startswith("ours\n") and acting_characters(out) == []
    assert err == "to stderr ␛[31m\n"


def test_a_code_point_unknown_to_this_python_shows_as_its_number_in_a_name_only() -> None:
    unknown = "\U000e0080"  # unassigned in every Unicode version so far
    assert visible_name(f"Ada{unknown}") == "Ada<U+E0080>"
    assert inert(f"post {unknown}") == f"post {unknown}"


def test_variation_selectors_that_hide_data_show() -> None:
    assert inert("a\U000e0101b") == "a<U+E0101>b"
    assert inert("❤\ufe0f") == "❤\ufe0f"  # the emoji presentation selector is how emoji are written


def test_say_on_a_terminal_that_cannot_encode_everything(monkeypatch: pytest.MonkeyPatch) -> None:
    import io
    import sys

    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding="ascii"))
    say("↳ in reply to Ada")
    assert raw.getvalue() == b"\\u21b3 in reply to Ada\n"

"""The server's log formats: text and JSON Lines, foreign text inert in both (a real server: tests/e2e/test_logs.py)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from murmur.server.logs import JsonFormatter, TextFormatter

# What a peer could put in its error text: a forged second log line, a terminal escape, a bidi override.
HOSTILE = "boom\n2026-01-01 00:00:00,000 ERROR murmur.server: forged\x1b]0;pwned\x07 \u202eevil\r"


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, logging.StreamHandler[io.StringIO]]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("murmur.test.logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, out, handler
    finally:
        logger.removeHandler(handler)


def _emit(logger: logging.Logger) -> None:
    logger.warning("peer %s: push: %s", "ab12cd34", HOSTILE, extra={"peer": "ab" * 32, "error": HOSTILE, "failures": 3})


def _unsafe(text: str) -> list[str]:
    return [ch for ch in text if ch in "\x1b\x07\r\u202e"]


def test_text_is_one_inert_line_per_record_with_its_fields(logged: tuple) -> None:
    logger, out, handler = logged
    handler.setFormatter(TextFormatter())
    _emit(logger)
    text = out.getvalue()
    assert text.count("\n") == 1 and not _unsafe(text)
    assert "WARNING murmur.test.logs: peer ab12cd34: push: boom␊2026-01-01" in text
    assert f"peer={'ab' * 32}" in text and "failures=3" in text and "error=" in text


def test_text_tracebacks_never_start_a_line_at_the_margin(logged: tuple) -> None:
    logger, out, handler = logged
    handler.setFormatter(TextFormatter())
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logger.exception("failed")
    first, *rest = out.getvalue().splitlines()
    assert first.endswith("ERROR murmur.test.logs: failed") and rest
    assert all(line.startswith("    ") for line in rest) and not _unsafe(out.getvalue())


def test_json_is_one_object_per_line_whose_values_decode_unchanged(logged: tuple) -> None:
    logger, out, handler = logged
    handler.setFormatter(JsonFormatter())
    _emit(logger)
    try:
        raise ValueError(HOSTILE)
    except ValueError:
        logger.exception("failed", extra={"level": "a field may not hide the level"})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and not _unsafe(out.getvalue())
    first, second = (json.loads(line) for line in lines)
    assert first["message"] == f"peer ab12cd34: push: {HOSTILE}" and first["error"] == HOSTILE
    assert (first["level"], first["logger"], first["peer"], first["failures"]) == ("warning", "murmur.test.logs",
                                                                                   "ab" * 32, 3)  # fmt: skip
    assert first["time"].endswith("Z") and first["time"][10] == "T"
    assert second["message"] == "failed" and second["level"] == "error" and "ValueError" in second["exception"]

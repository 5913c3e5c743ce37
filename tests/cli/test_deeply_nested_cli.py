"""JSON nested past Python's parser depth, in a file given to ``murmur import`` or in the home server's answer, is
a clear error with an exit code, never a ``RecursionError`` traceback (tests/test_deeply_nested_json.py has the
parsers' own cases)."""

from __future__ import annotations

from pathlib import Path

import pytest

from murmur.server.config import DataDir, ServerConfig
from tests.cli.fakehome import FakeHome, run_main

DEEP = "[" * 5000 + "]" * 5000


def _bundles(tmp_path: Path) -> list[Path]:
    plain, header = tmp_path / "deep.jsonl", tmp_path / "deep-header.jsonl"
    plain.write_text(DEEP + "\n", encoding="utf-8")
    header.write_text('{"murmur_bundle": 1, "x": ' + DEEP + "}\n", encoding="utf-8")
    return [plain, header]


def _told(output: str) -> None:
    assert "not a bundle header" in output, output
    assert "Traceback" not in output and "RecursionError" not in output, output


def test_import_mine_of_a_file_nested_too_deep_says_it_is_no_bundle(fake_home: FakeHome, tmp_path: Path) -> None:
    for bundle in _bundles(tmp_path):
        result = fake_home.run("import", "--mine", str(bundle))
        assert result.exit_code == 1
        _told(result.output)
    assert "/api/v1/import" not in fake_home.asked


def test_import_into_a_data_dir_of_a_file_nested_too_deep_says_it_is_no_bundle(tmp_path: Path) -> None:
    data = tmp_path / "server"
    DataDir(data).create(ServerConfig())
    for bundle in _bundles(tmp_path):
        result = run_main("import", "--data", str(data), str(bundle))
        assert result.exit_code == 1
        _told(result.output)


@pytest.mark.parametrize("body", [DEEP.encode(), b"<html>busy</html>"])
def test_a_home_server_answering_no_json_is_a_bad_answer_saying_so(fake_home: FakeHome, body: bytes) -> None:
    fake_home.answer_raw("/api/v1/timelines/home", body, {})
    result = fake_home.run("timeline")
    assert result.exit_code == 1
    assert "The server's answer is not JSON" in result.output, result.output
    assert "Traceback" not in result.output

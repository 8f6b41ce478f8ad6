"""Text from the data never reaches the terminal raw, and every JSON format stays valid JSON.

A dataset is untrusted: a key ``"\\u001b[2J"`` clears the screen, ``"\\u009b"`` is the 8-bit CSI, and a
lone surrogate ``"\\ud800"`` cannot be encoded (orjson raised on it). Keys reach findings' pointers and
messages; file names reach every format.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from ftprep.textsafe import dumps_json, escape_controls

# C0 except newline, DEL, C1, surrogates: none may appear raw in any output.
RAW_CONTROL = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
HOSTILE_KEYS = ["\u001b[2J", "\u009b31m", "\ud800", "\u001b]0;title\u0007", "tab\there", "new\nline"]


def chat(extra_key: str) -> str:
    record = {"messages": [{"role": "user", "content": "hi", extra_key: 1}, {"role": "assistant", "content": "ok"}]}
    return json.dumps(record)  # ensure_ascii: the file holds the escapes, as a real JSONL file would


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    path = tmp_path / "hostile.jsonl"
    path.write_text("".join(chat(key) + "\n" for key in HOSTILE_KEYS))
    return path


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


@pytest.mark.parametrize("output_format", ["text", "github", "json", "jsonl", "sarif"])
def test_no_control_character_or_lone_surrogate_of_a_key_is_printed_raw(
    hostile: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    code, out = run(["check", str(hostile), "--output-format", output_format], capsys)

    assert code == 1
    assert RAW_CONTROL.findall(out) == []
    out.encode("utf-8")  # printable at all


def test_text_shows_each_hostile_key_escaped_in_the_pointer(hostile: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(["check", str(hostile)], capsys)

    # A lone surrogate is an FT106 finding and reads as U+FFFD in the parsed record (issue 19: never invalid text).
    assert "FT106" in out and " at /messages/0/\ufffd" in out
    for shown in ("/messages/0/\\u001b[2J", "/messages/0/\\u009b31m",
                  "/messages/0/\\u001b]0;title\\u0007", "/messages/0/tab\\there", "/messages/0/new\\nline"):
        assert f" at {shown}" in out
    assert len(out.splitlines()) == len(out.split("\n")) - 1  # no line was broken by a key's newline


@pytest.mark.parametrize("output_format", ["json", "jsonl", "sarif"])
def test_json_formats_stay_valid_for_strict_parsers_and_keep_control_characters_as_json_escapes(
    hostile: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    _, out = run(["check", str(hostile), "--output-format", output_format], capsys)

    documents = [orjson.loads(line) for line in out.splitlines()] if output_format == "jsonl" else [orjson.loads(out)]
    text = json.dumps(documents)
    # The same string for a parser: the ESC, CSI and BEL of the keys come back from the JSON as they were.
    for key in ("\u001b[2J", "\u009b31m", "\u001b]0;title\u0007"):
        assert json.dumps(f"/messages/0/{key}")[1:-1] in text
    # A lone surrogate key is an FT106 finding and reads as U+FFFD in the parsed record (it has no UTF-8 form).
    assert "FT106" in text and json.dumps("/messages/0/\ufffd")[1:-1] in text


def test_file_names_with_control_characters_are_escaped_in_text_and_github(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a\u001b[2Jb.jsonl"
    path.write_text('{"messages": []}\n')

    for output_format in ("text", "github"):
        _, out = run(["check", str(path), "--output-format", output_format], capsys)
        assert RAW_CONTROL.findall(out) == []
        assert "a\\u001b[2Jb.jsonl" in out


@pytest.mark.parametrize("output_format", ["text", "markdown", "json", "html"])
def test_estimate_views_escape_a_hostile_file_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    path = tmp_path / "est\u009b2J.jsonl"
    path.write_text("".join(chat("name") + "\n" for _ in range(3)))

    code, out = run(["estimate", str(path), "--output-format", output_format], capsys)

    assert code in (0, 1)
    if output_format == "html":  # a file, not a terminal stream; its inlined plotly script has tabs
        assert "\u009b" not in out and "est\\u009b2J.jsonl" in out
    else:
        assert RAW_CONTROL.findall(out) == []


def test_escape_controls_keeps_layout_only_when_asked() -> None:
    assert escape_controls("a\u001b[2J\u009b\ud800\x7f") == "a\\u001b[2J\\u009b\\ud800\\u007f"
    assert escape_controls("one\ttwo\nthree") == "one\\ttwo\\nthree"
    assert escape_controls("one\ttwo\nthree\r", keep_layout=True) == "one\ttwo\nthree\\r"
    assert escape_controls("plain ünïcödé ✓") == "plain ünïcödé ✓"


def test_dumps_json_is_valid_json_with_the_same_strings_except_lone_surrogates() -> None:
    data = {"\ud800": "\u009b\u001b\x7f", "big": 10**30, "ok": "é"}

    text = dumps_json(data)

    assert RAW_CONTROL.findall(text) == []
    assert json.loads(text) == {"\\ud800": "\u009b\u001b\x7f", "big": 10**30, "ok": "é"}
    orjson.loads(text)  # a strict parser reads it too
    plain = {"a": [1, "b"]}
    assert dumps_json(plain, indent=True) == orjson.dumps(plain, option=orjson.OPT_INDENT_2).decode()


@pytest.mark.parametrize("output_format", ["text", "markdown", "json"])
def test_overlap_views_escape_hostile_file_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], output_format: str
) -> None:
    train, valid = tmp_path / "tr\u001b[2J.jsonl", tmp_path / "va\u009b.jsonl"
    for path in (train, valid):
        path.write_text("".join(chat("name") + "\n" for _ in range(2)))

    code, out = run(["overlap", str(train), str(valid), "--output-format", output_format], capsys)

    assert code == 1
    assert RAW_CONTROL.findall(out) == []
    assert "tr\\u001b[2J.jsonl" in out

"""fix_file: mechanical repairs, rejects by the real rules, dedupe, notes for file-level problems."""

from __future__ import annotations

from pathlib import Path

import orjson

from ftprep.check import check_files
from ftprep.config import Config
from ftprep.transform.fix import fix_file


def chat(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


def rejects_of(path: Path) -> list[tuple[int, list[str]]]:
    return [(r["line"], r["reasons"]) for r in map(orjson.loads, path.read_bytes().splitlines())]


def test_bom_crlf_blank_lines_and_spacing_are_repaired(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    spaced = b'{"messages": [{"role": "user", "content": "q0"}, {"role": "assistant", "content": "a0"}]}'
    source.write_bytes(b"\xef\xbb\xbf" + spaced + b"\r\n\r\n" + b"\r\n".join(chat(f"q{i}", f"a{i}")
                                                                            for i in range(1, 10)) + b"\r\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").read_bytes() == b"".join(chat(f"q{i}", f"a{i}") + b"\n" for i in range(10))
    assert result.repairs == {"bom": 1, "crlf": 11, "nul": 0, "nulls": 0, "reformatted": 1}
    assert result.accounting.blank == 1
    assert result.accounting.balanced
    assert check_files([str(tmp_path / "out.jsonl")]).errors == 0


def test_lines_with_errors_go_to_rejects_with_their_codes(tmp_path: Path) -> None:
    good = [chat(f"q{i}", f"a{i}") for i in range(10)]
    bad = [b"{not json", b'{"messages": [{"role": "bot", "content": "x"}]}', b'{"prompt": "p", "completion": NaN}']
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(good + bad) + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert rejects_of(tmp_path / "out.rejects.jsonl") == [(11, ["FT101"]), (12, ["FT203", "FT208"]),
                                                          (13, ["FT103", "FT220", "FT503"])]
    assert result.accounting.outputs == {"output": 10}
    assert check_files([str(tmp_path / "out.jsonl")]).errors == 0


def test_dedupe_sets_aside_later_copies_naming_the_first(tmp_path: Path) -> None:
    lines = [chat(f"q{i}", f"a{i}") for i in range(10)]
    reordered = b'{"messages":[{"content":"q1","role":"user"},{"role":"assistant","content":"a1"}]}'
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([*lines, lines[0], reordered]) + b"\n")
    fix_file(source, tmp_path / "out.jsonl", dedupe=True)
    rejects = [orjson.loads(line) for line in (tmp_path / "out.rejects.jsonl").read_bytes().splitlines()]
    assert [(r["line"], r["reasons"], r["findings"][0]["message"]) for r in rejects] == [
        (11, ["FT502"], "same record as line 1"), (12, ["FT524"], "same record as line 2")]


def test_without_dedupe_duplicates_are_kept(tmp_path: Path) -> None:
    lines = [chat(f"q{i}", f"a{i}") for i in range(10)]
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join([*lines, lines[0]]) + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert result.accounting.outputs == {"output": 11}
    assert not (tmp_path / "out.rejects.jsonl").exists()


def test_too_few_examples_is_a_note_not_a_reject(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(chat("q", "a") + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert result.accounting.rejected == 0
    assert [note.split(":")[0] for note in result.accounting.notes] == ["FT500 too-few-examples"]


def test_nul_bytes_are_removed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    lines = [chat(f"q{i}", f"a{i}") for i in range(10)]
    source.write_bytes(b"\n".join([lines[0].replace(b"{", b"{\x00", 1), *lines[1:]]) + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert result.repairs["nul"] == 1
    assert (tmp_path / "out.jsonl").read_bytes().splitlines()[0] == lines[0]


def test_integers_beyond_64_bits_keep_their_digits(tmp_path: Path) -> None:
    # A tool schema may hold any JSON number; orjson alone would write 1.2345678901234568e+29.
    big = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "ok"}], ' \
          b'"tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", ' \
          b'"properties": {"n": {"type": "integer", "maximum": 123456789012345678901234567890, ' \
          b'"minimum": -9223372036854775809}}}}}]}'
    source = tmp_path / "in.jsonl"
    source.write_bytes(big + b"\n")
    fix_file(source, tmp_path / "out.jsonl")
    written = (tmp_path / "out.jsonl").read_bytes()
    assert b'"maximum":123456789012345678901234567890,"minimum":-9223372036854775809}' in written
    assert written == big.replace(b", ", b",").replace(b": ", b":") + b"\n"


def test_lone_surrogates_go_to_the_rejects_and_the_output_is_valid_utf8(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"messages": [{"role": "user", "content": "a\\ud800"}, '
                       b'{"role": "assistant", "content": "b"}]}\n'
                       b'{"messages": [{"role": "user", "\\udc00": "a", "content": "q"}, '
                       b'{"role": "assistant", "content": "b"}]}\n' + chat("q", "a") + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert (tmp_path / "out.jsonl").read_bytes() == chat("q", "a") + b"\n"
    rejects = tmp_path / "out.rejects.jsonl"
    rejects.read_bytes().decode("utf-8")  # strict: raises on invalid UTF-8
    assert [(line, "FT106" in reasons) for line, reasons in rejects_of(rejects)] == [(1, True), (2, True)]
    assert result.accounting.balanced and result.accounting.rejected == 2


def test_too_deep_and_too_long_lines_are_rejected_not_crashed(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"a": ' + b"[" * 300 + b"]" * 300 + b"}\n" + b'{"n": ' + b"1" * 5000 + b"}\n"
                       + chat("q", "a") + b"\n")
    result = fix_file(source, tmp_path / "out.jsonl")
    assert rejects_of(tmp_path / "out.rejects.jsonl") == [(1, ["FT105"]), (2, ["FT107"])]
    assert result.accounting.balanced


def test_a_parse_problem_the_selection_ignores_is_still_rejected_with_its_code(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b'{"messages": [{"role": "user", "content": "a\\ud800"}, {"role": "assistant", '
                       b'"content": "b"}]}\n' + chat("q", "a") + b"\n")
    fix_file(source, tmp_path / "out.jsonl", config=Config(ignore=["FT106"]))
    assert (tmp_path / "out.jsonl").read_bytes() == chat("q", "a") + b"\n"
    assert rejects_of(tmp_path / "out.rejects.jsonl") == [(1, ["FT106"])]

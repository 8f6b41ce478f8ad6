"""FT012: one finding that says what a file is and the command that makes it usable; line findings cut."""

from __future__ import annotations

import gzip
import json
import shlex
from collections import Counter
from pathlib import Path

import pytest

from ftprep.check import CheckResult, check_files
from ftprep.cli import main
from ftprep.diagnose import HEAD_BYTES
from ftprep.lint.finding import Finding
from ftprep.rules.diagnosis import KEEP_EXAMPLES, container_of, jsonl_name, row_format
from tests.conftest import TODAY


def _alpaca(count: int) -> list[dict[str, str]]:
    return [{"instruction": f"Add {i} and 1", "input": "", "output": str(i + 1)} for i in range(count)]


def _diagnosis(findings: list[Finding]) -> Finding:
    found = [f for f in findings if f.code == "FT012"]
    assert len(found) == 1, [f.code for f in findings]
    return found[0]


def test_json_array_gets_one_diagnosis_and_three_examples_per_rule(tmp_path: Path) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(_alpaca(100), indent=2))
    findings = check_files([str(path)], today=TODAY).findings
    diagnosis = _diagnosis(findings)
    assert diagnosis.message.startswith("file is a JSON array of Alpaca records (instruction/input/output), not JSONL")
    assert diagnosis.fix == f"ftprep convert {path} {tmp_path / 'data.jsonl'} --from alpaca --to chat"
    per_rule = Counter(f.code for f in findings if f.line is not None)
    assert per_rule and max(per_rule.values()) == KEEP_EXAMPLES
    all_lines = check_files([str(path)], today=TODAY, ignore=["FT012"]).findings
    cut = len([f for f in all_lines if f.line is not None]) - sum(per_rule.values())
    assert f"{cut:,} line findings that follow from it are not listed" in diagnosis.message


def test_the_command_it_gives_makes_the_file_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(_alpaca(12), indent=2))
    fix = _diagnosis(check_files([str(path)], today=TODAY).findings).fix
    assert main([*shlex.split(fix)[1:], "--quiet"]) == 0
    assert check_files([str(tmp_path / "data.jsonl")], today=TODAY).errors == 0


def test_question_answer_rows_get_a_map_command_that_works(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "qa.jsonl"
    path.write_text("".join(json.dumps({"question": f"{i}+1?", "answer": str(i + 1)}) + "\n" for i in range(12)))
    diagnosis = _diagnosis(check_files([str(path)], today=TODAY).findings)
    assert diagnosis.message.startswith("rows are question/answer pairs")
    assert diagnosis.fix == (f"ftprep convert {path} {tmp_path / 'qa.fixed.jsonl'} --to chat "
                             "--map user=/question --map assistant=/answer")
    assert main([*shlex.split(diagnosis.fix)[1:], "--quiet"]) == 0
    assert check_files([str(tmp_path / "qa.fixed.jsonl")], today=TODAY).errors == 0


@pytest.mark.parametrize(("row", "expected"), [
    ({"conversations": [{"from": "human", "value": "Hi"}, {"from": "gpt", "value": "Hello"}]},
     "--from sharegpt --to chat"),
    ({"conversations": [{"from": "human", "value": "Hi"}], "chosen": {"from": "gpt", "value": "Hello"},
      "rejected": {"from": "gpt", "value": "Go"}}, "--from sharegpt-preference --to dpo"),
    ({"schemaVersion": "bedrock-conversation-2024", "system": [{"text": "Be brief"}],
      "messages": [{"role": "user", "content": [{"text": "Hi"}]},
                   {"role": "assistant", "content": [{"text": "Hello"}]}]}, "--from chat --to chat"),
    ({"prompt": "Hi", "completion": "Hello", "label": False}, "select(.label == true) | del(.label)"),
    ({"messages": [{"role": "user", "content": [{"type": "text", "value": "Hi"}], "loss_weight": 0.0},
                   {"role": "assistant", "content": [{"type": "text", "value": "Hello"}], "loss_weight": 1.0}]},
     "select(.type == \"text\")"),
])
def test_foreign_rows_are_named_with_their_command(tmp_path: Path, row: dict[str, object], expected: str) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for _ in range(3)))
    diagnosis = _diagnosis(check_files([str(path)], today=TODAY).findings)
    assert expected in diagnosis.fix and str(path) in diagnosis.fix


def test_reinforcement_rows_name_the_method_only_when_it_was_not_chosen(tmp_path: Path) -> None:
    path = tmp_path / "rft.jsonl"
    path.write_text("".join(json.dumps({"messages": [{"role": "user", "content": f"{i}+1?"}],
                                        "reference_answer": str(i + 1)}) + "\n" for i in range(20)))
    result = check_files([str(path)], today=TODAY)
    assert _diagnosis(result.findings).fix == f"ftprep check {path} --method reinforcement --model o4-mini"
    assert {code: n for code, n in Counter(f.code for f in result.findings if f.line).items()} == \
        {"FT208": KEEP_EXAMPLES, "FT209": KEEP_EXAMPLES}
    chosen = check_files([str(path)], method="supervised", today=TODAY)
    assert "FT012" not in {f.code for f in chosen.findings}
    assert sum(1 for f in chosen.findings if f.code == "FT208") == 20


def test_a_row_problem_the_diagnosis_does_not_explain_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    lines = [json.dumps(row) for row in _alpaca(12)]
    lines[5] = lines[5][:-1]  # invalid JSON: not something Alpaca rows explain
    lines[9] = lines[9][:-1]
    lines[11] = lines[11][:-1]
    lines[3] = lines[3][:-1]
    path.write_text("\n".join(lines) + "\n")
    findings = check_files([str(path)], today=TODAY).findings
    _diagnosis(findings)
    assert [f.line for f in findings if f.code == "FT101"] == [4, 6, 10, 12]


def test_a_mixed_file_is_not_diagnosed_from_its_first_rows(tmp_path: Path) -> None:
    """The first megabyte (the head the diagnosis reads) holds rows with the system prompt outside messages,
    the rest of the file prompts without answers: a diagnosis naming the first kind would hide the unrelated
    findings, so the rows further into the file are sampled too."""
    text = "word " * 200
    outside = [{"system": "Be brief.", "messages": [{"role": "user", "content": f"Q{i} {text}"},
                                                    {"role": "assistant", "content": f"A{i}"}]} for i in range(1300)]
    prompts = [{"messages": [{"role": "user", "content": f"Prompt {i} {text}"}]} for i in range(1700)]
    path = tmp_path / "mixed.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in [*outside, *prompts]))
    assert path.stat().st_size > 2 * HEAD_BYTES
    findings = check_files([str(path)], today=TODAY).findings
    assert "FT012" not in {f.code for f in findings}
    assert Counter(f.code for f in findings if f.line) == {"FT209": 1300, "FT208": 1700}
    # The same kinds in a small file, where the head is the whole file: its rows are sampled over all of it.
    path.write_text("".join(json.dumps(row) + "\n" for row in [*outside[:10], *prompts[:40]]))
    assert "prompts without answers" in _diagnosis(check_files([str(path)], today=TODAY).findings).message
    path.write_text("".join(json.dumps(row) + "\n" for row in [*outside[:40], *prompts[:10]]))
    assert "system prompt outside messages" in _diagnosis(check_files([str(path)], today=TODAY).findings).message


def test_a_gzip_file_is_diagnosed_from_its_content(tmp_path: Path) -> None:
    path = tmp_path / "data.json.gz"
    path.write_bytes(gzip.compress(json.dumps(_alpaca(20), indent=2).encode()))
    assert "Alpaca" in _diagnosis(check_files([str(path)], today=TODAY).findings).message


@pytest.mark.parametrize(("head", "container"), [
    (b"PAR1\x15\x04", "parquet"), (b"ARROW1\x00\x00", "arrow"), (b"PK\x03\x04\x14", "zip"),
    (b'[\n  {"a": 1}\n]\n', "json-array"), (b'[{"a": 1}, {"a": 2}]', "json-array"),
    (b'{\n  "a": 1\n}\n', "pretty"), (b'\xef\xbb\xbf{\n "a": 1}\n', "pretty"),
    (b'{"a": 1}\n{"a": 2}\n', None), (b'{"a": 1}', None), (b"[1, 2]\n[3]\n", None), (b"hello\n", None),
    (b'{"a": 1\n{"a": 2}\n{"a": 3}\n', None),  # JSON Lines whose first record is broken
])
def test_container_of_the_first_bytes(head: bytes, container: str | None) -> None:
    assert container_of(head) == container


def test_arrow_file_gets_a_polars_command(tmp_path: Path) -> None:
    path = tmp_path / "data.arrow"
    path.write_bytes(b"ARROW1\x00\x00" + bytes(range(256)) * 4)
    diagnosis = _diagnosis(check_files([str(path)], today=TODAY).findings)
    assert diagnosis.message.startswith("file is an Arrow IPC (Feather) file, not JSONL")
    assert f"pl.read_ipc('{path}').write_ndjson('{tmp_path / 'data.jsonl'}')" in diagnosis.fix


def test_openai_rows_have_no_row_format() -> None:
    assert row_format({"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}]}) is None
    assert row_format({"prompt": "a", "completion": "b"}) is None
    assert jsonl_name("x.json") == "x.jsonl" and jsonl_name("x.jsonl") == "x.fixed.jsonl"


def test_check_text_of_a_json_array_is_short(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "data.json"
    path.write_text(json.dumps(_alpaca(2000), indent=2))
    assert main(["check", str(path)]) == 1
    out = capsys.readouterr().out
    assert len(out.splitlines()) < 20
    assert out.startswith(f"{path}: FT012 error [file-diagnosis] file is a JSON array of Alpaca records")


def test_standard_input_gets_the_files_diagnosis_with_a_command_reading_it(tmp_path: Path) -> None:
    """`ftprep check - < data.json`: the same diagnosis as the file, and a command that reads standard input."""
    import subprocess
    import sys

    path = tmp_path / "data.json"
    path.write_text(json.dumps(_alpaca(100), indent=2))
    from_file = _diagnosis(check_files([str(path)], today=TODAY).findings)
    run = subprocess.run([sys.executable, "-m", "ftprep", "check", "-", "-f", "json", "--isolated"],
                         stdin=path.open("rb"), capture_output=True, check=False, timeout=120)
    assert run.returncode == 1, run.stderr
    found = [f for f in json.loads(run.stdout)["findings"] if f["code"] == "FT012"]
    assert len(found) == 1
    assert found[0]["message"] == from_file.message
    assert found[0]["fix"] == "ftprep convert - stdin.jsonl --input-format json --from alpaca --to chat"
    # The command works on the same standard input.
    converted = subprocess.run([sys.executable, "-m", "ftprep", *shlex.split(found[0]["fix"])[1:], "--quiet"],
                               stdin=path.open("rb"), cwd=tmp_path, capture_output=True, check=False, timeout=120)
    assert converted.returncode == 0, converted.stderr
    assert check_files([str(tmp_path / "stdin.jsonl")], today=TODAY).errors == 0


def test_the_library_reading_a_pipe_keeps_its_head_for_the_diagnosis(tmp_path: Path) -> None:
    """check_files on a FIFO (read once, never opened again): the head the pass kept gives the diagnosis."""
    import os
    import threading

    data = "".join(json.dumps(r) + "\n" for r in _alpaca(20)).encode()
    fifo = tmp_path / "rows.jsonl"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb") as pipe:
            pipe.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    results: list[CheckResult] = []
    # In a thread: opening the FIFO again for its head (what it did before) waits for a writer forever.
    checker = threading.Thread(target=lambda: results.append(check_files([str(fifo)], today=TODAY)), daemon=True)
    checker.start()
    checker.join(60)
    assert results, "check_files did not return: it waited on the pipe"
    result = results[0]
    diagnosis = _diagnosis(result.findings)
    assert diagnosis.message.startswith("rows are Alpaca records")
    assert result.files[0].head is None  # used, then dropped

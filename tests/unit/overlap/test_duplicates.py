"""Within-file duplicates and their findings (FT524-FT527)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftprep.check import check_files
from ftprep.lint.finding import Severity
from ftprep.overlap import DigestCollector, find_duplicates
from ftprep.overlap.compare import PromptKeys
from ftprep.overlap.normalize import last_prompt_segment, prompt_key, record_text
from ftprep.overlap_pass import find_file_duplicates, scan_records
from ftprep.rules.overlap import duplicate_findings
from tests.unit.overlap.leakset import chat, write


def _collect(path: Path, **options: object) -> DigestCollector:
    collector = DigestCollector(**options)  # type: ignore[arg-type]
    scan_records(path, collector)
    return collector


def test_reordered_keys_are_a_duplicate_record_of_the_first_line(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [b'{"prompt": "a", "completion": "b"}', b'{"prompt": "x", "completion": "y"}',
                                        b'{"completion": "b", "prompt": "a"}'])
    assert [(d.kind, d.line, d.first_line) for d in find_duplicates(_collect(path))] == [("exact", 3, 1)]


def test_byte_identical_lines_are_left_to_ft502(tmp_path: Path) -> None:
    line = b'{"prompt": "a", "completion": "b"}'
    path = write(tmp_path / "d.jsonl", [line, b'{"prompt": "x", "completion": "y"}', line])
    assert find_duplicates(_collect(path)) == []


def test_case_and_punctuation_variant_is_a_normalised_duplicate(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat("Hello, world!", "Hi."), chat("hello   WORLD", "hi")])
    findings = duplicate_findings(str(path), _collect(path))
    assert [(f.code, f.line, f.severity) for f in findings] == [("FT525", 2, Severity.WARNING)]
    assert findings[0].message == "example is the same text (normalised) as line 1"


def test_same_prompt_with_another_answer_is_info(tmp_path: Path) -> None:
    path = write(tmp_path / "d.jsonl", [chat("Is 7 prime?", "Yes"), chat("Other?", "No"), chat("Is 7 prime?", "No")])
    findings = duplicate_findings(str(path), _collect(path))
    assert [(f.code, f.line, f.severity) for f in findings] == [("FT527", 3, Severity.INFO)]
    assert "line 1" in findings[0].message


def test_reinforcement_rows_with_other_references_are_same_prompt_info(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": "6 x 7?"}], "ref": "42"},
            {"messages": [{"role": "user", "content": "6 X 7"}], "ref": "43"}]
    path = write(tmp_path / "d.jsonl", rows)
    findings = duplicate_findings(str(path), _collect(path))
    assert [(f.code, f.line, f.severity) for f in findings] == [("FT527", 2, Severity.INFO)]


def test_reinforcement_rows_with_the_same_references_are_normalised_duplicates(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": "6 x 7?"}], "ref": "42"},
            {"messages": [{"role": "user", "content": "6 X 7"}], "ref": "42"}]
    path = write(tmp_path / "d.jsonl", rows)
    findings = duplicate_findings(str(path), _collect(path))
    assert [(f.code, f.line, f.severity) for f in findings] == [("FT525", 2, Severity.WARNING)]


def test_near_duplicates_only_when_asked(tmp_path: Path) -> None:
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen"
    path = write(tmp_path / "d.jsonl", [chat(text, "same answer here"), chat(text + " extra", "same answer here")])
    assert find_duplicates(_collect(path)) == []
    near = find_duplicates(_collect(path, within_near=True))
    assert [(d.kind, d.line, d.first_line) for d in near] == [("near", 2, 1)]
    assert [f.code for f in duplicate_findings(str(path), near)] == ["FT526"]


def test_merged_collectors_equal_one_pass(tmp_path: Path) -> None:
    text = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi"
    rows = [chat(text, "x"), chat("Hello, world!", "Hi."), chat(text + " rho", "x"), chat("hello world", "hi")]
    path = write(tmp_path / "d.jsonl", rows)
    whole = _collect(path, within_near=True)
    first, second = DigestCollector(within_near=True), DigestCollector(within_near=True)
    for line, row in enumerate(rows, 1):
        (first if line <= 2 else second).observe(line, "chat", row, b"")
    first.merge(second)
    assert find_duplicates(first) == find_duplicates(whole)


_IMAGE = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
_MESSAGES = st.sampled_from([
    {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello, World!"},
    {"role": "user", "content": "hello world"}, {"role": "assistant", "content": "Hi."},
    {"role": "assistant", "content": "hi"}, {"role": "assistant", "content": None},
    {"role": "assistant", "content": "Bye."}, {"role": "user", "content": "Ａｎｏｔｈｅｒ"},
    # Prompts ending with an image or a tool result: their key holds the last user text too.
    {"role": "user", "content": [{"type": "text", "text": "What is it?"}, _IMAGE]},
    {"role": "user", "content": [{"type": "text", "text": "what is it"}, _IMAGE]},
    {"role": "user", "content": [_IMAGE]},
    {"role": "tool", "content": "42", "tool_call_id": "c"},
])
_RECORDS = st.one_of(
    st.builds(lambda ms: {"messages": ms}, st.lists(_MESSAGES, max_size=4)),
    st.builds(lambda ms, ref: {"messages": ms, "reference": ref}, st.lists(_MESSAGES, max_size=2),
              st.sampled_from(["A", "a", "B"])),
    st.builds(lambda p, c: {k: v for k, v in (("prompt", p), ("completion", c)) if v is not None},
              st.sampled_from([None, "", "Q?", "q"]), st.sampled_from([None, "", "A.", "a"])),
    st.builds(lambda ms, out: {"input": {"messages": ms}, "preferred_output": [out],
                               "non_preferred_output": [{"role": "assistant", "content": "No."}]},
              st.lists(_MESSAGES, max_size=2), _MESSAGES),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_RECORDS, st.booleans()), max_size=14))
def test_two_step_duplicates_equal_one_collector_over_every_line(tmp_path: Path,
                                                                 rows: list[tuple[dict[str, object], bool]]) -> None:
    # The booleans reorder keys, so some lines are the same record in other bytes.
    lines = [orjson.dumps(dict(reversed(row.items())) if flip else row) for row, flip in rows]
    path = write(tmp_path / "d.jsonl", [*lines, b"not json", b'{"messages": "x"}'])
    keys = PromptKeys()
    scan_records(path, keys)
    assert find_file_duplicates(path, keys) == find_duplicates(_collect(path))


@settings(max_examples=200, deadline=None)
@given(_RECORDS)
def test_last_prompt_segment_is_the_last_of_the_record_text_prompt(record: dict[str, object]) -> None:
    for kind in ("chat", "preference", "completion", None):
        prompt = record_text(kind, record).prompt
        assert last_prompt_segment(kind, record) == (prompt[-1] if prompt else None)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_RECORDS | st.sampled_from([{"foo": 1}, {"text": "x"}]), st.booleans()), max_size=14))
def test_repeated_lines_of_a_file_equal_those_of_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       rows: list[tuple[dict[str, object], bool]]) -> None:
    # A file finds FT502 among the lines sharing a prompt key (and the digests of lines in no format);
    # standard input digests every line.
    lines = [orjson.dumps(dict(reversed(row.items())) if flip else row) for row, flip in rows]
    data = b"".join(line + b"\n" for line in [*lines, *lines[:3], b"not json", b"not json"])
    path = tmp_path / "d.jsonl"
    path.write_bytes(data)
    as_file = check_files([str(path)], select=["FT502", "FT52"])
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    as_stdin = check_files(["-"], select=["FT502", "FT52"])
    assert [(f.code, f.line, f.message) for f in as_file.findings] == \
           [(f.code, f.line, f.message) for f in as_stdin.findings]


def test_prompts_ending_with_one_image_are_keyed_by_their_question_too() -> None:
    def row(question: str) -> dict[str, object]:
        return {"messages": [{"role": "user", "content": [{"type": "text", "text": question}, _IMAGE]},
                             {"role": "assistant", "content": "A cat."}]}

    assert prompt_key("chat", row("What is it?")) == prompt_key("chat", row("what is it"))
    assert prompt_key("chat", row("What is it?")) != prompt_key("chat", row("What colour is it?"))


def test_prompts_ending_with_one_tool_result_are_keyed_by_the_question_too() -> None:
    def row(question: str) -> dict[str, object]:
        call = {"id": "c", "type": "function", "function": {"name": "clock", "arguments": "{}"}}
        return {"messages": [{"role": "user", "content": question},
                             {"role": "assistant", "content": None, "tool_calls": [call]},
                             {"role": "tool", "content": "12:00", "tool_call_id": "c"},
                             {"role": "assistant", "content": "Noon."}]}

    assert prompt_key("chat", row("Time?")) == prompt_key("chat", row("time"))
    assert prompt_key("chat", row("Time?")) != prompt_key("chat", row("Time in Paris?"))

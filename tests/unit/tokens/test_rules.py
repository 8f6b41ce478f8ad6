"""The FT4xx token rules and FT63x lifecycle rules, run directly on the case files they own."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftprep.lint.context import RecordContext
from ftprep.lint.finding import Finding
from ftprep.rules import lifecycle, tokens
from ftprep.rules.lifecycle import lifecycle_findings

CASES = Path(__file__).resolve().parents[2] / "rules" / "cases"
RECORD_CODES = ("FT400", "FT401", "FT402")
LIFECYCLE_CODES = ("FT630", "FT631", "FT632", "FT633")
CHECKS = (tokens.check_token_limit, tokens.check_trainable, tokens.check_special_tokens)


def record_findings(record: dict[str, Any], raw: bytes, model: str, method: str) -> list[Finding]:
    ctx = RecordContext(path="case.jsonl", enabled=frozenset(RECORD_CODES), method=method, model=model)
    ctx.at(1)
    ctx.raw = raw
    for check in CHECKS:
        check(record, ctx)
    return ctx.findings


def run(case: dict[str, Any], example: dict[str, Any]) -> list[Finding]:
    settings = {**case, **example}
    if case["code"] in LIFECYCLE_CODES:
        return lifecycle_findings(settings["model"], "case.jsonl", settings["today"])
    raw = example["record"].encode()
    return record_findings(orjson.loads(raw), raw, settings["model"], settings.get("method", "supervised"))


def examples(kind: str) -> list[Any]:
    params = []
    for code in RECORD_CODES + LIFECYCLE_CODES:
        case = tomllib.loads((CASES / f"{code}.toml").read_text())
        params += [pytest.param(case, ex, id=f"{code}-{kind}-{i}") for i, ex in enumerate(case.get(kind, []))]
    return params


@pytest.mark.parametrize(("case", "example"), examples("fail"))
def test_fail_case_gives_one_finding_at_pointer(case: dict[str, Any], example: dict[str, Any]) -> None:
    hits = [f for f in run(case, example) if f.code == case["code"]]
    assert len(hits) == 1, hits
    assert (hits[0].pointer or "") == example["pointer"]


@pytest.mark.parametrize(("case", "example"), examples("pass"))
def test_pass_case_gives_no_finding(case: dict[str, Any], example: dict[str, Any]) -> None:
    assert run(case, example) == []


def test_over_limit_message_names_tokens_over_and_what_is_cut() -> None:
    case = tomllib.loads((CASES / "FT400.toml").read_text())
    raw = case["fail"][0]["record"].encode()
    [finding] = record_findings(orjson.loads(raw), raw, "gpt-3.5-turbo-0613", "supervised")
    assert finding.message == (
        "example has 4,221 tokens, 125 over the 4,096-token limit of gpt-3.5-turbo-0613; training cuts it "
        "from the end: message 1 (user) and the 1 message(s) after it are lost"
    )


def test_small_lines_are_not_tokenized(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("tokenized a line that cannot exceed the limit")

    monkeypatch.setattr(tokens.Accountant, "count", refuse)
    raw = b'{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]}'
    assert record_findings(orjson.loads(raw), raw, "gpt-4o-mini", "supervised") == []


def test_unknown_model_skips_the_limit_check() -> None:
    raw = b'{"messages": [{"role": "assistant", "content": "x"}]}'
    assert record_findings(orjson.loads(raw), raw * 10000, "my-model", "supervised") == []


def test_zero_trainable_not_flagged_for_reinforcement() -> None:
    raw = b'{"messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A", "weight": 0}]}'
    assert record_findings(orjson.loads(raw), raw, "o4-mini", "reinforcement") == []


def test_special_token_in_a_key_is_found() -> None:
    raw = b'{"messages": [{"role": "user", "content": "q"}], "<|endoftext|>": 1}'
    [finding] = record_findings(orjson.loads(raw), raw, "gpt-4o-mini", "supervised")
    assert finding.pointer == "/<|endoftext|>"


def test_lifecycle_message_has_date_and_source() -> None:
    cutoff, shutdown = lifecycle_findings("gpt-4o-mini", "train.jsonl", dt.date(2026, 12, 20))
    assert (cutoff.code, shutdown.code, cutoff.line) == ("FT631", "FT633", None)
    assert cutoff.message.startswith(
        "gpt-4o-mini-2024-07-18: new fine-tuning jobs end on 2027-01-06 (in 17 days) "
        "(source: https://developers.openai.com/api/docs/deprecations, as of 2026-11-24")


def test_lifecycle_past_shutdown_and_cutoff() -> None:
    codes = [f.code for f in lifecycle_findings("gpt-3.5-turbo-0613", "t.jsonl", dt.date(2026, 11, 24))]
    assert codes == ["FT630", "FT632"]


def test_lifecycle_respects_enabled_codes() -> None:
    found = lifecycle_findings("gpt-3.5-turbo-0613", "t.jsonl", dt.date(2026, 11, 24),
                               enabled=frozenset({"FT632"}))
    assert [f.code for f in found] == ["FT632"]


def test_lifecycle_rules_are_registered() -> None:
    assert lifecycle.JobCutoffPassed.code == "FT630"


def test_dpo_limit_applies_to_each_input_output_sequence(tmp_path: Path) -> None:
    from ftprep.check import check_files
    from ftprep.config import parse_config

    config = parse_config({"models": {"tiny-dpo": {"encoding": "o200k_base", "methods": ["dpo"],
                                                   "formats": ["preference"], "limit": {"value": 70}}}}, None)
    words = " ".join(["word"] * 25)  # 25 tokens: input + one output is 61 tokens, with both 86

    def row(preferred: str, rejected: str) -> bytes:
        return orjson.dumps({"input": {"messages": [{"role": "user", "content": words}]},
                             "preferred_output": [{"role": "assistant", "content": preferred}],
                             "non_preferred_output": [{"role": "assistant", "content": rejected}]})

    path = tmp_path / "dpo.jsonl"
    # Line 1: input + either output fits (the three together do not); line 2: the non-preferred side is over.
    path.write_bytes(row(words, words) + b"\n" + row(words, words + " " + words) + b"\n")
    result = check_files([str(path)], model="tiny-dpo", method="dpo", config=config, min_examples=1,
                         select=["FT400"])
    assert [(f.line, f.pointer) for f in result.findings] == [(2, "/non_preferred_output")]
    assert "input + non_preferred_output has" in result.findings[0].message

"""Grader files: the row keys a grader reads, the grader types recognised, and errors naming the file."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.check import check_files
from ftprep.cli import main
from ftprep.data.models import default_models
from ftprep.engine import ScanOptions, all_codes, scan_file
from ftprep.errors import ConfigError
from ftprep.grader import load_grader, parse_grader
from ftprep.rules.compat import JobFacts, compat_findings
from tests.conftest import SAMPLES, TODAY

STRING_CHECK = {"type": "string_check", "name": "answer", "input": "{{sample.output_text}}",
                "reference": "{{item.reference_answer}}", "operation": "eq"}


def _write(tmp_path: Path, grader: object) -> Path:
    path = tmp_path / "grader.json"
    path.write_bytes(orjson.dumps(grader))
    return path


def test_string_check_reads_its_reference_key(tmp_path: Path) -> None:
    grader = load_grader(_write(tmp_path, STRING_CHECK))
    assert (grader.type, grader.name, grader.item_keys) == ("string_check", "answer", ("reference_answer",))


def test_template_with_spaces_is_recognised() -> None:
    grader = parse_grader({**STRING_CHECK, "reference": "{{ item.label }}"})
    assert grader.item_keys == ("label",)


def test_multi_grader_collects_the_keys_of_every_grader() -> None:
    grader = parse_grader({
        "type": "multi", "name": "m", "calculate_output": "0.5 * a + 0.5 * b",
        "graders": {
            "a": {"type": "text_similarity", "name": "a", "input": "{{sample.output_json.text}}",
                  "reference": "{{item.extracted_text}}", "evaluation_metric": "fuzzy_match"},
            "b": {**STRING_CHECK, "reference": "{{item.clause_type}}"},
        },
    })
    assert grader.item_keys == ("extracted_text", "clause_type")


def test_score_model_input_templates_are_searched() -> None:
    grader = parse_grader({
        "type": "score_model", "name": "judge", "model": "o4-mini",
        "input": [{"role": "system", "content": "Grade against the rubric."},
                  {"role": "user", "content": [{"type": "input_text",
                                                "text": "Rubric: {{item.rubric}}\nAnswer: {{sample.output_text}}"}]}],
    })
    assert grader.item_keys == ("rubric",)


def test_label_model_is_recognised() -> None:
    grader = parse_grader({"type": "label_model", "name": "l", "model": "gpt-4o-mini", "labels": ["yes", "no"],
                           "passing_labels": ["yes"],
                           "input": [{"role": "user", "content": "Is {{sample.output_text}} about {{item.topic}}?"}]})
    assert grader.item_keys == ("topic",)


def test_python_source_subscripts_are_required_but_get_calls_are_not() -> None:
    source = "def grade(sample, item):\n    tol = item.get('tolerance', 0)\n    return float(item[\"target\"] == 1)"
    grader = parse_grader({"type": "python", "name": "p", "source": source})
    assert grader.item_keys == ("target",)


def test_job_method_wrapper_is_unwrapped() -> None:
    grader = parse_grader({"type": "reinforcement", "reinforcement": {"grader": STRING_CHECK}})
    assert grader.item_keys == ("reference_answer",)


def test_grader_key_wrapper_is_unwrapped() -> None:
    assert parse_grader({"grader": STRING_CHECK}).item_keys == ("reference_answer",)


def test_unknown_grader_type_names_the_file_and_the_place(tmp_path: Path) -> None:
    path = _write(tmp_path, {"type": "multi", "name": "m", "calculate_output": "a",
                             "graders": {"a": {"type": "regex_check", "name": "a"}}})
    with pytest.raises(ConfigError, match=r"grader\.json: unknown grader type 'regex_check' at /graders/a"):
        load_grader(path)


def test_missing_field_of_a_grader_type_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="string_check grader lacks operation"):
        parse_grader({k: v for k, v in STRING_CHECK.items() if k != "operation"}, "g.json")


def test_unreadable_grader_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"cannot read grader file .*missing\.json"):
        load_grader(tmp_path / "missing.json")


def test_grader_file_that_is_not_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "grader.json"
    path.write_text("{'type': 'python'}")
    with pytest.raises(ConfigError, match=r"grader\.json is not valid JSON"):
        load_grader(path)


def test_rows_missing_a_grader_key_are_reported_at_their_lines(tmp_path: Path) -> None:
    rows = tmp_path / "rft.jsonl"
    user = {"role": "user", "content": "2+2?"}
    rows.write_bytes(b"\n".join(orjson.dumps(r) for r in [
        {"messages": [user], "reference_answer": "4"}, {"messages": [user], "answer": "4"}, {"messages": [user]},
    ]) + b"\n")
    result = check_files([str(rows)], model="o4-mini", method="reinforcement", min_examples=1,
                         today=TODAY.replace(month=6), grader=str(_write(tmp_path, STRING_CHECK)),
                         ignore=["FT52"])  # the rows share one prompt on purpose
    assert [(f.code, f.line, f.message) for f in result.findings] == [
        ("FT262", 2, "row has no 'reference_answer', which the grader 'answer' reads as {{item.reference_answer}}"),
        ("FT262", 3, "row has no 'reference_answer', which the grader 'answer' reads as {{item.reference_answer}}"),
    ]


def test_the_fix_of_a_grader_with_thousands_of_keys_names_a_few(tmp_path: Path) -> None:
    keys = [f"field_{i:04d}" for i in range(4000)]
    grader = {"type": "multi", "name": "big", "calculate_output": "g0", "graders": {
        f"g{i}": {"type": "string_check", "name": f"g{i}", "input": "{{sample.output_text}}",
                  "reference": "{{item." + key + "}}", "operation": "eq"} for i, key in enumerate(keys)}}
    rows = tmp_path / "rft.jsonl"
    rows.write_bytes(orjson.dumps({"messages": [{"role": "user", "content": "2+2?"}]}) + b"\n")
    result = check_files([str(rows)], model="o4-mini", method="reinforcement", min_examples=1,
                         today=TODAY.replace(month=6), grader=str(_write(tmp_path, grader)), select=["FT262"])
    # Linear in the rows: at most 10 findings per row for its first missing keys, then one for the rest.
    assert len(result.findings) == 11
    listed = ", ".join(repr(k) for k in keys[:10])
    assert result.findings[0].fix == f"add 'field_0000' to the row (the grader reads: {listed} and 3990 more)"
    assert "3990 more keys" in result.findings[-1].message
    assert max(len(f.fix) for f in result.findings) < 300


def test_sample_grader_matches_the_sample_rows() -> None:
    result = check_files([str(SAMPLES / "rft_valid.jsonl")], model="o4-mini", method="reinforcement",
                         today=TODAY.replace(month=6), grader=str(SAMPLES / "rft_grader.json"))
    assert result.findings == []


def test_cli_exits_2_naming_a_missing_grader_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", str(SAMPLES / "rft_valid.jsonl"), "--method", "reinforcement", "--model", "o4-mini",
                 "--grader", str(tmp_path / "nope.json")])
    assert code == 2
    assert "nope.json" in capsys.readouterr().err


def test_grader_type_that_is_not_a_string_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"unknown grader type \['python'\]"):
        parse_grader({"type": ["python"], "name": "p", "source": ""}, "g.json")


def test_parallel_pass_reports_the_same_missing_variables(tmp_path: Path) -> None:
    user = {"role": "user", "content": "2+2?"}
    rows = tmp_path / "rft.jsonl"
    rows.write_bytes(b"".join(orjson.dumps({"messages": [user], **({"reference_answer": "4"} if i % 3 else {})})
                              + b"\n" for i in range(3000)))
    grader = parse_grader(STRING_CHECK)
    info = default_models().resolve("o4-mini")
    found = []
    for workers in (1, 4):
        facts = JobFacts(grader)
        scan = scan_file(str(rows), ScanOptions(enabled=all_codes(), model=info.name, method="reinforcement"),
                         [facts], workers=workers)
        found.append([(f.code, f.line) for f in compat_findings(info, "reinforcement", scan, enabled=all_codes(),
                                                                 facts=facts)])
    assert found[0] == found[1] == [("FT262", line) for line in range(1, 3001, 3)]


def test_nested_templates_and_subscripts_read_key_paths() -> None:
    grader = parse_grader({"type": "multi", "name": "m", "calculate_output": "a + b", "graders": {
        "a": {**STRING_CHECK, "reference": "{{ item.reference.answer }}"},
        "b": {"type": "python", "name": "p", "source": "def grade(sample, item):\n"
              "    return float(item['meta'][\"id\"] == item.get('x'))"},
        "c": {**STRING_CHECK, "reference": '{{item["labels"].gold}}'},
    }}, "g.json")
    assert grader.item_keys == ("reference.answer", "meta.id", "labels.gold")


def test_rows_are_checked_along_the_whole_key_path(tmp_path: Path) -> None:
    rows = tmp_path / "rft.jsonl"
    user = {"role": "user", "content": "2+2?"}
    rows.write_bytes(b"\n".join(orjson.dumps(r) for r in [
        {"messages": [user], "reference": {"answer": "4"}}, {"messages": [user], "reference": "4"},
        {"messages": [user], "reference": {"value": "4"}}, {"messages": [user]},
    ]) + b"\n")
    nested = {**STRING_CHECK, "reference": "{{item.reference.answer}}"}
    result = check_files([str(rows)], model="o4-mini", method="reinforcement", min_examples=1,
                         today=TODAY.replace(month=6), grader=str(_write(tmp_path, nested)), ignore=["FT52"])
    assert [(f.code, f.line) for f in result.findings] == [("FT262", 2), ("FT262", 3), ("FT262", 4)]
    assert result.findings[0].message == ("row has no 'reference.answer', which the grader 'answer' reads as "
                                          "{{item.reference.answer}}")


@pytest.mark.parametrize("text", [
    # a string_check grader holding a value nested 1,020 levels (the walks used to exhaust the stack)
    '{"type": "string_check", "name": "g", "input": "{{item.a}}", "reference": "x", "operation": "eq", "x": '
    + "[" * 1020 + "]" * 1020 + "}",
    # multi graders nested in each other 300 times
    '{"type": "multi", "calculate_output": "a", "graders": {"a": ' * 300
    + '{"type": "string_check", "name": "g", "input": "{{item.a}}", "reference": "x", "operation": "eq"}'
    + "}}" * 300,
])
def test_a_deeply_nested_grader_is_a_clear_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "grader.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match="nests more than 128 levels deep"):
        load_grader(path)


def test_a_grader_with_thousands_of_keys_keeps_each_finding_small(tmp_path: Path) -> None:
    keys = [f"k{i}" for i in range(4_000)]
    grader = {"type": "score_model", "name": "many", "model": "o4-mini",
              "input": [{"role": "user", "content": " ".join(f"{{{{item.{k}}}}}" for k in keys)}]}
    rows = tmp_path / "rft.jsonl"
    rows.write_bytes(b'{"messages": [{"role": "user", "content": "q"}], "k0": 1}\n' * 3)
    result = check_files([str(rows)], model="o4-mini", method="reinforcement", grader=str(_write(tmp_path, grader)),
                         min_examples=1, today=TODAY)
    missing = [f for f in result.findings if f.name == "grader-variable-missing"]
    assert [f.line for f in missing] == [1] * 11 + [2] * 11 + [3] * 11  # 10 keys, then the rest in one
    assert all(len(f.fix) < 200 and len(f.message) < 200 for f in missing)
    assert missing[0].fix == ("add 'k1' to the row (the grader reads: 'k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', "
                              "'k7', 'k8', 'k9' and 3990 more)")
    assert missing[10].message == ("row also lacks 3989 more keys the grader 'many' reads ('k11', 'k12', 'k13', "
                                   "...)")

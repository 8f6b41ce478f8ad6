"""convert/fix/split: fields not carried are counted (or rejected with --strict), KTO label=false rows are
not made training targets, and an output named for another format is refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from ftprep.errors import ConfigError
from ftprep.transform.convert import KTO_FALSE, KTO_UNPAIRED, NOT_CARRIED, NOT_KTO, ConvertOptions, convert_file
from ftprep.transform.fix import fix_file
from ftprep.transform.outputs import convert_file_to
from ftprep.transform.split import split_file

KTO = [{"prompt": f"Question {i}?", "completion": f"Answer {i}.", "label": i % 3 != 0} for i in range(9)]


def _jsonl(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def test_kto_rows_with_label_false_are_set_aside_not_trained(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "kto.jsonl", KTO)
    result = convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="chat"))
    written = [orjson.loads(line) for line in (tmp_path / "out.jsonl").read_bytes().splitlines()]
    assert [r["messages"][1]["content"] for r in written] == [f"Answer {i}." for i in (1, 2, 4, 5, 7, 8)]
    accounting = result.accounting
    assert (accounting.rejected, accounting.set_aside, dict(accounting.reasons)) == (3, 3, {KTO_FALSE: 3})
    assert accounting.balanced
    assert accounting.to_dict()["dropped_fields"] == {}  # the label of a kept row is what kept it


def test_kto_keep_converts_every_row_and_counts_the_labels(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "kto.jsonl", KTO)
    result = convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="completions", kto="keep"))
    assert result.accounting.outputs["output"] == 9
    assert result.accounting.to_dict()["dropped_fields"] == {"label": {"values": 9, "rows": 9}}


def test_columns_not_carried_are_counted_and_strict_rejects_them(tmp_path: Path) -> None:
    rows = [{"messages": [{"role": "user", "content": f"Q{i}"}, {"role": "assistant", "content": f"A{i}"}],
             "id": i, "source": "web"} for i in range(3)]
    source = _jsonl(tmp_path / "in.jsonl", rows)
    result = convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="chat"))
    assert result.accounting.to_dict()["dropped_fields"] == {"id": {"values": 3, "rows": 3},
                                                             "source": {"values": 3, "rows": 3}}
    assert "dropped id: 3 value(s) in 3 row(s)" in result.accounting.render()
    strict = convert_file(source, tmp_path / "strict.jsonl", ConvertOptions(to="chat", strict=True))
    assert strict.accounting.outputs["output"] == 0
    assert dict(strict.accounting.reasons) == {NOT_CARRIED: 3}


@pytest.mark.parametrize("name", ["out.parquet", "out.csv", "out.json", "out.jsonl.gz"])
def test_an_output_named_for_another_format_is_refused(tmp_path: Path, name: str) -> None:
    source = _jsonl(tmp_path / "in.jsonl", KTO)
    with pytest.raises(ConfigError, match="ftprep writes JSONL"):
        convert_file(source, tmp_path / name, ConvertOptions(to="chat"))
    with pytest.raises(ConfigError, match="ftprep writes JSONL"):
        fix_file(source, tmp_path / name)
    with pytest.raises(ConfigError, match="ftprep writes JSONL"):
        split_file(source, train_out=tmp_path / name)
    assert not (tmp_path / name).exists()


def test_cli_convert_to_parquet_name_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = _jsonl(tmp_path / "in.jsonl", KTO)
    assert main(["convert", str(source), str(tmp_path / "out.parquet"), "--to", "chat"]) == 2
    assert "name the output out.jsonl" in capsys.readouterr().err


def test_kto_label_false_rows_are_set_aside_for_the_trainer_targets_too(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "kto.jsonl", KTO)
    result = convert_file_to(source, tmp_path / "out.jsonl", ConvertOptions(to="trl"))
    assert result.accounting.outputs["output"] == 6
    assert (result.accounting.set_aside, dict(result.accounting.reasons)) == (3, {KTO_FALSE: 3})


def _kto(prompt: str, answer: str, label: bool) -> dict[str, object]:
    return {"prompt": prompt, "completion": answer, "label": label}


def _pair(prompt: str, good: str, bad: str) -> dict[str, object]:
    return {"input": {"messages": [{"role": "user", "content": prompt}]},
            "preferred_output": [{"role": "assistant", "content": good}],
            "non_preferred_output": [{"role": "assistant", "content": bad}]}


def _written(path: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def test_kto_pairs_pair_rows_of_one_prompt_in_input_order(tmp_path: Path) -> None:
    rows = [_kto("Q1", "good 1a", True), _kto("Q2", "bad 2", False), _kto("Q1", "bad 1a", False),
            _kto("Q1", "good 1b", True), _kto("Q2", "good 2", True), _kto("Q1", "bad 1b", False),
            _kto("Q1", "good 1c", True), _kto("Q1 ", "bad, other prompt", False)]
    source = _jsonl(tmp_path / "kto.jsonl", rows)
    with source.open("ab") as handle:
        handle.write(b"\n")  # a blank line: dropped and counted, as everywhere
    result = convert_file(source, tmp_path / "dpo.jsonl", ConvertOptions(to="dpo", kto="pairs"))
    # Each pair is written where its later row is: lines 3 (Q1 first pair), 5 (Q2), 6 (Q1 second pair).
    assert _written(tmp_path / "dpo.jsonl") == [_pair("Q1", "good 1a", "bad 1a"), _pair("Q2", "good 2", "bad 2"),
                                                _pair("Q1", "good 1b", "bad 1b")]
    accounting = result.accounting
    assert (accounting.inputs, accounting.outputs, accounting.blank) == (9, {"output": 3}, 1)
    # 3 records from 6 lines; the third true answer of Q1 and the row whose prompt differs (a trailing space)
    # are left over: set aside, not a failure.
    assert (accounting.rejected, accounting.set_aside, dict(accounting.reasons)) == (2, 2, {KTO_UNPAIRED: 2})
    assert accounting.balanced and accounting.input_lines("output") == 6
    summary = accounting.to_dict()
    assert summary["outputs"]["output"] == {"path": str(tmp_path / "dpo.jsonl"), "lines": 3, "input_lines": 6,
                                            "input_lines_per_record": 2}
    assert f"output: 3 -> {tmp_path / 'dpo.jsonl'} (from 6 input lines, 2 per record)" in accounting.render()
    rejected = [orjson.loads(line) for line in (tmp_path / "dpo.rejects.jsonl").read_bytes().splitlines()]
    assert [(r["line"], r["reasons"]) for r in rejected] == [(7, [KTO_UNPAIRED]), (8, [KTO_UNPAIRED])]
    assert rejected[0]["findings"][0]["message"] == ("label=true row left without a pair: its prompt has 3 label=true "
                                                     "and 2 label=false row(s), paired in input order")


def test_kto_pairs_compare_prompts_as_chat_messages(tmp_path: Path) -> None:
    """A top-level system (Bedrock style) and a system message are the same prompt once normalised."""
    user = {"role": "user", "content": "Say hi"}
    rows = [{"system": "Be brief.", "messages": [user, {"role": "assistant", "content": "Hi!"}], "label": True},
            {"messages": [{"role": "system", "content": "Be brief."}, user,
                          {"role": "assistant", "content": "Greetings, dear user, how are you?"}], "label": False},
            {"messages": [user, {"role": "assistant", "content": "Hello"}], "label": True, "id": 7}]
    source = _jsonl(tmp_path / "kto.jsonl", rows)
    result = convert_file(source, tmp_path / "dpo.jsonl", ConvertOptions(to="dpo", kto="pairs"))
    assert _written(tmp_path / "dpo.jsonl") == [{
        "input": {"messages": [{"role": "system", "content": "Be brief."}, user]},
        "preferred_output": [{"role": "assistant", "content": "Hi!"}],
        "non_preferred_output": [{"role": "assistant", "content": "Greetings, dear user, how are you?"}]}]
    assert (result.accounting.rejected, dict(result.accounting.reasons)) == (1, {KTO_UNPAIRED: 1})


def test_kto_pairs_reject_both_rows_of_a_pair_with_errors_and_rows_that_are_not_kto(tmp_path: Path) -> None:
    # The label=false completion is a user turn: a DPO output must be the assistant's.
    bad = {"prompt": "Q1", "completion": [{"role": "user", "content": "not an answer"}], "label": False}
    rows = [_kto("Q1", "fine", True), bad, {"prompt": "Q2", "completion": "no label"}]
    source = _jsonl(tmp_path / "kto.jsonl", rows)
    result = convert_file(source, tmp_path / "dpo.jsonl", ConvertOptions(to="dpo", kto="pairs"))
    accounting = result.accounting
    assert accounting.outputs == {"output": 0} and accounting.balanced
    rejected = [orjson.loads(line) for line in (tmp_path / "dpo.rejects.jsonl").read_bytes().splitlines()]
    assert sorted(r["line"] for r in rejected) == [1, 2, 3]
    by_line = {r["line"]: r for r in rejected}
    assert by_line[3]["reasons"] == [NOT_KTO]
    assert by_line[1]["findings"][0]["message"] == "the DPO pair of line 1 and line 2 has errors"
    assert by_line[1]["reasons"] == by_line[2]["reasons"]
    assert accounting.set_aside == 0  # errors, not a choice: the run fails


def test_kto_pairs_need_the_dpo_target(tmp_path: Path) -> None:
    source = _jsonl(tmp_path / "kto.jsonl", KTO)
    with pytest.raises(ConfigError, match="--kto pairs writes DPO pairs: use --to dpo, not --to chat"):
        convert_file(source, tmp_path / "out.jsonl", ConvertOptions(to="chat", kto="pairs"))
    with pytest.raises(ConfigError, match="use --to dpo, not --to trl"):
        convert_file_to(source, tmp_path / "out.jsonl", ConvertOptions(to="trl", kto="pairs"))


def test_kto_pairs_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = [_kto(f"Q{i % 3}", f"answer {i}", i % 2 == 0) for i in range(9)]
    source = _jsonl(tmp_path / "kto.jsonl", rows)
    assert main(["convert", str(source), str(tmp_path / "dpo.jsonl"), "--to", "dpo", "--kto", "pairs",
                 "-f", "json"]) == 0  # the rows left over are set aside, as asked
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["outputs"]["output"]["lines"] == 3  # one pair per prompt, each with a row left over
    assert summary["outputs"]["output"]["input_lines"] == 6
    assert (summary["rejected"]["lines"], summary["balanced"]) == (3, True)

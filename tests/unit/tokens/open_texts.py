"""Texts to compare tokenizers on: hard cases written here, and message texts of the corpus's chat files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson

from tests.conftest import CORPUS

HARD_TEXTS = (
    "",
    "hello world",
    "  leading and trailing spaces  ",
    "tabs\tand\nnew\r\nlines\n\n\n  indented",
    "café naïve coöperation, e\u0301 (combining) and ﬁ ligature",  # NFC matters to Qwen
    "数字 12345678901234567890 and 3.14159",
    "日本語のテキスト、ドラッグストアで働く店員です。",
    "emoji 👩‍💻🚀 and symbols ∑∫√ ≠ ≤",
    '{"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\"}"}',
    "def f(x):\n    return x ** 2  # comment\n",
    "literal specials: <|eot_id|> <|im_start|>user<|im_end|> <|start|> [INST] <s> </s> <|endoftext|>",
    "it's I'M you'LL they'd we've",
    "x" * 3000,
    " " * 50 + "\n" * 20,
)


def corpus_message_texts(per_file: int) -> list[str]:
    """String contents of messages in the corpus's chat files (the first ``per_file`` rows of each file)."""
    return list(_iter_corpus_texts(CORPUS, per_file))


def _iter_corpus_texts(folder: Path, per_file: int) -> Iterator[str]:
    if not folder.is_dir():
        return
    for path in sorted(folder.glob("*/*.jsonl")):
        with path.open("rb") as handle:
            for number, line in enumerate(handle):
                if number >= per_file:
                    break
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                messages = row.get("messages") if isinstance(row, dict) else None
                for message in messages if isinstance(messages, list) else []:
                    if isinstance(message, dict) and isinstance(message.get("content"), str):
                        yield message["content"]


def corpus_chat_rows(per_file: int = 40) -> list[tuple[str, int, dict[str, object]]]:
    """(file name, line number, row) of rows with a ``messages`` list, from every corpus file."""
    rows: list[tuple[str, int, dict[str, object]]] = []
    if not CORPUS.is_dir():
        return rows
    for path in sorted(CORPUS.glob("*/*.jsonl")):
        with path.open("rb") as handle:
            for number, line in enumerate(handle, start=1):
                if number > per_file:
                    break
                try:
                    row = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(row, dict) and isinstance(row.get("messages"), list):
                    rows.append((f"{path.parent.name}/{path.name}", number, row))
    return rows

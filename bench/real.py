"""A benchmark file made of real rows: the chat, tool and DPO records of the corpus (../shared/corpus), copied
until the file reaches the wanted size, each copy made unique by a numbered suffix on its last user text.

    python bench/real.py bench/out/real_100mb.jsonl --mb 100
    python bench/real.py bench/out/multilingual_100mb.jsonl --multilingual

``--multilingual`` writes long Chinese and French conversations made of the corpus's Alpaca rows instead
(``write_multilingual``), for the duplicate step and the token-limit test (bench/steps.py).

The rows are taken in a fixed order (files sorted by path, lines in file order), so the same corpus gives
the same bytes. Every written row gets the suffix `` #<n>`` (``n`` counts the written rows), so no two rows
are byte-equal and no two share a normalised prompt: the file holds no duplicates, and the duplicate rules
find none that the corpus's own repeated rows would otherwise add. Rows whose last user message has no text
to suffix (a prompt of images only, a conversation without a user turn) are left out, as are lines that
are not JSON objects and completion or other non-chat rows (``bench/synth.py`` writes completions).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import orjson

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus"


def _last_user(messages: object) -> dict[str, Any] | None:
    """The last message with role ``user`` in a list of messages, or None."""
    if not isinstance(messages, list):
        return None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return message
    return None


def _suffixed(record: dict[str, Any], suffix: str) -> bool:
    """Append ``suffix`` to the text of the record's last user message, in place; False if it has none."""
    if "messages" in record:
        messages = record["messages"]
    elif isinstance(record.get("input"), dict):
        messages = record["input"].get("messages")
    else:
        return False
    message = _last_user(messages)
    if message is None:
        return False
    content = message.get("content")
    if isinstance(content, str) and content.strip():
        message["content"] = content + suffix
        return True
    if isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str):
                part["text"] = part["text"] + suffix
                return True
    return False


def corpus_rows(corpus: Path = CORPUS) -> list[bytes]:
    """The corpus's chat (with or without tools) and DPO rows, as compact JSON, in a fixed order."""
    rows: list[bytes] = []
    for path in sorted(corpus.rglob("*.jsonl")):
        with path.open("rb") as handle:
            for line in handle:
                try:
                    record = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue
                if not isinstance(record, dict):
                    continue
                chat = "messages" in record
                dpo = "preferred_output" in record or isinstance(record.get("input"), dict)
                if chat or dpo:
                    rows.append(orjson.dumps(record))
    return rows


def write(path: Path, size_bytes: int, corpus: Path = CORPUS) -> dict[str, int]:
    """Write unique real rows to ``path`` (atomically) until it reaches ``size_bytes``; returns counts of the
    rows written, of the corpus's chat and DPO rows, of those left out (no user text to make unique) and
    of the passes over them (the last one partial)."""
    rows = corpus_rows(corpus)
    if not rows:
        raise SystemExit(f"no chat or DPO rows found under {corpus}")
    written = count = passes = 0
    skipped: set[int] = set()
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        while written < size_bytes:
            usable = 0
            for index, row in enumerate(rows):
                record = orjson.loads(row)
                if not _suffixed(record, f" #{count}"):
                    skipped.add(index)
                    continue
                line = orjson.dumps(record) + b"\n"
                out.write(line)
                written += len(line)
                count += 1
                usable += 1
                if written >= size_bytes:
                    break
            if not usable:
                raise SystemExit(f"no row under {corpus} has a user text to make unique")
            passes += 1
    tmp.replace(path)
    return {"rows": count, "corpus_rows": len(rows), "left_out": len(skipped), "passes": passes}


def _alpaca_turns(corpus: Path) -> list[tuple[str, str]]:
    """(user, assistant) texts of the corpus's Chinese and French Alpaca rows, interleaved."""
    chinese = orjson.loads((corpus / "llamafactory" / "alpaca_zh_demo.json").read_bytes())
    with (corpus / "axolotl" / "alpaca-fr.jsonl").open("rb") as handle:
        french = [orjson.loads(line) for line in handle if line.strip()]
    turns: list[tuple[str, str]] = []
    for index in range(max(len(chinese), len(french))):
        for rows in (chinese, french):
            if index < len(rows):
                row = rows[index]
                prompt = "\n\n".join(t for t in (row.get("instruction"), row.get("input")) if t)
                if prompt and row.get("output"):
                    turns.append((prompt, row["output"]))
    return turns


# Turns per conversation, in turn: most are short, a few pass 32 KB (where the token-limit test tokenizes
# a line for gpt-4o-mini's 65,536 tokens).
TURNS = (1, 2, 1, 4, 1, 8, 2, 16, 1, 64)


def write_multilingual(path: Path, size_bytes: int, corpus: Path = CORPUS) -> dict[str, int]:
    """Write chat conversations of the corpus's Chinese and French Alpaca rows (1 to 64 turns, a system
    prompt) to ``path`` (atomically) until it reaches ``size_bytes``, each made unique by a numbered suffix
    on its last user text; returns the counts of conversations and of lines over 32 KB."""
    turns = _alpaca_turns(corpus)
    written = count = long_lines = cursor = 0
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as out:
        while written < size_bytes:
            messages = [{"role": "system", "content": "Tu es un assistant utile. 你是一个乐于助人的助手。"}]
            for _ in range(TURNS[count % len(TURNS)]):
                user, answer = turns[cursor % len(turns)]
                cursor += 1
                messages += [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]
            messages[-2]["content"] += f" #{count}"
            line = orjson.dumps({"messages": messages}) + b"\n"
            out.write(line)
            written += len(line)
            long_lines += len(line) > 32_768
            count += 1
    tmp.replace(path)
    return {"rows": count, "long_lines": long_lines}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", type=Path)
    parser.add_argument("--mb", type=float, default=100)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--multilingual", action="store_true",
                        help="long Chinese and French conversations (Alpaca rows) instead of the corpus mix")
    args = parser.parse_args()
    make = write_multilingual if args.multilingual else write
    print(make(args.path, int(args.mb * 1_000_000), args.corpus))


if __name__ == "__main__":
    main()

"""A training/validation pair with known leaks of every kind and template-sharing independent examples."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import orjson

SYSTEM = ("You are a careful translator working for a publishing house. Translate the user's sentence into "
          "French, keep the tone and the register, and answer with the translation only.")
INSTRUCTION = "Translate the following sentence into French, keeping names unchanged:"
_VOCAB = [f"w{i}x" for i in range(400)]


def sentence(rng: random.Random, words: int = 24) -> str:
    """A random sentence from a 400-word vocabulary: independent sentences share almost no 3-shingle."""
    return " ".join(rng.choice(_VOCAB) for _ in range(words)).capitalize() + "."


def chat(user: str, answer: str) -> dict[str, Any]:
    """A templated chat record: shared system prompt and instruction, varying sentence and answer."""
    return {"messages": [{"role": "system", "content": SYSTEM},
                         {"role": "user", "content": f"{INSTRUCTION} {user}"},
                         {"role": "assistant", "content": answer}]}


def write(path: Path, records: list[Any]) -> Path:
    """Write records as JSONL (records given as bytes are written as they are)."""
    path.write_bytes(b"".join((r if isinstance(r, bytes) else orjson.dumps(r)) + b"\n" for r in records))
    return path


def build(tmp_path: Path) -> tuple[Path, Path, dict[int, tuple[str, int]], list[int]]:
    """Train (30 records) and validation files; returns the expected leaks {valid line: (kind, train line)}
    and the validation lines that must not be flagged."""
    rng = random.Random(5)
    train = [chat(sentence(rng), sentence(rng)) for _ in range(30)]
    valid: list[Any] = []
    expected: dict[int, tuple[str, int]] = {}
    independent: list[int] = []

    def add(record: Any, leak: tuple[str, int] | None = None) -> None:
        valid.append(record)
        if leak:
            expected[len(valid)] = leak
        else:
            independent.append(len(valid))

    add(chat(sentence(rng), sentence(rng)))
    # exact: training line 4 with keys in another order and spaces in the JSON
    t4 = train[3]["messages"]
    add(b'{ "messages" : [' + b", ".join(orjson.dumps({"content": m["content"], "role": m["role"]})
                                         for m in t4) + b"] }", ("exact", 4))
    add(chat(sentence(rng), sentence(rng)))
    # normalised: training line 7 upper-cased, punctuation and spacing changed
    t7 = train[6]["messages"]
    add(chat("  " + t7[1]["content"][len(INSTRUCTION) + 1:].upper().replace(".", "!!") + "  ",
             t7[2]["content"].rstrip(".").lower()), ("normalised", 7))
    # near: training line 12 with the last word of the sentence changed, same answer
    t12 = train[11]["messages"]
    add(chat(t12[1]["content"].rsplit(" ", 1)[0][len(INSTRUCTION) + 1:] + " different.", t12[2]["content"]),
        ("near", 12))
    add(chat(sentence(rng), sentence(rng)))
    # same prompt: training line 20's question, an unrelated answer
    t20 = train[19]["messages"]
    add(chat(t20[1]["content"][len(INSTRUCTION) + 1:], sentence(rng)), ("same-prompt", 20))
    for _ in range(8):
        add(chat(sentence(rng), sentence(rng)))
    return write(tmp_path / "train.jsonl", train), write(tmp_path / "valid.jsonl", valid), expected, independent

"""Deterministic synthetic fine-tuning files for benchmarks: chat (with tools and Unicode) and completions."""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import orjson

WORDS = ["garden", "soil", "compost", "tulip", "bulb", "water", "lawn", "seed", "hedge", "rake", "spade", "hose",
         "order", "delivery", "refund", "price", "season", "frost", "bloom", "leaf", "root", "pot", "basil",
         "tomato", "café", "naïve", "jalapeño", "東京", "庭", "Ωmega", "über", "crème"]
TOOLS = [{"type": "function", "function": {
    "name": "get_order_status", "description": "Look up an order.",
    "parameters": {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]}}}]


def sentence(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def chat_record(rng: random.Random, index: int) -> dict[str, object]:
    messages: list[dict[str, object]] = [{"role": "system", "content": "You are a helpful garden assistant."}]
    for turn in range(rng.randint(1, 3)):
        messages.append({"role": "user", "content": f"#{index}.{turn} " + sentence(rng, 8, 40)})
        messages.append({"role": "assistant", "content": sentence(rng, 20, 120)})
    record: dict[str, object] = {"messages": messages}
    if index % 5 == 0:
        arguments = orjson.dumps({"order_id": f"GL-{index}"}).decode()
        call = {"id": f"call_{index}", "type": "function",
                "function": {"name": "get_order_status", "arguments": arguments}}
        messages.insert(1, {"role": "user", "content": f"Where is order GL-{index}?"})
        messages.insert(2, {"role": "assistant", "content": None, "tool_calls": [call]})
        messages.insert(3, {"role": "tool", "tool_call_id": f"call_{index}", "content": '{"status": "shipped"}'})
        record["tools"] = TOOLS
    return record


def completion_record(rng: random.Random, index: int) -> dict[str, object]:
    return {"prompt": f"#{index} " + sentence(rng, 10, 60) + "\n\n###\n\n", "completion": " " + sentence(rng, 5, 80)}


def write(path: Path, kind: str, size_bytes: int, seed: int = 1) -> Path:
    """Write records until the file reaches ``size_bytes``; the same arguments give the same bytes."""
    rng = random.Random(seed)
    make = chat_record if kind == "chat" else completion_record
    written = 0
    index = 0
    with path.open("wb") as out:
        while written < size_bytes:
            line = orjson.dumps(make(rng, index)) + b"\n"
            out.write(line)
            written += len(line)
            index += 1
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--kind", choices=["chat", "completion"], default="chat")
    parser.add_argument("--mb", type=float, default=100)
    args = parser.parse_args()
    write(args.path, args.kind, int(args.mb * 1_000_000))


if __name__ == "__main__":
    main()

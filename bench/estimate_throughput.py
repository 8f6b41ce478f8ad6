"""Throughput of ftprep's token counting on a synthetic chat file, next to tiktoken's own encoder.

Usage: python bench/estimate_throughput.py [--mb 100] [--model gpt-4o-mini] [--keep PATH]

Prints MB/s (file bytes per second) for:
  1. ``ftprep.estimation.estimate``: the full pass (read, strict parse, format detection, record checks
     dispatch, token accounting, statistics);
  2. the count path alone, one process: orjson.loads + TokenCollector (each record walked and its texts
     encoded one by one with encode_ordinary as they are met; lengths of repeated texts cached);
  3. tiktoken ``encode_ordinary_batch`` over exactly the message strings (the ceiling: no JSON, no
     accounting), and tiktoken ``encode_ordinary`` one string at a time, single thread.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
from pathlib import Path

import orjson

from ftprep.data.models import resolve_model
from ftprep.estimation import estimate
from ftprep.tokens.encoding import get_encoding
from ftprep.tokens.stats import TokenCollector

SYLLABLES = ["ka", "lo", "mi", "ne", "tor", "sha", "vel", "qu", "in", "ar", "est", "on", "ri", "pa", "zu", "ment"]


def _words(rng: random.Random, n: int) -> str:
    words = []
    for _ in range(n):
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4)))
        words.append(word + rng.choice(["", "", "", ",", ".", "?"]))
    return " ".join(words)


def write_synthetic(path: Path, megabytes: float, seed: int = 0) -> int:
    """Write a chat JSONL file of about ``megabytes`` MB; returns its size in bytes."""
    rng = random.Random(seed)
    target = int(megabytes * 1_000_000)
    size = 0
    with path.open("wb") as handle:
        while size < target:
            turns = rng.randint(1, 4)
            messages = [{"role": "system", "content": _words(rng, rng.randint(5, 40))}]
            for _ in range(turns):
                messages.append({"role": "user", "content": _words(rng, rng.randint(10, 300))})
                messages.append({"role": "assistant", "content": _words(rng, rng.randint(10, 400))})
            line = orjson.dumps({"messages": messages}) + b"\n"
            handle.write(line)
            size += len(line)
    return size


def _rate(size: int, seconds: float) -> str:
    return f"{size / 1e6 / seconds:8.1f} MB/s  ({seconds:6.2f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--model", default="gpt-4o-mini")
    parser.add_argument("--keep", type=Path, help="write the synthetic file here and keep it")
    args = parser.parse_args()

    model = resolve_model(args.model)
    enc = get_encoding(model.encoding)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.keep or Path(tmp) / "synthetic.jsonl"
        size = write_synthetic(path, args.mb)
        print(f"file: {size / 1e6:.1f} MB, model {model.name} ({model.encoding}), {os.cpu_count()} CPUs")

        start = time.perf_counter()
        result = estimate(str(path), model=args.model)
        full = time.perf_counter() - start

        start = time.perf_counter()
        collector = TokenCollector(enc, model)
        with path.open("rb") as handle:
            for lineno, line in enumerate(handle, 1):
                collector.observe(lineno, "chat", orjson.loads(line), line)
        collector.finish()
        count_path = time.perf_counter() - start
        assert collector.total_tokens == result.total_tokens

        texts = [m["content"] for line in path.open("rb") for m in orjson.loads(line)["messages"]]
        start = time.perf_counter()
        batch_tokens = sum(len(ids) for ids in enc.encode_ordinary_batch(texts))
        batch = time.perf_counter() - start
        start = time.perf_counter()
        single_tokens = sum(len(enc.encode_ordinary(t)) for t in texts)
        single = time.perf_counter() - start
        assert batch_tokens == single_tokens

    print(f"examples {result.examples:,}; total tokens {result.total_tokens:,} "
          f"(message text alone: {batch_tokens:,})")
    print(f"ftprep estimate (full pass)          {_rate(size, full)}")
    print(f"ftprep count path (parse + collect)  {_rate(size, count_path)}")
    print(f"tiktoken encode_ordinary_batch       {_rate(size, batch)}   <- ceiling, strings pre-extracted")
    print(f"tiktoken encode_ordinary, 1 thread   {_rate(size, single)}")
    print(f"ratio full pass / batch ceiling: {batch / full:.2f}; count path / ceiling: {batch / count_path:.2f}")


if __name__ == "__main__":
    main()

"""What the within-file duplicate step and the token-limit test cost `check`, in one process.

    python bench/steps.py bench/out/real_100mb.jsonl bench/out/multilingual_100mb.jsonl --repeat 2

For each file, ``check_files`` runs pinned to one CPU (so in one process, no workers) four ways in
alternating rounds: with every default rule, without the duplicate rules (FT502, FT524-FT527: the prompt key
of every record in the pass and the second step over the lines sharing one), without the token-limit test
(FT400: the line's byte pre-test, then, for the lines it cannot rule out, a bound by their texts' bytes,
and tokenizing, which builds the tokenizer, only where that bound is over the limit), and without both.
The best time of each is printed with the differences; the count of lines the pre-test cannot rule out
(longer than 32 KB, or holding an image, for gpt-4o-mini's 65,536 tokens) is printed too.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from ftprep.check import check_files  # noqa: E402

DUPLICATES = ["FT502", "FT524", "FT525", "FT526", "FT527"]
TOKEN_LIMIT = ["FT400"]
WAYS = {"every rule": [], "no duplicate rules": DUPLICATES, "no token limit": TOKEN_LIMIT,
        "neither": DUPLICATES + TOKEN_LIMIT}


def unruled(path: Path, limit: int = 65_536) -> tuple[int, int]:
    """Lines (and their bytes) the token-limit pre-test cannot rule out by their length alone, or that may
    hold an image (the test bounds those by their texts' bytes and images, and tokenizes the rest)."""
    count = size = 0
    with path.open("rb") as handle:
        for line in handle:
            if len(line) * 2 + 16 > limit or b"image_url" in line:
                count += 1
                size += len(line)
    return count, size


def measure(path: Path, repeat: int) -> dict[str, float]:
    """Best time of each way over ``repeat`` alternating rounds."""
    times: dict[str, list[float]] = {way: [] for way in WAYS}
    for _ in range(repeat):
        for way, ignore in WAYS.items():
            start = time.perf_counter()
            check_files([str(path)], ignore=ignore)
            times[way].append(time.perf_counter() - start)
    return {way: min(spent) for way, spent in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", type=Path, nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one CPU: check_files uses one process
    for path in args.paths:
        count, size = unruled(path)
        print(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB; {count:,} lines ({size / 1e6:.1f} MB) not ruled "
              f"out by the token-limit pre-test", flush=True)
        best = measure(path, args.repeat)
        full = best["every rule"]
        for way, spent in best.items():
            print(f"  {way:<20} {spent:6.2f} s  ({full - spent:+.2f} s against every rule)", flush=True)


if __name__ == "__main__":
    main()

"""Peak memory and time of ``find_overlap`` on synthetic data (deterministic).

    .venv/bin/python bench/overlap_memory.py                 # 1,000,000 train x 100,000 validation
    .venv/bin/python bench/overlap_memory.py --small         # 100,000 x 10,000
    .venv/bin/python bench/overlap_memory.py --train 200000 --validation 20000 --no-near

Training rows are chat examples sharing a system prompt (a template) with a random 30-word question
(2,000-word vocabulary) and a 6-word answer; 1% of validation rows are exact copies of training rows,
1% case/punctuation variants, 1% near copies (one word changed) and 1% same question with another
answer. Files are written to a temporary folder and removed afterwards. Prints the leaks found, peak RSS
above the baseline measured before the comparison, and bytes per example.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from pathlib import Path

import orjson

from ftprep.overlap import OVERLAP_KINDS
from ftprep.overlap_pass import find_overlap

SYSTEM = "You are the support assistant of a hardware shop. Answer briefly and politely."
VOCAB = [f"{a}{b}{c}" for a in ("ka", "lo", "mi", "nu", "po", "ra", "si", "tu", "ve", "zo")
         for b in ("bar", "ced", "dun", "fil", "gop", "hek", "jin", "kul", "lom", "mar", "nip", "pol",
                   "qua", "rit", "sol", "tem", "urn", "vix", "wol", "yen")
         for c in ("", "s", "ed", "ing", "er", "ly", "al", "ful", "ion", "ist")]
QUESTION_WORDS = 30


def _row(question: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "system", "content": SYSTEM},
                                      {"role": "user", "content": question},
                                      {"role": "assistant", "content": answer}]})


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(VOCAB) for _ in range(n))


def generate(folder: Path, n_train: int, n_valid: int, seed: int = 7) -> tuple[Path, Path, int]:
    """Write the two files; return their paths and the number of planted leaks."""
    rng = random.Random(seed)
    train_path, valid_path = folder / "train.jsonl", folder / "valid.jsonl"
    planted: list[tuple[str, str]] = []
    with train_path.open("wb") as out:
        for i in range(n_train):
            question, answer = _words(rng, QUESTION_WORDS) + "?", _words(rng, 6) + "."
            if i % 100 == 0 and len(planted) < n_valid // 25:
                planted.append((question, answer))
            out.write(_row(question, answer) + b"\n")
    leaks = 0
    with valid_path.open("wb") as out:
        for i in range(n_valid):
            if i % 25 == 0 and planted:
                question, answer = planted[(i // 25) % len(planted)]
                variant = (i // 25) % 4
                if variant == 1:
                    question, answer = question.upper().replace("?", " ??"), answer.rstrip(".")
                elif variant == 2:
                    question = question.rsplit(" ", 1)[0] + " changed?"
                elif variant == 3:
                    answer = _words(rng, 6) + "."
                leaks += 1
                out.write(_row(question, answer) + b"\n")
            else:
                out.write(_row(_words(rng, QUESTION_WORDS) + "?", _words(rng, 6) + ".") + b"\n")
    return train_path, valid_path, leaks


def rss_mib() -> float:
    """Peak resident set size of this process so far, in MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mib() -> float:
    """Current resident set size in MiB (from /proc; falls back to the peak)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss_mib()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=1_000_000)
    parser.add_argument("--validation", type=int, default=100_000)
    parser.add_argument("--small", action="store_true", help="100,000 x 10,000")
    parser.add_argument("--no-near", action="store_true", help="exact, normalised and same-prompt only")
    args = parser.parse_args(argv)
    n_train, n_valid = (100_000, 10_000) if args.small else (args.train, args.validation)
    kinds = tuple(k for k in OVERLAP_KINDS if not (args.no_near and k == "near"))
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        train, valid, planted = generate(Path(tmp), n_train, n_valid)
        generated = time.perf_counter() - start
        size = train.stat().st_size + valid.stat().st_size
        baseline = current_rss_mib()
        start = time.perf_counter()
        report = find_overlap(train, valid, kinds=kinds)
        elapsed = time.perf_counter() - start
    peak = rss_mib()
    examples = n_train + n_valid
    print(f"examples: {n_train:,} train x {n_valid:,} validation ({size / 2**20:.0f} MiB of JSONL, "
          f"generated in {generated:.0f} s); kinds: {', '.join(kinds)}")
    print(f"planted leaks: {planted:,}; found: {len(report.pairs):,} {report.counts}")
    print(f"time: {elapsed:.1f} s ({elapsed / examples * 1e6:.0f} us per example, both passes included)")
    print(f"peak RSS: {peak:.0f} MiB; baseline before comparing: {baseline:.0f} MiB; "
          f"growth: {peak - baseline:.0f} MiB = {(peak - baseline) * 2**20 / examples:.0f} bytes per example")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Long texts are counted in pieces: exactly when cut at pretoken boundaries, in bounded time and memory."""

from __future__ import annotations

import itertools
import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.estimation import estimate
from ftprep.tokens import accounting
from ftprep.tokens.accounting import LONG_TEXT, PIECE, Accountant, long_text_len, pieces
from ftprep.tokens.encoding import get_encoding

ENCODINGS = [get_encoding("o200k_base"), get_encoding("cl100k_base")]
# Letters of several scripts and cases, digits, punctuation (with o200k's "/" and line breaks after it),
# contractions, combining marks and every kind of white space.
ATOMS = ["a", "Zb", "'s", "'S", "é", "\u0301", "中文", "。", "ʼ", "1", "23", "456", ".", "!", "-", "/", " /",
         "\n/", " ", "  ", "\t", "\n", "\n\n", " \n", "\r\n", "\r", "\x0b", "\x85", "\u00a0", "\u2028", "\u3000",
         "\x1c", "\u200b", "😀"]


def _count(enc: object, text: str, size: int) -> tuple[int, int]:
    total = forced = 0
    for start, end, cut in pieces(text, size):
        total += len(enc.encode_ordinary(text[start:end]))  # type: ignore[attr-defined]
        forced += cut
    return total, forced


@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=200), st.sampled_from([3, 4, 7, 16, 50]))
@settings(max_examples=600, deadline=None)
def test_pieces_cut_at_boundaries_count_exactly(atoms: list[str], size: int) -> None:
    text = "".join(atoms)
    for enc in ENCODINGS:
        total, forced = _count(enc, text, size)
        if not forced:
            assert total == len(enc.encode_ordinary(text)), (enc.name, text)


def test_pieces_cover_the_text_in_order() -> None:
    text = ("word " * 50_000) + "x" * 40_000
    spans = list(pieces(text))
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))
    assert all(0 < end - start <= PIECE for start, end, _ in spans)
    forced = [start for start, _, cut in spans if cut]
    assert forced and min(forced) >= len("word " * 50_000) - PIECE


def test_a_run_without_spaces_is_close_to_the_whole_count() -> None:
    enc = ENCODINGS[0]
    text = "".join(chr(0x61 + (i * 7919) % 26) for i in range(200_000))
    whole = len(enc.encode_ordinary(text))
    total, forced = long_text_len(enc.encode_ordinary, text)
    assert forced >= 200_000 // PIECE
    assert abs(total - whole) <= 2 * forced


def test_the_accountant_counts_long_texts_in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    accountant = Accountant(ENCODINGS[0])
    calls: list[int] = []
    encode = accountant._encode
    monkeypatch.setattr(accountant, "_encode", lambda text: calls.append(len(text)) or encode(text))
    text = "lorem ipsum " * 20_000
    record = {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]}
    tokens = accountant.count(record, "chat")
    assert max(calls) <= PIECE and len(text) > LONG_TEXT
    assert tokens.user == 3 + 1 + len(ENCODINGS[0].encode_ordinary(text))  # exact: cut at spaces
    assert accountant.forced_cuts == 0
    batch = accountant.count_many([(record, "chat")] * 2, num_threads=2)
    assert batch == [tokens, tokens]


def test_a_5_mb_run_of_one_letter_takes_little_memory() -> None:
    # A fresh process, so that its peak memory is this count's (tiktoken allocates outside Python's heap).
    script = """
import resource
from ftprep.tokens.accounting import Accountant, PIECE
from ftprep.tokens.encoding import get_encoding
accountant = Accountant(get_encoding("o200k_base"))
text = "a" * 5_000_000
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
accountant.count({"messages": [{"role": "assistant", "content": text}]}, "chat")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024, accountant.forced_cuts, PIECE)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True, timeout=120)
    grown_mb, cuts, piece = map(int, done.stdout.split())
    assert grown_mb < 40  # whole, the 5 MB run took 210 MB more
    assert cuts == 5_000_000 // piece


@pytest.mark.parametrize(("content", "noted"), [("a" * 70_000, True), ("word " * 14_000, False)])
def test_estimate_notes_counts_cut_inside_runs(tmp_path: Path, content: str, noted: bool) -> None:
    path = tmp_path / "train.jsonl"
    record = {"messages": [{"role": "user", "content": "Say it."}, {"role": "assistant", "content": content}]}
    path.write_bytes(orjson.dumps(record) + b"\n")
    notes = [n for n in estimate(str(path), model="gpt-4o-mini").notes if "counted in pieces" in n]
    assert bool(notes) is noted
    if noted:
        assert f"({70_000 // PIECE} cut(s))" in notes[0]


@pytest.mark.parametrize("model", ["gpt-4o-mini", "gpt-3.5-turbo"])
def test_estimate_counts_long_rows_alike_with_and_without_the_verdict(tmp_path: Path, model: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """With the verdict the token-limit rule counts long texts first, span by span, and the collector goes on
    from where it stopped: the counts, the cuts and the rows over the limit are those of the collector alone."""
    rows = [[{"role": "user", "content": "Summarise: " + "The clause applies. " * n},
             {"role": "assistant", "content": "a" * cut + " done"}] for n, cut in
            [(900, 0), (3_500, 0), (9_000, 0), (40_000, 0), (2_000, 70_000), (30_000, 40_000), (900, 0)]]
    # Under 65,536 characters but over 65,536 bytes: encoded whole by the collector, in spans by the rule.
    rows.append([{"role": "user", "content": "\u6771\u4eac\u306e\u6761\u9805\u3002 " * 5_000},
                 {"role": "assistant", "content": "ok"}])
    path = tmp_path / "train.jsonl"
    path.write_bytes(b"".join(orjson.dumps({"messages": messages}) + b"\n" for messages in rows * 2))
    results = []
    for verdict in (True, False):
        monkeypatch.setattr(accounting, "_LENGTH_CACHES", {})  # each count its own: the caches are per process
        results.append(estimate(str(path), model=model, verdict=verdict))
    checked, alone = results
    assert checked.verdict is not None and checked.verdict.warnings > 0  # FT400 and FT403 looked at the rows
    assert checked.files == alone.files
    assert [n for n in checked.notes if "cut(s)" in n] == [n for n in alone.notes if "cut(s)" in n] != []

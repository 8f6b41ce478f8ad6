"""Properties of split: a partition of the input, independent of input order, groups never straddle."""

from __future__ import annotations

import json
import tempfile
from collections import Counter
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ftprep.overlap.normalize import normalize_text
from ftprep.transform.split import split_file

PROMPTS = ["What is 2+2?", "what is 2+2", "Name a colour.", "Capital of Peru?", "Say hi.", "Define entropy."]
ANSWERS = ["4", "Blue.", "Lima.", "Hi!", "Disorder."]
SEPARATORS = [(",", ":"), (", ", ": ")]


@st.composite
def records(draw: st.DrawFn) -> bytes:
    """A chat line from a small vocabulary (so duplicates and shared prompts are common), in one of two
    JSON spellings (so equal records can differ in bytes)."""
    record = {"messages": [{"role": "user", "content": draw(st.sampled_from(PROMPTS))},
                           {"role": "assistant", "content": draw(st.sampled_from(ANSWERS))}]}
    return json.dumps(record, separators=draw(st.sampled_from(SEPARATORS))).encode()


datasets = st.lists(records(), min_size=4, max_size=40)
GROUPINGS = st.sampled_from(["exact", "normalized", "prompt"])
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _split(lines: list[bytes], group_by: str, seed: int) -> tuple[list[bytes], list[bytes]]:
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "data.jsonl"
        source.write_bytes(b"".join(line + b"\n" for line in lines))
        split_file(source, valid_ratio=0.3, group_by=group_by, seed=seed)
        return ((Path(folder) / "data.train.jsonl").read_bytes().splitlines(),
                (Path(folder) / "data.valid.jsonl").read_bytes().splitlines())


def _key(line: bytes, group_by: str) -> object:
    messages = json.loads(line)["messages"]
    if group_by == "exact":
        return json.dumps(messages)
    if group_by == "normalized":
        return tuple(normalize_text(m["content"]) for m in messages)
    return normalize_text(messages[0]["content"])


@SETTINGS
@given(lines=datasets, group_by=GROUPINGS, seed=st.integers(0, 2**32))
def test_outputs_are_a_partition_of_the_input(lines: list[bytes], group_by: str, seed: int) -> None:
    train, valid = _split(lines, group_by, seed)
    assert Counter(train) + Counter(valid) == Counter(lines)


@SETTINGS
@given(lines=datasets, group_by=GROUPINGS, seed=st.integers(0, 2**32), data=st.data())
def test_membership_does_not_depend_on_input_order(lines: list[bytes], group_by: str, seed: int,
                                                   data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(lines))
    _, valid = _split(lines, group_by, seed)
    _, valid_shuffled = _split(shuffled, group_by, seed)
    assert Counter(valid) == Counter(valid_shuffled)


@SETTINGS
@given(lines=datasets, group_by=GROUPINGS, seed=st.integers(0, 2**32))
def test_groups_never_straddle(lines: list[bytes], group_by: str, seed: int) -> None:
    train, valid = _split(lines, group_by, seed)
    assert {_key(line, group_by) for line in train}.isdisjoint({_key(line, group_by) for line in valid})

"""Repeated digests are found the same way with plain Python (small files) and with numpy (large ones)."""

from __future__ import annotations

from array import array

from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.engine import repeated_lines
from ftprep.overlap.compare import PromptKeys

_DIGESTS = st.lists(st.integers(0, 5), max_size=60)


@settings(max_examples=200, deadline=None)
@given(_DIGESTS)
def test_repeated_lines_agree_between_python_and_numpy(values: list[int]) -> None:
    digests, lines = array("Q", values), array("I", range(3, 3 + 2 * len(values), 2))
    python = repeated_lines(digests, lines)
    assert python == repeated_lines(digests, lines, small=0)
    expected = [(line, lines[values.index(v)]) for v, line in zip(values, lines, strict=True)
                if values.index(v) != list(lines).index(line)]
    assert python == expected


@settings(max_examples=200, deadline=None)
@given(_DIGESTS)
def test_shared_prompt_lines_agree_between_python_and_numpy(values: list[int]) -> None:
    keys = PromptKeys()
    for line, value in enumerate(values, 1):
        keys._lines.append(line)
        keys._keys.append(value)
    python = keys.shared_lines()
    assert python == keys.shared_lines(small=0)
    assert python == [line for line, v in enumerate(values, 1) if values.count(v) > 1]

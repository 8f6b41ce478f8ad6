"""The facts the shape check's walk keeps equal those of a walk of their own, for any chat record."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.engine import all_codes
from ftprep.lint.context import RecordContext
from ftprep.rules.facts import _scan, chat_facts
from ftprep.rules.schema import check_chat_shape

_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-1, 2), st.sampled_from(["", " ", "hi", "assistant"]),
                    st.lists(st.dictionaries(st.sampled_from(["type", "text", "image_url"]), st.text(max_size=3)),
                             max_size=2))
_MESSAGES = st.one_of(
    st.dictionaries(st.sampled_from(["role", "content", "weight", "tool_calls", "function_call", "name"]), _VALUES,
                    max_size=4),
    st.fixed_dictionaries({"role": st.sampled_from(["system", "user", "assistant", "tool", "developer", "x"]),
                           "content": st.sampled_from(["Hi.", "", "  ", None])}),
    _VALUES,
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_MESSAGES, max_size=5), st.sets(st.sampled_from(["tools", "functions", "parallel_tool_calls"])),
       st.sampled_from(["supervised", "reinforcement"]))
def test_facts_of_the_shape_walk_equal_a_scan(messages: list[Any], top: set[str], method: str) -> None:
    record: dict[str, Any] = {"messages": messages, **{key: [] for key in top}}
    ctx = RecordContext(path="x", enabled=all_codes(), method=method)
    check_chat_shape(record, ctx)
    assert chat_facts(record, ctx) == _scan(record)

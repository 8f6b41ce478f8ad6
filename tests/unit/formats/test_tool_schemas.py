"""Tool parameter schemas are compiled once per distinct schema, not once per row."""

from __future__ import annotations

from ftprep.check import check_files
from ftprep.rules.tools import compile_schema
from tests.conftest import SAMPLES, TODAY


def test_repeated_tool_definitions_compile_once() -> None:
    compile_schema.cache_clear()
    result = check_files([str(SAMPLES / "tools_valid.jsonl")], today=TODAY)
    assert result.findings == []
    info = compile_schema.cache_info()
    # 12 rows x 4 tools: 4 distinct schemas compiled, the other 44 definitions are cache hits.
    assert (info.misses, info.hits) == (4, 44)

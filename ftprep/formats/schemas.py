"""JSON Schemas of the record formats, generated from the pydantic models.

``python -m ftprep.formats.schemas [DIR]`` writes them (default ``schemas/``); a test fails when the
committed files drift from the models.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import orjson
from pydantic import BaseModel

from ftprep.formats.chat import ChatRecord
from ftprep.formats.completion import CompletionRecord

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def record_models() -> dict[str, type[BaseModel]]:
    """File stem -> model of every record format."""
    models: dict[str, type[BaseModel]] = {"chat": ChatRecord, "completion": CompletionRecord}
    try:
        from ftprep.formats.preference import PreferenceRecord
        from ftprep.formats.reinforcement import ReinforcementRecord
    except ImportError:
        return models
    models.update({"preference": PreferenceRecord, "reinforcement": ReinforcementRecord})
    return models


def generate(model: type[BaseModel]) -> dict[str, Any]:
    """The JSON Schema of one model, with the dialect declared."""
    return {"$schema": SCHEMA_DIALECT, **model.model_json_schema()}


def render(model: type[BaseModel]) -> bytes:
    """The schema file's bytes (stable: sorted keys, two-space indent, final newline)."""
    return orjson.dumps(generate(model), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def write_all(folder: Path) -> list[Path]:
    """Write ``<stem>.schema.json`` for every format into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for stem, model in record_models().items():
        path = folder / f"{stem}.schema.json"
        path.write_bytes(render(model))
        written.append(path)
    return written


if __name__ == "__main__":  # pragma: no cover
    for written_path in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "schemas")):
        print(written_path)

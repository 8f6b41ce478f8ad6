"""Every target-specific rule parameter, for every packaged target that states it: a failing and a passing file
built from the target's own value (so the cases follow the data: change a figure and they check the new one).

A parameter a target leaves unknown is skipped for that target; `test_rule_cases.py` holds hand-written cases,
including stand-in targets for limits too large to build a file for (3,000,000 examples, 50 GiB).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from ftprep.check import check_files
from ftprep.data.targets import Target, load_target, packaged_names
from ftprep.lint.finding import Finding

TODAY = dt.date(2026, 11, 24)
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8ISfHwMDAxMDAwMDAAAANBAEI"
       "fXHKZgAAAABJRU5ErkJggg==")
ROLES = ("system", "user", "assistant", "tool", "function", "developer")


def chat(*turns: dict[str, Any], **top: Any) -> dict[str, Any]:
    """A chat record; a plain user/assistant exchange when no turn is given."""
    messages = list(turns) or [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    return {"messages": messages, **top}


def images(count: int, url: str = PNG) -> dict[str, Any]:
    """A record whose user message holds ``count`` images."""
    parts = [{"type": "text", "text": "What is this?"}] + [{"type": "image_url", "image_url": {"url": url}}] * count
    return chat({"role": "user", "content": parts}, {"role": "assistant", "content": "A red square."})


def dpo(*inputs: dict[str, Any], output_role: str = "assistant") -> dict[str, Any]:
    """A DPO record."""
    return {"input": {"messages": list(inputs) or [{"role": "user", "content": "Capital of France?"}]},
            "preferred_output": [{"role": output_role, "content": "Paris"}],
            "non_preferred_output": [{"role": output_role, "content": "Lyon"}]}


def model_for(target: Target, method: str, *, vision: bool = False, fmt: str = "chat") -> str | None:
    """A model of the target for this method (and images), or None."""
    for info in target.models.models.values():
        if method in info.methods and fmt in info.formats and (info.vision or not vision):
            return info.name
    return None


Case = tuple[str, list[dict[str, Any]] | bytes, dict[str, Any], str | None]  # id, records or bytes, options, code


def cases_for(target: Target) -> list[Case]:
    """(id, content, check options, expected error code or None for a pass) for every parameter the target
    states."""
    p = target.params
    sft = {"model": model_for(target, "supervised")}
    out: list[Case] = []
    line = orjson.dumps(chat())
    if target.fact("min_examples") is not None and p.min_examples:
        minimum = p.min_examples
        rows = [chat({"role": "user", "content": f"q{i}"}, {"role": "assistant", "content": f"a{i}"})
                for i in range(minimum)]
        if minimum > 1:
            out.append(("min_examples-fail", rows[:-1], {**sft, "min_examples": None}, "FT500"))
        out.append(("min_examples-pass", rows, {**sft, "min_examples": None}, None))
    if target.fact("bom") is not None:
        with_bom, without = b"\xef\xbb\xbf" + line + b"\n", line + b"\n"
        code_with = "FT002" if p.bom == "error" else None
        out.append(("bom-with", with_bom, sft, code_with))
        out.append(("bom-without", without, sft, "FT005" if p.bom == "expected" else None))
    vision = {"model": model_for(target, "supervised", vision=True)}
    if target.fact("max_images_per_example") is not None and vision["model"]:
        limit = p.max_images_per_example or 0
        out.append(("max_images-fail", [images(limit + 1)], vision, "FT341"))
        out.append(("max_images-pass", [images(limit)], vision, None))
    if target.fact("image_urls") is not None and vision["model"]:
        remote = images(1, "https://example.com/cat.png")
        out.append(("image_urls-remote", [remote], vision, "FT347" if p.image_urls == "data-only" else None))
        out.append(("image_urls-data", [images(1)], vision, None))
    if target.fact("sample_weight") is not None:
        if p.sample_weight:
            out.append(("sample_weight-pass", [chat(weight=0.5)], sft, None))
            out.append(("sample_weight-fail", [chat(weight="high")], sft, "FT211"))
        else:
            out.append(("sample_weight-unknown-key", [chat(weight=0.5)], sft, "FT209"))
            out.append(("sample_weight-absent", [chat()], sft, None))
    if target.fact("reasoning_keys") is not None:
        for key in sorted(p.reasoning_keys):
            user = {"role": "user", "content": "2+2?"}
            out.append((f"reasoning-{key}-pass", [chat(user, {"role": "assistant", "content": "4", key: "2+2=4"})],
                        sft, None))
            out.append((f"reasoning-{key}-fail", [chat(user, {"role": "assistant", "content": "4", key: [1]})],
                        sft, "FT214"))
    if target.fact("roles") is not None:
        if "developer" not in p.roles:
            out.append(("roles-developer", [chat({"role": "developer", "content": "Be brief."},
                                                 {"role": "user", "content": "Hi"},
                                                 {"role": "assistant", "content": "ok"})], sft, "FT203"))
        if "function" not in p.roles:
            call = {"role": "assistant", "content": None, "function_call": {"name": "f", "arguments": "{}"}}
            out.append(("roles-function", [chat({"role": "user", "content": "Hi"}, call,
                                                {"role": "function", "name": "f", "content": "x"},
                                                {"role": "assistant", "content": "ok"},
                                                functions=[{"name": "f", "parameters": {"type": "object"}}])],
                        sft, "FT203"))
        out.append(("roles-system", [chat({"role": "system", "content": "Be brief."},
                                          {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "ok"})],
                    sft, None))
    late_system = chat({"role": "user", "content": "Hi"}, {"role": "system", "content": "Be brief."},
                       {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "ok"})
    if target.fact("system_first") is not None:
        out.append(("system_first", [late_system], {**sft, "select": ["FT212"]},
                    "FT212" if p.system_first else None))
    if target.fact("alternating") is not None:
        twice = chat({"role": "user", "content": "Hi"}, {"role": "user", "content": "?"},
                     {"role": "assistant", "content": "ok"})
        out.append(("alternating-fail", [twice], sft, "FT213" if p.alternating else None))
        out.append(("alternating-pass", [chat()], sft, None))
    dpo_model = {"model": model_for(target, "dpo", fmt="preference"), "method": "dpo"}
    if target.fact("dpo_single_turn") is not None and dpo_model["model"]:
        multi = dpo({"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"},
                    {"role": "user", "content": "Capital of France?"})
        out.append(("dpo_single_turn", [multi], dpo_model, "FT255" if p.dpo_single_turn else None))
    if target.fact("dpo_output_roles") is not None and dpo_model["model"]:
        out.append(("dpo_output-assistant", [dpo()], dpo_model, None))
        out.append(("dpo_output-user", [dpo(output_role="user")], dpo_model, "FT251"))
    rft_model = {"model": model_for(target, "reinforcement"), "method": "reinforcement"}
    if target.fact("reinforcement_rows") is not None and rft_model["model"]:
        row = {"messages": [{"role": "user", "content": "2+2?"}], "reference_answer": "4"}
        expected = "FT263" if p.reinforcement_rows == "ground_truth" else None
        out.append(("reinforcement_rows-reference", [row], rft_model, expected))
        out.append(("reinforcement_rows-ground_truth", [{**row, "ground_truth": "4"}], rft_model, None))
    return out


PARAMS = [pytest.param(name, case, id=f"{name}-{case[0]}")
          for name in packaged_names() for case in cases_for(load_target(name))]


def _errors_and_notes(findings: list[Finding]) -> tuple[set[str], set[str]]:
    return ({f.code for f in findings if f.severity.value == "error"},
            {f.code for f in findings if f.severity.value != "error"})


@pytest.mark.parametrize(("name", "case"), PARAMS)
def test_target_parameter(name: str, case: Case, tmp_path: Path) -> None:
    _, content, options, expected = case
    path = tmp_path / "data.jsonl"
    path.write_bytes(content if isinstance(content, bytes)
                     else b"".join(orjson.dumps(record) + b"\n" for record in content))
    settings: dict[str, Any] = {"min_examples": 1, **options}
    result = check_files([str(path)], target=name, today=TODAY, **settings)
    errors, notes = _errors_and_notes(result.findings)
    if expected is None:
        assert errors == set(), result.findings
    elif expected == "FT005":
        assert expected in notes and errors == set(), result.findings
    else:
        assert errors == {expected}, result.findings


def test_every_packaged_target_has_parameter_cases() -> None:
    covered: dict[str, int] = {}
    for param in PARAMS:
        covered[param.values[0]] = covered.get(param.values[0], 0) + 1  # type: ignore[index]
    assert set(covered) == set(packaged_names()), covered
    # The hosted services state many parameters; the local `hf` target few (no service limits).
    assert min(n for name, n in covered.items() if load_target(name).in_all) >= 8, covered
    assert covered["hf"] >= 2, covered


def test_cases_follow_the_data() -> None:
    """The generator reads the target: a target that takes 2 images per example gets a 3-image failing case."""
    target = load_target("narrow", {"narrow": {"target": {"title": "t", "inherits": "openai",
                                                           "default_model": "gpt-4o-mini"},
                                               "params": {"max_images_per_example": {"value": 2}}}})
    case = next(c for c in cases_for(target) if c[0] == "max_images-fail")
    records = case[1]
    assert isinstance(records, list)
    parts = records[0]["messages"][0]["content"]
    assert sum(1 for part in parts if part["type"] == "image_url") == 3


_: Callable[..., Any] = cases_for

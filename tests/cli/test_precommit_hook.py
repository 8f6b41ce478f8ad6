"""The hooks in .pre-commit-hooks.yaml, run by pre-commit itself on a temporary git repository, offline.

pre-commit would normally build the hook's environment from the repository (a network install); the
test keeps everything else of each hook definition and runs its entry from this checkout's environment
(`language: system`), so what is tested is the manifest's files pattern, serial mode and entry.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml  # type: ignore[import-untyped]

from tests.conftest import REPO, SAMPLES

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.skipif(shutil.which("git") is None or not (BIN / "pre-commit").exists(),
                                reason="needs git and pre-commit")


def _hook(hook_id: str) -> dict[str, object]:
    manifest = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    hook = dict(next(h for h in manifest if h["id"] == hook_id))
    hook["language"] = "system"
    hook["entry"] = str(BIN / hook["entry"])  # type: ignore[operator]
    return hook


def _repo(tmp_path: Path, files: dict[str, bytes], hook_id: str = "ftprep-check") -> Path:
    repo = tmp_path / "dataset"
    repo.mkdir()
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull}
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True, env=env)
    config = {"repos": [{"repo": "local", "hooks": [_hook(hook_id)]}]}
    (repo / ".pre-commit-config.yaml").write_text(yaml.safe_dump(config))
    for name, data in files.items():
        (repo / name).write_bytes(data)
    subprocess.run(["git", "add", "-A"], cwd=repo, check=True, env=env)
    return repo


def _pre_commit(repo: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_CONFIG_GLOBAL": os.devnull,
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run([str(BIN / "pre-commit"), "run", "--all-files", "--color", "never"], cwd=repo,
                          capture_output=True, text=True, env=env)


def test_hook_passes_on_valid_files(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"train.jsonl": (SAMPLES / "chat_valid.jsonl").read_bytes(), "notes.txt": b"not checked"})
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ftprep check" in result.stdout and "Passed" in result.stdout


def test_hook_fails_with_findings_on_a_broken_file(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"train.jsonl": (SAMPLES / "chat_broken.jsonl").read_bytes()})
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 1
    assert "Failed" in result.stdout and "train.jsonl:2: FT204" in result.stdout


def test_hook_only_looks_at_jsonl_files(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"broken.json": b"{not json"})
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 0
    assert "no files to check" in result.stdout.lower()


def test_overlap_hook_checks_the_configured_pairs(tmp_path: Path) -> None:
    train = (SAMPLES / "chat_valid.jsonl").read_bytes()
    leaking = train.splitlines(keepends=True)[2]
    config = b'[tool.ftprep]\npairs = [{ train = "train.jsonl", validation = "valid.jsonl" }]\n'
    repo = _repo(tmp_path, {"train.jsonl": train, "valid.jsonl": leaking, "pyproject.toml": config},
                 hook_id="ftprep-overlap")
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "ftprep overlap" in result.stdout and "Failed" in result.stdout


def test_overlap_hook_passes_without_leaks(tmp_path: Path) -> None:
    lines = (SAMPLES / "chat_valid.jsonl").read_bytes().splitlines(keepends=True)
    config = b'[tool.ftprep]\npairs = [{ train = "train.jsonl", validation = "valid.jsonl" }]\n'
    repo = _repo(tmp_path, {"train.jsonl": b"".join(lines[:10]), "valid.jsonl": b"".join(lines[10:]),
                            "pyproject.toml": config}, hook_id="ftprep-overlap")
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

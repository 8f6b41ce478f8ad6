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


def _readme_snippet() -> dict[str, object]:
    text = (REPO / "README.md").read_text()
    section = text[text.index("### pre-commit"):]
    block = section[section.index("```yaml\n") + 8:]
    return yaml.safe_load(block[:block.index("```")])  # type: ignore[no-any-return]


def test_the_readme_snippet_names_a_revision_and_hooks_that_exist(tmp_path: Path) -> None:
    snippet = _readme_snippet()
    repo = snippet["repos"][0]  # type: ignore[index]
    manifest_ids = {hook["id"] for hook in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())}
    assert {hook["id"] for hook in repo["hooks"]} <= manifest_ids
    # The revision exists in this repository (a branch or tag; there were no tags when v0.1.0 was named).
    if not (REPO / ".git").exists():
        pytest.skip("not a git checkout")
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{repo['rev']}^{{commit}}"], cwd=REPO,
                           capture_output=True, text=True, check=False)
    assert found.returncode == 0, f"rev {repo['rev']!r} is not a commit of this repository"
    # pre-commit itself accepts the snippet as a configuration, once the repository's address is filled in.
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(yaml.safe_dump({"repos": [{**repo, "repo": str(REPO)}]}))
    valid = subprocess.run([str(BIN / "pre-commit"), "validate-config", str(config)], capture_output=True,
                           text=True, check=False)
    assert valid.returncode == 0, valid.stdout + valid.stderr


def test_overlap_hook_passes_without_configured_pairs(tmp_path: Path) -> None:
    repo = _repo(tmp_path, {"train.jsonl": (SAMPLES / "chat_valid.jsonl").read_bytes()}, hook_id="ftprep-overlap")
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ftprep overlap" in result.stdout and "Passed" in result.stdout


def test_overlap_hook_skips_a_commit_without_data_or_configuration(tmp_path: Path) -> None:
    train = (SAMPLES / "chat_valid.jsonl").read_bytes()
    config = b'[tool.ftprep]\npairs = [{ train = "data/train.jsonl", validation = "data/valid.jsonl" }]\n'
    repo = _repo(tmp_path, {"README.md": b"# data\n"}, hook_id="ftprep-overlap")
    (repo / "data").mkdir()
    (repo / "data" / "train.jsonl").write_bytes(train)
    (repo / "data" / "valid.jsonl").write_bytes(train.splitlines(keepends=True)[2])  # a leak
    (repo / "pyproject.toml").write_bytes(config)
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "cache"), "GIT_CONFIG_GLOBAL": os.devnull,
           "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = [str(BIN / "pre-commit"), "run", "--color", "never", "--files"]
    only_readme = subprocess.run([*run, "README.md"], cwd=repo, capture_output=True, text=True, env=env)
    assert only_readme.returncode == 0 and "no files to check" in only_readme.stdout.lower(), only_readme.stdout
    with_data = subprocess.run([*run, "data/valid.jsonl"], cwd=repo, capture_output=True, text=True, env=env)
    assert with_data.returncode == 1 and "Failed" in with_data.stdout, with_data.stdout


def test_check_hook_holds_a_configured_validation_file_to_one_example(tmp_path: Path) -> None:
    lines = (SAMPLES / "chat_valid.jsonl").read_bytes().splitlines(keepends=True)
    config = b'[tool.ftprep]\npairs = [{ train = "train.jsonl", validation = "valid.jsonl" }]\n'
    repo = _repo(tmp_path, {"train.jsonl": b"".join(lines[:10]), "valid.jsonl": b"".join(lines[10:12]),
                            "pyproject.toml": config})
    result = _pre_commit(repo, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr

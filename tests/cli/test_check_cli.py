"""``ftprep check`` from the command line: exit codes, selection, formats, stdin, configuration."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from ftprep.cli import main
from tests.conftest import REPO, SAMPLES, valid_chat_lines


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(SAMPLES / "chat_valid.jsonl")], capsys)
    assert code == 0
    assert "0 errors" in out


def test_errors_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(SAMPLES / "chat_broken.jsonl")], capsys)
    assert code == 1
    assert "FT204" in out


def test_exit_zero_reports_but_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", str(SAMPLES / "chat_broken.jsonl"), "--exit-zero"], capsys)
    assert code == 0 and "FT204" in out


def test_missing_file_is_a_clear_message_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["check", str(tmp_path / "missing.jsonl")], capsys)
    assert code == 2
    assert err.strip() == f"ftprep: error: {tmp_path / 'missing.jsonl'}: no such file; check the path"
    assert "Traceback" not in out + err


def test_unknown_model_lists_known_ones_and_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", str(SAMPLES / "chat_valid.jsonl"), "--model", "gpt-9"], capsys)
    assert code == 2
    assert "unknown model 'gpt-9'" in err and "gpt-4o-mini" in err


def test_unknown_selector_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", str(SAMPLES / "chat_valid.jsonl"), "--select", "FT9"], capsys)
    assert code == 2 and "matches no rule" in err


def test_unknown_option_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, _ = run(["check", "--frobnicate", str(SAMPLES / "chat_valid.jsonl")], capsys)
    assert code == 2


def test_ignore_by_name_and_prefix(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", str(SAMPLES / "chat_broken.jsonl"), "-f", "json", "--ignore", "FT1,FT2", "--ignore", "blank-line"]
    _, out, _ = run(args, capsys)
    codes = {f["code"] for f in json.loads(out)["findings"]}
    assert codes and not any(c.startswith(("FT1", "FT2")) or c == "FT004" for c in codes)


def test_select_only_one_rule(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", str(SAMPLES / "chat_broken.jsonl"), "-f", "json", "--select", "FT204"], capsys)
    assert {f["code"] for f in json.loads(out)["findings"]} == {"FT204"}


def test_json_output_follows_the_contract(capsys: pytest.CaptureFixture[str]) -> None:
    _, out, _ = run(["check", str(SAMPLES / "chat_broken.jsonl"), "-f", "json"], capsys)
    data = json.loads(out)
    assert data["version"] == 1
    assert set(data["files"][0]) >= {"path", "format", "examples", "errors", "warnings"}
    for finding in data["findings"]:
        assert set(finding) == {"code", "name", "severity", "path", "line", "column", "pointer", "message", "fix"}
        assert finding["line"] is None or finding["line"] >= 1
    assert data["summary"]["errors"] == sum(1 for f in data["findings"] if f["severity"] == "error")


def test_stdin_dash(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    data = b"".join(line + b"\n" for line in valid_chat_lines(10))
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = run(["check", "-"], capsys)
    assert code == 0 and "<stdin>: ok" in out


def test_config_file_sets_model_and_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str],
                                            write_lines: Callable[..., Path]) -> None:
    path = write_lines([b'{"prompt": "p%d", "completion": " c"}' % i for i in range(10)])
    (tmp_path / "pyproject.toml").write_text('[tool.ftprep]\nmodel = "davinci-002"\n')
    monkeypatch.chdir(tmp_path)
    code, _, _ = run(["check", str(path)], capsys)
    assert code == 0
    code, _, _ = run(["check", str(path), "--isolated"], capsys)
    assert code == 1  # completions with the default chat model


def test_per_file_ignores(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "a.jsonl").write_bytes((SAMPLES / "chat_valid.jsonl").read_bytes() * 2)
    (tmp_path / "ftprep.toml").write_text('per-file-ignores = { "legacy/*.jsonl" = ["duplicate-line"] }\n')
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check", "legacy/a.jsonl", "-f", "json"], capsys)
    assert code == 0 and json.loads(out)["findings"] == []


def test_unknown_config_key_exits_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "ftprep.toml").write_text('modle = "gpt-4o"\n')
    monkeypatch.chdir(tmp_path)
    code, _, err = run(["check", str(SAMPLES / "chat_valid.jsonl")], capsys)
    assert code == 2 and "modle: unknown key" in err


def test_rule_command_prints_documentation(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["rule", "unknown-message-key"], capsys)
    assert code == 0
    assert out.startswith("FT204 unknown-message-key (error)")
    for section in ("What it does", "Why it matters", "Example", "Fix"):
        assert section in out


def test_rule_all_documents_every_rule(capsys: pytest.CaptureFixture[str]) -> None:
    from ftprep.rules.catalog import all_rules

    _, out, _ = run(["rule", "--all"], capsys)
    assert all(f"{r.code} {r.name}" in out for r in all_rules())


def test_unknown_rule_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["rule", "FT999"], capsys)
    assert code == 2 and "unknown rule" in err


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    from ftprep.cli import cli

    names = cli.list_commands(click.Context(cli))
    assert {"check", "estimate", "upload", "jobs", "rule"} <= set(names)
    for name in names:
        code, out, _ = run([name, "--help"], capsys)
        assert code == 0 and "Usage:" in out, name


def test_python_dash_m_and_console_script_agree() -> None:
    args = ["check", str(SAMPLES / "chat_broken.jsonl"), "-f", "json"]
    via_module = subprocess.run([sys.executable, "-m", "ftprep", *args], capture_output=True, cwd=REPO)
    assert via_module.returncode == 1
    assert json.loads(via_module.stdout)["summary"]["errors"] > 0


def test_validation_leak_is_a_warning_and_an_error_with_strict_overlap(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], write_lines: Callable[..., Path]) -> None:
    train = write_lines(valid_chat_lines(12), "train.jsonl")
    valid = write_lines([valid_chat_lines(12)[3], b'{"messages": [{"role": "user", "content": "New?"}, '
                                                   b'{"role": "assistant", "content": "Yes."}]}'], "valid.jsonl")
    code, out, _ = run(["check", str(train), "--validation", str(valid), "-f", "json"], capsys)
    leaks = [f for f in json.loads(out)["findings"] if f["code"] == "FT520"]
    assert code == 0
    assert [(f["path"], f["line"], f["severity"]) for f in leaks] == [(str(valid), 1, "warning")]
    assert f"{train}:4" in leaks[0]["message"]
    code, out, _ = run(["check", str(train), "--validation", str(valid), "--strict-overlap", "-f", "json"], capsys)
    assert code == 1
    assert [f["severity"] for f in json.loads(out)["findings"] if f["code"] == "FT520"] == ["error"]


def test_validation_from_stdin_is_read_like_a_file(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # The overlap check reads the validation file twice: standard input is copied to a temporary file once.
    train = SAMPLES / "chat_valid.jsonl"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(train.read_bytes())))
    code, out, err = run(["check", str(train), "--validation", "-", "-f", "json", "--isolated"], capsys)
    report = json.loads(out)
    assert code == 0 and [f["path"] for f in report["files"]] == [str(train), "<stdin>"], err
    leaks = [f for f in report["findings"] if f["code"] == "FT520"]
    assert len(leaks) == 12 and {f["path"] for f in leaks} == {"<stdin>"}


def _warnings_only(tmp_path: Path) -> Path:
    path = tmp_path / "warned.jsonl"
    path.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                      {"role": "assistant", "content": " "}]})
                              for i in range(12)) + "\n")
    return path


def test_fail_on_warning_exits_1_on_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_warnings_only(tmp_path))
    assert run(["check", path], capsys)[0] == 0
    assert run(["check", path, "--fail-on", "warning"], capsys)[0] == 1
    assert run(["check", path, "--fail-on", "warning", "--exit-zero"], capsys)[0] == 0


def _many_errors(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(json.dumps({"messages": [{"role": "user", "content": f"q{i}"},
                                                      {"role": "assistant", "content": f"a{i}"}], "id": i})
                              for i in range(rows)) + "\n")
    return path


def test_text_lists_50_findings_by_default_and_says_how_many_were_left_out(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_many_errors(tmp_path, 300))
    code, out, _ = run(["check", path], capsys)
    assert code == 1
    assert sum(1 for line in out.splitlines() if line.startswith(f"  {path}:")) == 50
    assert "250 of 300 findings not shown (--max-findings 50)" in out
    _, out, _ = run(["check", path, "--max-findings", "0"], capsys)
    assert sum(1 for line in out.splitlines() if line.startswith(f"  {path}:")) == 300
    _, out, _ = run(["check", path, "--max-findings", "5"], capsys)
    assert "295 of 300 findings not shown (--max-findings 5)" in out


def test_json_lists_every_finding_unless_capped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_many_errors(tmp_path, 300))
    _, out, _ = run(["check", path, "-f", "json"], capsys)
    assert len(json.loads(out)["findings"]) == 300
    _, out, _ = run(["check", path, "-f", "json", "--max-findings", "20"], capsys)
    data = json.loads(out)
    assert len(data["findings"]) == 20 and data["summary"]["omitted"] == 280


def test_github_format_appends_the_step_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run(["check", str(_many_errors(tmp_path, 30)), "-f", "github"], capsys)
    assert code == 1
    assert sum(1 for line in out.splitlines() if line.startswith("::error ")) == 10
    written = summary.read_text()
    assert written.startswith("earlier step\n## ftprep check")
    assert "| FT209 | unknown-top-level-key | error | 30 |" in written


def test_github_format_without_the_variable_writes_no_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    monkeypatch.chdir(tmp_path)
    run(["check", str(_many_errors(tmp_path, 3)), "-f", "github"], capsys)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["many.jsonl"]


def test_sarif_caps_each_rule_at_100_unless_told(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = str(_many_errors(tmp_path, 150))
    _, out, _ = run(["check", path, "-f", "sarif"], capsys)
    run_log = json.loads(out)["runs"][0]
    assert len(run_log["results"]) == 100
    assert run_log["properties"] == {"findings": 150, "results": 100, "omitted": 50, "maxResultsPerRule": 100}
    _, out, _ = run(["check", path, "-f", "sarif", "--max-findings", "0"], capsys)
    assert len(json.loads(out)["runs"][0]["results"]) == 150

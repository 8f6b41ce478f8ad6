"""``ftprep split``, ``ftprep convert``, ``ftprep fix``: summaries, exit codes, and no partial files."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from ftprep.cli import main
from tests.conftest import REPO

PYTHON = REPO / ".venv" / "bin" / "python"


def chat(user: str, answer: str) -> bytes:
    return orjson.dumps({"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]})


def write(path: Path, lines: list[bytes]) -> Path:
    path.write_bytes(b"".join(line + b"\n" for line in lines))
    return path


def test_split_prints_a_summary_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat(f"q{i}", f"a{i}") for i in range(20)])
    assert main(["split", str(source), "--valid-count", "4"]) == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["20 input line(s)", f"  train: 16 -> {tmp_path / 'd.train.jsonl'}",
                                         f"  valid: 4 -> {tmp_path / 'd.valid.jsonl'}"]


def test_split_json_summary_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat(f"q{i % 5}", f"a{i}") for i in range(20)] + [b"oops"])
    assert main(["split", str(source), "--valid-ratio", "0.2", "--seed", "7", "-f", "json",
                 "--train-out", str(tmp_path / "t.jsonl"), "--valid-out", str(tmp_path / "v.jsonl")]) == 1
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["outputs"] == {"train": {"path": str(tmp_path / "t.jsonl"), "lines": 16},
                                  "valid": {"path": str(tmp_path / "v.jsonl"), "lines": 4}}
    assert summary["rejected"] == {"path": str(tmp_path / "d.rejects.jsonl"), "lines": 1, "reasons": {"FT101": 1}}
    assert summary["balanced"] is True
    assert summary["split"]["groups"] == 5


def test_split_output_passes_check_with_no_overlap_finding(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat(f"Question {i % 30}?", f"Answer {i}.") for i in range(90)])
    assert main(["split", str(source), "--valid-ratio", "0.2", "--group-by", "near", "-q"]) == 0
    capsys.readouterr()
    assert main(["check", str(tmp_path / "d.train.jsonl"), "--validation", str(tmp_path / "d.valid.jsonl"),
                 "-f", "json"]) == 0
    findings = orjson.loads(capsys.readouterr().out)["findings"]
    leaks = ("FT520", "FT521", "FT522", "FT523")  # within-file duplicates (FT524-FT527) may stay on one side
    assert [f["code"] for f in findings if f["code"] in leaks] == []


def test_existing_output_is_refused_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat(f"q{i}", f"a{i}") for i in range(10)])
    (tmp_path / "out.jsonl").write_bytes(b"keep\n")
    assert main(["fix", str(source), "-o", str(tmp_path / "out.jsonl")]) == 2
    assert "already exists; pass --force" in capsys.readouterr().err
    assert (tmp_path / "out.jsonl").read_bytes() == b"keep\n"


def test_output_equal_to_input_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat(f"q{i}", f"a{i}") for i in range(10)])
    assert main(["convert", str(source), str(source), "--to", "chat", "--force"]) == 2
    assert "is the input file" in capsys.readouterr().err


def test_convert_prints_the_detected_source(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "alpaca.json"
    source.write_bytes(orjson.dumps([{"instruction": f"i{n}", "input": "", "output": f"o{n}"} for n in range(3)]))
    assert main(["convert", str(source), str(tmp_path / "out.jsonl"), "--to", "chat"]) == 0
    err = capsys.readouterr().err
    assert err.splitlines()[0] == "ftprep: detected --from alpaca (json input)"
    assert "3 input row(s)" in err


def test_convert_with_field_map(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "qa.jsonl", [b'{ "question": "Who?", "answer": "Me." }'])
    assert main(["convert", str(source), str(tmp_path / "out.jsonl"), "--to", "chat",
                 "--map", "user=/question", "--map", "assistant=/answer", "--system", "Be brief.", "-q"]) == 0
    assert capsys.readouterr().err == ""
    assert orjson.loads((tmp_path / "out.jsonl").read_bytes()) == {"messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Who?"},
        {"role": "assistant", "content": "Me."}]}


def test_fix_reports_notes_and_rejects(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat("q", "a"), b"{bad"])
    assert main(["fix", str(source), "-o", str(tmp_path / "out.jsonl"), "-f", "json"]) == 1  # a line rejected
    summary = orjson.loads(capsys.readouterr().out)
    assert summary["rejected"]["reasons"] == {"FT101": 1}
    assert summary["notes"][0].startswith("FT500 too-few-examples")


def test_lines_set_aside_by_dedupe_do_not_fail_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "d.jsonl", [chat("q", "a"), chat("q", "a"), chat("r", "b")])
    assert main(["fix", str(source), "-o", str(tmp_path / "out.jsonl"), "--dedupe", "-q"]) == 0
    assert len((tmp_path / "out.jsonl").read_bytes().splitlines()) == 2
    assert main(["fix", str(source), "-o", str(tmp_path / "out2.jsonl"), "-q"]) == 0


def test_convert_exits_1_when_rows_are_rejected(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = write(tmp_path / "alpaca.jsonl", [orjson.dumps({"instruction": "Hi?", "output": "Hello."}),
                                               orjson.dumps({"instruction": "No answer?"}), b"{broken"])
    code = main(["convert", str(source), str(tmp_path / "out.jsonl"), "--to", "chat", "--from", "alpaca",
                 "-f", "json"])
    summary = orjson.loads(capsys.readouterr().out)
    assert (code, summary["rejected"]["lines"], summary["outputs"]["output"]["lines"]) == (1, 2, 1)


def test_every_command_has_help() -> None:
    for command in ("split", "convert", "fix"):
        assert main([command, "--help"]) == 0


def _big_alpaca(path: Path, rows: int) -> Path:
    row = {"instruction": "Explain the water cycle in simple words " * 3, "input": "", "output": "x" * 200}
    line = orjson.dumps(row)
    with path.open("wb") as out:
        for _ in range(rows):
            out.write(line + b"\n")
    return path


def _start_convert(source: Path, target: Path) -> subprocess.Popen[bytes]:
    """Start a conversion and return once it is writing its temp file."""
    command = [str(PYTHON), "-m", "ftprep", "convert", str(source), str(target), "--to", "chat"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=REPO)
    prefix = f".{target.name}.ftprep-tmp-"
    while process.poll() is None:
        temps = [p for p in target.parent.iterdir() if p.name.startswith(prefix)]
        if temps and temps[0].stat().st_size > 0:
            return process
        time.sleep(0.01)
    errors = process.stderr.read().decode() if process.stderr else ""
    pytest.fail(f"conversion ended before it was interrupted: {errors}")


def _leftovers(folder: Path, target: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(f".{target.name}") or p == target)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_interrupted_convert_leaves_no_output_and_no_temp_file(tmp_path: Path, signum: int) -> None:
    source = _big_alpaca(tmp_path / "big.jsonl", 200_000)
    target = tmp_path / "out.jsonl"
    process = _start_convert(source, target)
    process.send_signal(signum)
    assert process.wait() == 130
    assert _leftovers(tmp_path, target) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_killed_convert_leaves_no_output_and_the_next_run_removes_its_temp_file(tmp_path: Path) -> None:
    source = _big_alpaca(tmp_path / "big.jsonl", 200_000)
    target = tmp_path / "out.jsonl"
    process = _start_convert(source, target)
    process.kill()
    assert process.wait() == -signal.SIGKILL
    assert not target.exists()
    small = _big_alpaca(tmp_path / "small.jsonl", 3)
    assert main(["convert", str(small), str(target), "--to", "chat", "-q"]) == 0
    assert _leftovers(tmp_path, target) == ["out.jsonl"]
    assert len(target.read_bytes().splitlines()) == 3


def _folder(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    (data / "sub").mkdir(parents=True)
    rows = [chat(f"q{i}", f"a{i}") for i in range(12)]
    write(data / "a.jsonl", rows)
    (data / "sub" / "b.jsonl").write_bytes(b"\xef\xbb\xbf" + b"\r\n".join(rows) + b"\r\n")  # BOM and CRLF
    write(data / "sub" / "bad.jsonl", [*rows, b'{"messages": 3}'])
    return data


def test_fix_of_a_folder_writes_each_copy_beside_its_input(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = _folder(tmp_path)
    before = {p: p.read_bytes() for p in data.rglob("*.jsonl")}
    assert main(["fix", "data", "-f", "json", "--isolated"]) == 1  # bad.jsonl has a line for the rejects
    report = orjson.loads(capsys.readouterr().out)
    assert [f["input"] for f in report["files"]] == ["data/a.jsonl", "data/sub/b.jsonl", "data/sub/bad.jsonl"]
    assert [f["outputs"]["output"]["path"] for f in report["files"]] == [
        "data/a.fixed.jsonl", "data/sub/b.fixed.jsonl", "data/sub/bad.fixed.jsonl"]
    assert [f["rejected"]["lines"] for f in report["files"]] == [0, 0, 1]
    assert all(f["balanced"] for f in report["files"])
    assert all(p.read_bytes() == content for p, content in before.items())  # inputs untouched
    assert (data / "sub" / "b.fixed.jsonl").read_bytes() == (data / "a.jsonl").read_bytes()
    assert (data / "sub" / "bad.fixed.rejects.jsonl").exists()
    # Run again: the copies are not inputs (the same three files), and they exist: --force to overwrite.
    assert main(["fix", "data", "--isolated", "-q"]) == 2
    assert "data/a.fixed.jsonl: already exists" in capsys.readouterr().err
    assert main(["fix", "data", "--isolated", "-q", "--force", "-f", "json"]) == 1
    assert len(orjson.loads(capsys.readouterr().out)["files"]) == 3


def test_fix_into_an_output_folder_keeps_names_and_subfolders(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    data = _folder(tmp_path)
    (tmp_path / "ftprep.toml").write_text('exclude = ["*/bad.jsonl"]\n')
    assert main(["fix", "data", "--output-dir", "out", "-q"]) == 0
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in (tmp_path / "out").rglob("*")) == [
        "a.jsonl", "sub", "sub/b.jsonl"]
    assert (tmp_path / "out" / "sub" / "b.jsonl").read_bytes() == (data / "a.jsonl").read_bytes()
    # An output folder inside the input folder is never read as input.
    assert main(["fix", "data", "--output-dir", "data/fixed", "-q", "-f", "json"]) == 0
    assert [f["input"] for f in orjson.loads(capsys.readouterr().out)["files"]] == ["data/a.jsonl",
                                                                                    "data/sub/b.jsonl"]


@pytest.mark.parametrize(("args", "message"), [
    (["data", "-o", "x.jsonl"], "--output names one output: give one INPUT file"),
    (["data/a.jsonl", "-o", "x.jsonl", "--output-dir", "out"], "give --output (one file) or --output-dir"),
    (["data", "--rejects", "r.jsonl"], "--rejects goes with --output"),
    (["-"], "standard input (-) has no name to write beside"),
])
def test_fix_output_choices_that_cannot_work(args: list[str], message: str, tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _folder(tmp_path)
    assert main(["fix", *args, "--isolated"]) == 2
    assert message in capsys.readouterr().err

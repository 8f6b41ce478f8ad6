"""``ftprep estimate`` end to end: real files, real tokenizer, exact numbers."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
import pytest

from ftprep.cli import main

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
TOY = CORPUS / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"


def write_chat(path: Path, n: int) -> Path:
    lines = [orjson.dumps({"messages": [{"role": "user", "content": f"Question {i}?"},
                                        {"role": "assistant", "content": f"Answer {i}."}]}) for i in range(n)]
    path.write_bytes(b"\n".join(lines) + b"\n")
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    assert main(["estimate", *args, "--output-format", "json", "--quiet", "--isolated"]) == 0
    data: dict[str, object] = json.loads(capsys.readouterr().out)
    return data


@pytest.mark.corpus
@pytest.mark.skipif(not TOY.exists(), reason="corpus not present")
def test_toy_file_with_gpt_35_turbo_matches_cookbook(capsys: pytest.CaptureFixture[str]) -> None:
    data = run_json(capsys, str(TOY), "--model", "gpt-3.5-turbo")
    assert (data["examples"], data["total_tokens"], data["n_epochs"]) == (5, 8242, 20)
    assert data["trained_tokens"] == 164840
    assert data["cost_usd"] == pytest.approx(1.31872)
    assert data["price"] == {"value": 8.0, "unit": "usd_per_1m_tokens",
                             "source": "https://openai.com/api/pricing/", "as_of": "2026-11-24",
                             "note": "figure from issue 3; the official page could not be read offline"}


def test_json_fields_per_file_and_overall(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    valid = write_chat(tmp_path / "valid.jsonl", 4)
    data = run_json(capsys, str(train), "--validation", str(valid), "--model", "gpt-4o-mini")
    # each example: user 3+1+4 ("Question i?") + assistant 3+1+4 ("Answer i.") + 3
    assert (data["examples"], data["total_tokens"], data["billing_tokens"]) == (10, 190, 190)
    assert (data["n_epochs"], data["trained_tokens"]) == (10, 1900)
    assert data["cost_usd"] == pytest.approx(1900 / 1e6 * 3.0)
    files = data["files"]
    assert isinstance(files, list)
    assert [(f["role"], f["examples"], f["total_tokens"], f["trained_tokens"]) for f in files] == [
        ("train", 10, 190, 1900), ("validation", 4, 76, None)]
    assert "not document" in files[1]["note"]


def test_n_epochs_and_price_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    data = run_json(capsys, str(train), "--model", "gpt-4o-mini", "--n-epochs", "2", "--price", "gpt-4o-mini=10")
    assert (data["n_epochs"], data["trained_tokens"], data["cost_usd"]) == (2, 380, pytest.approx(0.0038))
    assert data["price"]["source"] == "--price"  # type: ignore[index]


def test_unknown_model_is_usage_error_listing_known(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    assert main(["estimate", str(train), "--model", "gpt-9", "--isolated"]) == 2
    assert "known models: babbage-002" in capsys.readouterr().err


def test_unknown_model_with_encoding_counts_without_price(tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    data = run_json(capsys, str(train), "--model", "gpt-9", "--encoding", "o200k_base")
    assert (data["total_tokens"], data["cost_usd"], data["limit"]) == (190, None, None)


def test_rft_on_o4_mini_says_hourly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "rft.jsonl"
    train.write_bytes(b"".join(orjson.dumps({"messages": [{"role": "user", "content": f"2+{i}?"}],
                                             "answer": str(2 + i)}) + b"\n" for i in range(10)))
    data = run_json(capsys, str(train), "--model", "o4-mini", "--method", "reinforcement")
    assert data["cost_usd"] is None
    assert any("billed per hour" in n for n in data["notes"])  # type: ignore[union-attr]


def test_bad_n_epochs_is_usage_error(tmp_path: Path) -> None:
    assert main(["estimate", str(write_chat(tmp_path / "t.jsonl", 10)), "--n-epochs", "0", "--isolated"]) == 2


def test_bad_price_is_usage_error(tmp_path: Path) -> None:
    assert main(["estimate", str(write_chat(tmp_path / "t.jsonl", 10)), "--price", "gpt-4o", "--isolated"]) == 2


def test_report_is_written_to_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    report = tmp_path / "estimate.md"
    assert main(["estimate", str(train), "-m", "gpt-4o-mini", "-f", "markdown", "--report", str(report),
                 "--quiet", "--isolated"]) == 0
    assert capsys.readouterr().out == ""
    text = report.read_text()
    assert text.startswith("### ftprep estimate: `gpt-4o-mini-2024-07-18` (o200k_base, supervised)")
    assert "| 10 (auto) | 1,900 |" in text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["estimate.md", "train.jsonl"]  # no temp file left
    umask = os.umask(0)
    os.umask(umask)
    assert report.stat().st_mode & 0o777 == 0o666 & ~umask  # as a plain open() would create it, not 0600


def test_report_over_input_is_refused(tmp_path: Path) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    before = train.read_bytes()
    assert main(["estimate", str(train), "--report", str(train), "--isolated"]) == 2
    assert train.read_bytes() == before


def test_text_output_has_table_cost_and_histogram(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    assert main(["estimate", str(train), "-m", "gpt-4o-mini", "--quiet", "--isolated"]) == 0
    out = capsys.readouterr().out
    assert "  tokens / example  mean 19.0  median 19.0  p5 19.0  p95 19.0  max 19\n" in out
    assert "  1,900 trained tokens = 10 epoch(s) (auto) x 190 billing tokens\n" in out
    assert "tokens per example (training file)\n  19-19 | " in out


def test_a_file_without_records_exits_1_and_prices_nothing(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert main(["estimate", str(empty), "-m", "gpt-4o-mini", "--isolated"]) == 1
    out, err = capsys.readouterr()
    assert "  estimated cost: nothing to price: the file holds no records\n" in out
    assert err.strip() == f"ftprep: error: {empty} holds no records: there is nothing to train on or price"


def test_errors_price_the_job_as_rejected(capsys: pytest.CaptureFixture[str]) -> None:
    broken = str(Path(__file__).resolve().parents[2] / "samples" / "chat_broken.jsonl")
    assert main(["estimate", broken, "-m", "gpt-4o-mini", "--quiet", "--isolated"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1].startswith("check: FAILS - 13 error(s) (FT209 x2, FT004 x1, ")
    assert " - would be rejected: 13 errors\n" in out
    data = run_json(capsys, broken, "-m", "gpt-4o-mini")
    verdict = data["verdict"]
    assert isinstance(verdict, dict)
    # 13 errors and 1 warning: the sample's duplicate line (FT502, a warning) is left to `ftprep check`
    assert (verdict["errors"], verdict["warnings"], verdict["passes"]) == (13, 1, False)
    assert verdict["by_rule"]["FT209"] == 2 and len(verdict["first"]) == 5


def test_a_valid_file_says_the_check_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 10)
    assert main(["estimate", str(train), "-m", "gpt-4o-mini", "--quiet", "--isolated"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[1] == "check: ok (0 warning(s))"
    assert "would be rejected" not in out
    data = run_json(capsys, str(train), "-m", "gpt-4o-mini")
    assert data["verdict"] == {"errors": 0, "warnings": 0, "by_rule": {}, "first": [], "passes": True}


def test_the_verdict_follows_the_configured_rule_selection(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 5)  # FT500: too few examples
    config = tmp_path / "ftprep.toml"
    config.write_text('ignore = ["FT500"]\n')
    assert main(["estimate", str(train), "-m", "gpt-4o-mini", "-f", "json", "--quiet", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"]["passes"] is True
    data = run_json(capsys, str(train), "-m", "gpt-4o-mini")
    assert data["verdict"]["by_rule"] == {"FT500": 1}  # type: ignore[index]


def test_html_report_has_verdict_limit_line_version_and_time(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    from ftprep import __version__

    broken = str(Path(__file__).resolve().parents[2] / "samples" / "chat_broken.jsonl")
    report = tmp_path / "estimate.html"
    assert main(["estimate", broken, "-m", "gpt-4o-mini", "-f", "html", "--report", str(report), "--quiet",
                 "--isolated"]) == 0
    page = report.read_text()
    assert '<p class="verdict fails">check: FAILS - 13 error(s)' in page
    assert f"<li>FT204 unknown-message-key: {broken}:2: unknown key" in page
    assert "(limit 65,536, far above the longest)" in page  # 19-token examples: no line at 65,536
    assert f"Made by ftprep {__version__} on " in page and " UTC.</footer>" in page
    assert "would be rejected: 13 errors" in page
    assert '<script src="https://cdn.plot.ly' not in page  # offline by default: plotly.js is inlined
    inline_size = len(page)
    assert main(["estimate", broken, "-m", "gpt-4o-mini", "-f", "html", "--plotly", "cdn", "--report",
                 str(report), "--quiet", "--isolated"]) == 0
    cdn_page = report.read_text()
    assert '<script charset="utf-8" src="https://cdn.plot.ly/' in cdn_page
    assert len(cdn_page) < inline_size / 10


def test_html_histogram_draws_the_limit_near_the_examples(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = tmp_path / "long.jsonl"
    train.write_bytes(b"".join(orjson.dumps({"messages": [{"role": "user", "content": "word " * (3000 * (i % 7 + 1))},
                                                          {"role": "assistant", "content": "ok"}]}) + b"\n"
                               for i in range(12)))
    report = tmp_path / "estimate.html"
    assert main(["estimate", str(train), "-m", "gpt-3.5-turbo", "-f", "html", "--report", str(report), "--quiet",
                 "--isolated"]) == 0
    page = report.read_text()
    assert '"text":"limit 16,385"' in page and '"x0":16385' in page and '"type":"line"' in page
    assert "far above the longest" not in page


def test_a_comparison_gives_each_target_its_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    train = write_chat(tmp_path / "train.jsonl", 5)  # OpenAI needs 10 examples, Together 1
    assert main(["estimate", str(train), "--target", "openai,together", "--quiet", "--isolated"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:3]}
    assert "  FAILS (1 error)  " in rows["openai"] and "  ok  " in rows["together"]


def test_a_folder_is_priced_one_job_per_file(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data" / "sub").mkdir(parents=True)
    write_chat(tmp_path / "data" / "a.jsonl", 12)
    write_chat(tmp_path / "data" / "sub" / "b.jsonl", 20)
    write_chat(tmp_path / "data" / "sub" / "skip.jsonl", 5)
    (tmp_path / "ftprep.toml").write_text('exclude = ["*/skip.jsonl"]\n')
    assert main(["estimate", "data", "-f", "json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["version"] == 1
    single = [run_json(capsys, str(tmp_path / "data" / name)) for name in ("a.jsonl", "sub/b.jsonl")]
    assert [e["examples"] for e in data["estimates"]] == [12, 20]
    assert [e["files"][0]["path"] for e in data["estimates"]] == ["data/a.jsonl", "data/sub/b.jsonl"]
    assert [e["total_tokens"] for e in data["estimates"]] == [e["total_tokens"] for e in single]
    # Text: one report per file, in the same order.
    assert main(["estimate", "data", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.index("train: data/a.jsonl") < out.index("train: data/sub/b.jsonl")
    assert out.count("ftprep estimate: ") == 2


def test_several_files_an_empty_one_exits_1_and_html_takes_one(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    full = write_chat(tmp_path / "full.jsonl", 12)
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert main(["estimate", str(full), str(empty), "--quiet", "--isolated"]) == 1
    assert capsys.readouterr().err.strip() == (f"ftprep: error: {empty} holds no records: there is nothing to train "
                                               "on or price")
    assert main(["estimate", str(tmp_path), "-f", "html", "--isolated"]) == 2
    assert "--output-format html shows one training file; 2 given" in capsys.readouterr().err
    assert main(["estimate", str(tmp_path), "-m", "gpt-4o-mini", "-m", "gpt-4.1-mini", "-f", "json",
                 "--isolated"]) == 2
    assert "a comparison shows one training file" in capsys.readouterr().err

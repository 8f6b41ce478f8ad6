"""``--target`` on check and estimate, the target matrix, ``ftprep targets``, and ``target`` in the configuration."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ftprep.cli import main
from tests.conftest import SAMPLES

CHAT = str(SAMPLES / "chat_valid.jsonl")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def write(path: Path, *records: dict[str, object]) -> str:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def exchange(user: str = "Hi", answer: str = "Hello", **top: object) -> dict[str, object]:
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}], **top}


def test_matrix_text_lists_every_target(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", CHAT, "--target", "all"], capsys)
    assert code == 0
    rows = {line.split()[0]: line.split()[2] for line in out.splitlines()[1:5]}
    assert rows == {"openai": "passes", "azure": "passes", "fireworks": "passes", "together": "passes"}
    assert "passes on 4 of 4 target(s)" in out


def test_matrix_json_has_a_targets_array(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    # A top-level sample weight: Together takes it, OpenAI and Azure do not.
    path = write(tmp_path / "w.jsonl", *(exchange(f"q{i}", weight=0.5) for i in range(12)))
    code, out, _ = run(["check", path, "--target", "all", "-f", "json"], capsys)
    assert code == 1
    data = json.loads(out)
    by_target = {row["target"]: row for row in data["targets"]}
    assert by_target["together"]["status"] == "passes"
    assert by_target["openai"]["status"] == "fails"
    assert by_target["openai"]["blocking"] == [{"code": "FT209", "name": "unknown-top-level-key", "count": 12}]
    assert data["summary"] == {"targets": 4, "passes": 2, "fails": 2, "skipped": 0}


def test_matrix_markdown_and_a_list_of_targets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", CHAT, "--target", "azure,together", "-f", "markdown"], capsys)
    assert code == 0
    assert out.splitlines()[0].startswith("| target | model |")
    assert [line.split("|")[1].strip() for line in out.splitlines()[2:]] == ["azure", "together"]


def test_matrix_skips_a_target_without_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", CHAT, "--target", "openai,together", "--model", "gpt-4.1", "-f", "json"], capsys)
    rows = {row["target"]: row for row in json.loads(out)["targets"]}
    assert rows["together"]["status"] == "skipped" and "does not offer 'gpt-4.1'" in rows["together"]["reason"]
    assert rows["openai"]["status"] == "passes" and code == 0


def test_single_target_names_it_in_json_and_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["check", CHAT, "--target", "azure", "-f", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["summary"]["target"] == "azure"
    assert data["summary"]["model"] == "gpt-4.1-mini-2025-04-14"
    assert [f["code"] for f in data["findings"]] == ["FT005"]  # Azure's docs ask for a BOM: a note
    code, out, _ = run(["check", CHAT, "--target", "together"], capsys)
    assert "target together" in out.splitlines()[-1]


def test_target_rules_differ(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    turns = [{"role": "user", "content": "Hi"}, {"role": "system", "content": "Be brief."},
             {"role": "assistant", "content": "Hello"}]
    path = write(tmp_path / "late_system.jsonl", *({"messages": turns} for _ in range(10)))
    assert run(["check", path, "--target", "openai"], capsys)[0] == 0
    code, out, _ = run(["check", path, "--target", "fireworks"], capsys)
    assert code == 1 and "FT212" in out


def test_unknown_target_and_matrix_only_format_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(["check", CHAT, "--target", "togther"], capsys)
    assert code == 2 and "did you mean 'together'" in err
    code, _, err = run(["check", CHAT, "-f", "markdown"], capsys)
    assert code == 2 and "--target all" in err
    code, _, err = run(["check", CHAT, "--target", "all", "-f", "sarif"], capsys)
    assert code == 2 and "sarif" in err


def test_target_from_configuration(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ftprep.toml").write_text('target = "together"\n'
                                          '[targets.together.params]\nmin_examples = { value = 20 }\n')
    path = write(tmp_path / "d.jsonl", *(exchange(f"q{i}") for i in range(12)))
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(["check", path, "-f", "json"], capsys)
    data = json.loads(out)
    assert data["summary"]["target"] == "together"
    assert code == 1 and [f["code"] for f in data["findings"]] == ["FT500"]


def test_targets_command_lists_sources(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["targets", "azure"], capsys)
    assert code == 0 and out.startswith("azure: Azure OpenAI")
    assert "max_images_per_example: 64  [https://github.com/MicrosoftDocs/azure-ai-docs/" in out
    assert "max_examples: unknown" in out
    code, out, _ = run(["targets", "-f", "json"], capsys)
    data = json.loads(out)
    assert [t["name"] for t in data["targets"]] == ["openai", "azure", "fireworks", "hf", "together"]
    azure = next(t for t in data["targets"] if t["name"] == "azure")
    assert azure["params"]["suffix_max_chars"]["value"] == 18 and azure["params"]["max_examples"] is None
    for target in data["targets"]:
        for fact in target["params"].values():
            assert fact is None or (fact["source"] and fact["as_of"]), target["name"]


def test_estimate_with_a_target_and_a_tier(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["estimate", CHAT, "--target", "azure", "--tier", "developer", "-f", "json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["target"] == "azure" and data["tier"] == "developer"
    assert data["price"]["value"] == 2.5
    assert data["cost_usd"] == pytest.approx(data["trained_tokens"] / 1e6 * 2.5)
    assert data["tier_costs"]["global"] == pytest.approx(data["trained_tokens"] / 1e6 * 5.0)
    code, _, err = run(["estimate", CHAT, "--target", "azure", "--tier", "premium"], capsys)
    assert code == 2 and "priced for" in err


def test_estimate_compares_targets_side_by_side(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["estimate", CHAT, "--target", "all", "-f", "json"], capsys)
    rows = {row["target"]: row for row in json.loads(out)["targets"]}
    assert code == 0 and set(rows) == {"openai", "azure", "fireworks", "together"}
    assert rows["openai"]["estimate"]["counting"] == "exact"
    together = rows["together"]["estimate"]  # Qwen3-8B: Qwen's own tokenizer, offline
    assert together["counting"] == "tokenizer" and together["cost_usd"] is None
    code, out, _ = run(["estimate", CHAT, "--target", "together", "-m", "google/gemma-3-27b-it", "-f", "json"], capsys)
    gemma = json.loads(out)
    assert gemma["counting"] == "estimate" and gemma["exact_tokens"] is False
    assert any("ESTIMATE" in note for note in gemma["notes"])
    code, out, _ = run(["estimate", CHAT, "-m", "gpt-4o-mini", "-m", "gpt-4.1"], capsys)
    lines = out.splitlines()
    assert code == 0 and "gpt-4o-mini-2024-07-18" in lines[1] and "gpt-4.1-2025-04-14" in lines[2]


@pytest.mark.parametrize(("model", "family"), [
    ("meta-llama/Llama-3.3-70B-Instruct-Reference", "llama3"),
    ("Qwen/Qwen3-8B", "qwen3"),
    ("mistralai/Mistral-7B-Instruct-v0.2", "mistral-spm-v1"),
    ("deepseek-ai/DeepSeek-R1-0528", "deepseek-v4"),
    ("openai/gpt-oss-20b", "gpt-oss"),
])
def test_together_models_count_with_their_own_tokenizer(model: str, family: str, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 15: the text's tokens are the model's own tokenizer's (offline); messages are framed by OpenAI's
    formula (3 per message + role + content, 3 per example)."""
    from ftprep.tokens.open_models import open_tokenizer

    user, answer = "Combien de kilomètres entre Paris et Lyon ? 🚄", "Environ 465 km par la route."
    path = write(tmp_path / "one.jsonl", exchange(user, answer))
    code, out, _ = run(["estimate", path, "--target", "together", "-m", model, "-f", "json"], capsys)
    data = json.loads(out)
    tokenizer = open_tokenizer(family)
    assert tokenizer.exact
    expected = 3 + sum(3 + tokenizer.count(role) + tokenizer.count(text)
                       for role, text in (("user", user), ("assistant", answer)))
    assert code == 0 and data["counting"] == "tokenizer" and data["total_tokens"] == expected

"""JobSpec: the job request validated locally, every problem at once, flags over file."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from ftprep.errors import ConfigError
from ftprep.upload.spec import (
    SCHEMA_PATH,
    JobSpec,
    SpecFlags,
    build_job_spec,
    job_request_schema,
    load_spec_file,
    parse_auto_or_number,
    parse_metadata_pairs,
    render_job_request_schema,
)


def problems(data: dict[str, object], flags: SpecFlags | None = None) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        build_job_spec(data, flags)
    return str(caught.value).splitlines()[1:]


def test_the_committed_schema_matches_jobspec() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render_job_request_schema(), (
        "schemas/job_request.schema.json is stale: run python -m ftprep.upload.spec"
    )


def test_the_schema_is_valid_draft_2020_12_and_rejects_what_jobspec_rejects() -> None:
    schema = job_request_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)

    assert list(validator.iter_errors({"model": "gpt-4o-mini", "suffix": "ok", "seed": 1})) == []
    assert not validator.is_valid({"model": "gpt-4o-mini", "suffix": "s" * 65})
    assert not validator.is_valid({"model": "gpt-4o-mini", "seed": 2_147_483_648})


@pytest.mark.parametrize(
    ("hyperparameters", "message"),
    [
        ({"n_epochs": 0}, "n_epochs: must be 'auto' or an integer from 1 to 50 (got 0)"),
        ({"n_epochs": 51}, "n_epochs: must be 'auto' or an integer from 1 to 50 (got 51)"),
        ({"n_epochs": 2.5}, "n_epochs: must be 'auto' or an integer from 1 to 50 (got 2.5)"),
        ({"n_epochs": True}, "n_epochs: must be 'auto' or an integer from 1 to 50 (got True)"),
        ({"batch_size": 257}, "batch_size: must be 'auto' or an integer from 1 to 256 (got 257)"),
        ({"learning_rate_multiplier": 0}, "learning_rate_multiplier: must be 'auto' or a number > 0 (got 0)"),
        ({"beta": 0}, "beta: must be 'auto' or a number in (0, 2] (got 0)"),
        ({"beta": 2.01}, "beta: must be 'auto' or a number in (0, 2] (got 2.01)"),
        ({"beta": "high"}, "beta: must be 'auto' or a number in (0, 2] (got 'high')"),
    ],
)
def test_dpo_hyperparameter_ranges(hyperparameters: dict[str, object], message: str) -> None:
    data = {"model": "gpt-4o-mini", "method": {"type": "dpo", "dpo": {"hyperparameters": hyperparameters}}}

    assert problems(data) == [f"  - method.dpo.hyperparameters.{message}"]


@pytest.mark.parametrize(
    "hyperparameters",
    [
        {"n_epochs": 1, "batch_size": 256, "learning_rate_multiplier": 1e-4, "beta": 2},
        {"n_epochs": "auto", "batch_size": "auto", "learning_rate_multiplier": "auto", "beta": "auto"},
        {"n_epochs": 50, "batch_size": 1, "beta": 0.001},
    ],
)
def test_dpo_hyperparameters_at_their_bounds_are_accepted(hyperparameters: dict[str, object]) -> None:
    data = {"model": "gpt-4o-mini", "method": {"type": "dpo", "dpo": {"hyperparameters": hyperparameters}}}

    spec = build_job_spec(data).spec

    assert spec.method is not None and spec.method.hyperparameters() == hyperparameters


def test_rft_hyperparameters_and_grader_are_sent_as_given() -> None:
    grader = {
        "type": "string_check",
        "name": "exact",
        "input": "{{sample.output_text}}",
        "reference": "{{item.answer}}",
        "operation": "eq",
    }
    hyper = {"reasoning_effort": "low", "compute_multiplier": 1.5, "eval_interval": 10, "eval_samples": "auto"}
    data = {
        "model": "o4-mini",
        "method": {"type": "reinforcement", "reinforcement": {"grader": grader, "hyperparameters": hyper}},
    }

    body = build_job_spec(data).spec.with_files("file-1", None).to_request()

    assert body["method"] == {"type": "reinforcement", "reinforcement": {"grader": grader, "hyperparameters": hyper}}


def test_rft_problems_are_named() -> None:
    data = {
        "model": "o4-mini",
        "method": {
            "type": "reinforcement",
            "reinforcement": {
                "grader": {"type": "vibes"},
                "hyperparameters": {"reasoning_effort": "extreme", "eval_samples": 0},
            },
        },
    }

    assert problems(data) == [
        "  - method.reinforcement.grader.type: Input should be 'string_check', 'text_similarity', 'python', "
        "'score_model' or 'multi'",
        "  - method.reinforcement.hyperparameters.reasoning_effort: Input should be 'default', 'low', 'medium' "
        "or 'high'",
        "  - method.reinforcement.hyperparameters.eval_samples: must be 'auto' or an integer >= 1 (got 0)",
    ]


def test_reinforcement_without_a_grader_is_refused() -> None:
    assert problems({"model": "o4-mini", "method": {"type": "reinforcement"}}) == [
        "  - method: method.type 'reinforcement' needs method.reinforcement.grader"
    ]


def test_a_block_of_another_method_type_is_refused() -> None:
    assert problems({"model": "m", "method": {"type": "supervised", "dpo": {}}}) == [
        "  - method: method.dpo is given but method.type is 'supervised'; remove the block or change the type"
    ]


def test_beta_on_a_supervised_job_is_an_unknown_field() -> None:
    assert problems({"model": "m"}, SpecFlags(beta=0.1)) == [
        "  - method.supervised.hyperparameters.beta: unknown field (not a parameter of fine_tuning.jobs.create); "
        "remove it or fix its spelling"
    ]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("suffix", "", "suffix: String should have at least 1 character"),
        ("suffix", "s" * 65, "suffix: String should have at most 64 characters"),
        ("seed", -1, "seed: Input should be greater than or equal to 0"),
        ("seed", 2_147_483_648, "seed: Input should be less than or equal to 2147483647"),
        ("seed", "7", "seed: Input should be a valid integer"),
        ("model", "", "model: String should have at least 1 character"),
    ],
)
def test_top_level_limits(field: str, value: object, message: str) -> None:
    assert problems({"model": "gpt-4o-mini", field: value}) == [f"  - {message}"]


def test_the_limits_themselves_are_accepted() -> None:
    spec = build_job_spec(
        {
            "model": "gpt-4o-mini",
            "suffix": "s" * 64,
            "seed": 2_147_483_647,
            "metadata": {f"k{i}": "v" * 512 for i in range(16)},
        }
    ).spec

    assert (len(spec.suffix or ""), spec.seed, len(spec.metadata or {})) == (64, 2_147_483_647, 16)


def test_metadata_limits() -> None:
    assert problems({"model": "m", "metadata": {f"k{i}": "v" for i in range(17)}}) == [
        "  - metadata: at most 16 key-value pairs (got 17)"
    ]
    assert problems({"model": "m", "metadata": {"k" * 65: "v", "ok": "v" * 513}}) == [
        f"  - metadata.{'k' * 65}: key: String should have at most 64 characters",
        "  - metadata.ok: String should have at most 512 characters",
    ]


def test_wandb_needs_a_project() -> None:
    assert problems({"model": "m"}, SpecFlags(wandb_name="run-1", wandb_tags=("a",))) == [
        "  - integrations[0].wandb.project: required"
    ]


def test_the_model_is_required() -> None:
    assert problems({}) == ["  - model: required"]


def test_every_problem_is_listed_at_once() -> None:
    lines = problems({"model": "", "suffix": "s" * 65, "seed": -1, "colour": "blue"})

    assert len(lines) == 4


def test_deprecated_hyperparameters_move_under_the_method_of_the_request() -> None:
    built = build_job_spec({"model": "gpt-4o-mini", "method": {"type": "dpo"}, "hyperparameters": {"n_epochs": 2}})

    assert built.spec.with_files("f", None).to_request() == {
        "model": "gpt-4o-mini",
        "training_file": "f",
        "method": {"type": "dpo", "dpo": {"hyperparameters": {"n_epochs": 2}}},
    }
    assert built.warnings == ("job spec: top-level hyperparameters are deprecated; sent as method.dpo.hyperparameters",)


def test_deprecated_and_method_hyperparameters_that_disagree_are_refused() -> None:
    data = {
        "model": "m",
        "hyperparameters": {"n_epochs": 2},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3}}},
    }

    assert problems(data) == [
        "  - hyperparameters.n_epochs=2 conflicts with method.supervised.hyperparameters.n_epochs=3; "
        "keep only the one under method"
    ]


def test_flags_override_the_file() -> None:
    data = {
        "model": "gpt-4o-mini",
        "suffix": "file",
        "metadata": {"a": "1"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": 4}}},
        "integrations": [{"type": "wandb", "wandb": {"project": "p", "entity": "team"}}],
    }
    flags = SpecFlags(suffix="flag", metadata={"b": "2"}, n_epochs=5, wandb_project="q")

    body = build_job_spec(data, flags).spec.with_files("f", None).to_request()

    assert body["suffix"] == "flag"
    assert body["metadata"] == {"a": "1", "b": "2"}
    assert body["method"]["supervised"]["hyperparameters"] == {"n_epochs": 5, "batch_size": 4}
    assert body["integrations"] == [{"type": "wandb", "wandb": {"project": "q", "entity": "team"}}]


def test_a_method_flag_of_another_type_replaces_the_file_block() -> None:
    data = {
        "model": "gpt-4o-mini",
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    }

    body = build_job_spec(data, SpecFlags(method="dpo", beta=0.2)).spec.with_files("f", None).to_request()

    assert body["method"] == {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}


def test_an_unknown_model_is_a_warning_not_an_error() -> None:
    built = build_job_spec({"model": "gpt-9-turbo"})

    assert built.model_known is False
    assert built.warnings == (
        "model 'gpt-9-turbo' is not in ftprep's model table: the check uses the default model's limits and the "
        "API decides whether it can be fine-tuned",
    )


def test_known_models_and_fine_tuned_models_give_no_warning() -> None:
    for model in ("gpt-4o-mini", "gpt-4.1-2025-04-14", "ft:gpt-4o-mini-2024-07-18:org::abc123"):
        built = build_job_spec({"model": model})
        assert (built.warnings, built.model_known) == ((), True)


def test_a_request_without_training_file_cannot_be_sent() -> None:
    with pytest.raises(ConfigError, match="no training_file"):
        JobSpec(model="gpt-4o-mini").to_request()


@pytest.mark.parametrize(
    ("text", "value"), [("auto", "auto"), ("AUTO", "auto"), ("3", 3), ("0.5", 0.5), ("1e-3", 0.001), ("x", "x")]
)
def test_flag_values_become_auto_or_numbers(text: str, value: object) -> None:
    assert parse_auto_or_number(text) == value


def test_metadata_pairs_split_at_the_first_equals_sign() -> None:
    assert parse_metadata_pairs(["a=1", "b=x=y", "c="]) == {"a": "1", "b": "x=y", "c": ""}
    with pytest.raises(ConfigError, match="is not KEY=VALUE"):
        parse_metadata_pairs(["nope"])


def test_spec_files_in_toml_and_json(tmp_path: Path) -> None:
    toml = tmp_path / "job.toml"
    toml.write_text('model = "gpt-4o-mini"\n[metadata]\nteam = "x"\n')
    js = tmp_path / "job.json"
    js.write_text(json.dumps({"model": "gpt-4o-mini", "metadata": {"team": "x"}}))

    assert load_spec_file(toml) == load_spec_file(js) == {"model": "gpt-4o-mini", "metadata": {"team": "x"}}


def test_spec_file_syntax_errors_name_the_file_and_position(tmp_path: Path) -> None:
    bad = tmp_path / "job.json"
    bad.write_text('{"model": "gpt-4o-mini",\n "suffix": }')

    with pytest.raises(ConfigError, match=r"job\.json: invalid JSON at line 2 column 12"):
        load_spec_file(bad)
    with pytest.raises(ConfigError, match=r"must be a \.toml or \.json file"):
        load_spec_file(tmp_path / "job.yaml")

"""The target loader (ftprep.data.targets): inheritance, the user's targets and overrides, clear errors."""

from __future__ import annotations

import pytest

from ftprep.data.targets import DEFAULT_TARGET, OPENAI_PARAMS, load_target, packaged_names, target_names
from ftprep.errors import ConfigError


def test_packaged_targets_start_with_the_default() -> None:
    assert packaged_names()[0] == DEFAULT_TARGET
    assert set(packaged_names()) == {"openai", "azure", "together", "fireworks", "hf"}


def test_openai_parameters_are_the_rules_defaults() -> None:
    """OpenAI's verdicts must not change: its target gives the rules what they used before targets existed."""
    params = load_target("openai").params
    for name in ("min_examples", "bom", "max_images_per_example", "image_urls", "sample_weight", "roles",
                 "dpo_output_roles", "reinforcement_rows"):
        assert getattr(params, name) == getattr(OPENAI_PARAMS, name), name


def test_azure_inherits_openai_and_states_what_differs() -> None:
    azure = load_target("azure")
    assert azure.inherits == "openai"
    assert azure.params.bom == "expected" and azure.params.max_images_per_example == 64
    assert azure.params.roles == load_target("openai").params.roles  # inherited, not restated
    assert azure.fact("roles").source == load_target("openai").fact("roles").source
    # Its own models, not OpenAI's: same names, other dates and prices per tier.
    model = azure.models.resolve("gpt-4.1-mini")
    assert model.job_creation_cutoff.date is not None and model.job_creation_cutoff.date.year == 2027
    assert set(model.prices) >= {"global", "standard", "developer"}
    assert "babbage-002" not in azure.models.names()


def test_unknown_numeric_limit_is_none() -> None:
    together = load_target("together")
    assert together.params.max_examples is None and together.fact("max_examples") is None


def test_user_target_inherits_a_packaged_one() -> None:
    user = {"strict": {"target": {"title": "Together, 5 images", "inherits": "together",
                                  "default_model": "Qwen/Qwen3-8B"},
                       "params": {"max_images_per_example": {"value": 5}}}}
    strict = load_target("strict", user)
    assert strict.params.max_images_per_example == 5 and strict.params.image_urls == "data-only"
    assert strict.user_defined and "strict" in target_names(user)


def test_user_overrides_a_packaged_target_and_adds_a_model() -> None:
    user = {"together": {"params": {"min_examples": {"value": 100, "source": "our contract"}},
                         "models": {"my-org/llama-ft": {"encoding": "llama3", "methods": ["supervised"]}}}}
    together = load_target("together", user)
    assert together.params.min_examples == 100 and together.fact("min_examples").source == "our contract"
    assert "my-org/llama-ft" in together.models.names() and "Qwen/Qwen3-8B" in together.models.names()


def test_user_models_are_added_to_every_target() -> None:
    target = load_target("azure", models={"my-base": {"encoding": "o200k_base"}})
    assert "my-base" in target.models.names()


def test_unknown_target_suggests_the_closest() -> None:
    with pytest.raises(ConfigError, match="unknown target 'azur'; did you mean 'azure'"):
        load_target("azur")


def test_invalid_parameter_names_the_target_and_key() -> None:
    with pytest.raises(ConfigError, match=r"target 'together': params\.bom\.value: Input should be"):
        load_target("together", {"together": {"params": {"bom": {"value": "sometimes"}}}})
    with pytest.raises(ConfigError, match=r"params\.max_emails: unknown key"):
        load_target("together", {"together": {"params": {"max_emails": {"value": 1}}}})


def test_inheritance_cycle_is_an_error() -> None:
    user = {"a": {"target": {"title": "a", "inherits": "b", "default_model": "x"}},
            "b": {"target": {"title": "b", "inherits": "a", "default_model": "x"}}}
    with pytest.raises(ConfigError, match="inherits itself"):
        load_target("a", user)


def test_bad_severity_and_default_model_are_errors() -> None:
    with pytest.raises(ConfigError, match="severity of 'FT002' is 'loud'"):
        load_target("azure", {"azure": {"severity": {"FT002": "loud"}}})
    with pytest.raises(ConfigError, match="default_model 'nope' is not one of its models"):
        load_target("azure", {"azure": {"target": {"default_model": "nope"}}})


def test_unknown_encoding_is_an_error() -> None:
    with pytest.raises(ConfigError, match=r"encoding: Input should be"):
        load_target("together", {"together": {"models": {"m": {"encoding": "sentencepiece-x"}}}})


def test_docs_table_is_generated_from_the_data() -> None:
    from ftprep.report.targets import params_table
    from tests.conftest import REPO

    assert params_table() in (REPO / "docs" / "targets.md").read_text(encoding="utf-8")

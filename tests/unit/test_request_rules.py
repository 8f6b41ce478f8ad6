"""Job requests against each target's request rules (suffix, training type, tokens x epochs, context length)."""

from __future__ import annotations

import pytest

from ftprep.data.targets import load_target
from ftprep.upload.request_rules import JobRequest, request_problems, training_type_value


@pytest.mark.parametrize(("target", "request_", "fails"), [
    ("azure", JobRequest(suffix="support-bot-v2"), False),
    ("azure", JobRequest(suffix="customer-support-bot"), True),       # 20 characters, Azure takes 18
    ("azure", JobRequest(suffix="bot.v2"), True),                     # a dot
    ("openai", JobRequest(suffix="bot.v2"), False),
    ("openai", JobRequest(suffix="x" * 65), True),                    # OpenAI takes 64
    ("azure", JobRequest(training_type="global"), False),
    ("azure", JobRequest(training_type="developerTier"), False),
    ("azure", JobRequest(training_type="premium"), True),
    ("openai", JobRequest(training_type="global"), True),             # OpenAI has no training types
    ("azure", JobRequest(trained_tokens=2_000_000_000), False),
    ("azure", JobRequest(trained_tokens=2_000_000_001), True),
    ("openai", JobRequest(trained_tokens=5_000_000_000), False),      # no documented budget
    ("fireworks", JobRequest(context_length=8192), False),
    ("fireworks", JobRequest(context_length=8200), True),
    ("together", JobRequest(context_length=8200), False),             # unknown: not checked
])
def test_request_rules(target: str, request_: JobRequest, fails: bool) -> None:
    assert bool(request_problems(load_target(target).params, request_)) is fails


def test_messages_name_the_rule_and_the_fix() -> None:
    problems = request_problems(load_target("fireworks").params, JobRequest(context_length=8200))
    assert problems == ["context length 8200 is not a multiple of 16, which fireworks requires: use 8192"]


def test_training_type_friendly_names_map_to_api_values() -> None:
    params = load_target("azure").params
    assert training_type_value(params, "Global") == "GlobalStandard"
    assert training_type_value(params, "developer") == "developerTier"
    assert training_type_value(params, "datazone") is None  # its API value is not documented

"""A job request against a target's rules: suffix, training tier, tokens x epochs, context length.

These are the request's parameters, not the file's, so they are checked where a request is built (``upload``)
rather than by ``check``; each problem is one sentence naming the value, the service's rule and the fix.
"""

from __future__ import annotations

from dataclasses import dataclass

from ftprep.data.targets import RuleParams

# Friendly names for Azure's training types (``--training-type``), mapped to the API values its docs send as
# ``extra_body={"trainingType": ...}``; a value the target lists may also be given as it is.
TRAINING_TYPE_ALIASES = {"standard": "Standard", "global": "GlobalStandard", "developer": "developerTier"}


@dataclass(frozen=True, slots=True)
class JobRequest:
    """The parts of a job request a target constrains (None: not given)."""

    suffix: str | None = None
    training_type: str | None = None
    trained_tokens: int | None = None
    context_length: int | None = None


def training_type_value(params: RuleParams, given: str) -> str | None:
    """The API value of a training type given by friendly name or as the API spells it, or None if unknown."""
    value = TRAINING_TYPE_ALIASES.get(given.lower(), given)
    return value if value in params.training_tiers else None


def request_problems(params: RuleParams, request: JobRequest) -> list[str]:
    """Every way ``request`` breaks the target's documented request rules (empty: none known)."""
    problems: list[str] = []
    name = params.name
    suffix = request.suffix
    if suffix is not None:
        if params.suffix_max_chars is not None and len(suffix) > params.suffix_max_chars:
            problems.append(f"suffix {suffix!r} has {len(suffix)} characters; {name} takes at most "
                            f"{params.suffix_max_chars}: shorten it")
        if params.suffix_no_dots and "." in suffix:
            problems.append(f"suffix {suffix!r} contains a dot, which {name} does not accept: use - or _")
    if request.training_type is not None:
        if not params.training_tiers:
            problems.append(f"{name} has no documented training types; drop --training-type")
        elif training_type_value(params, request.training_type) is None:
            known = ", ".join([*TRAINING_TYPE_ALIASES, *params.training_tiers])
            problems.append(f"training type {request.training_type!r} is not one of {name}'s: {known}")
    budget = params.max_token_epochs
    if budget is not None and request.trained_tokens is not None and request.trained_tokens > budget:
        problems.append(f"the job trains {request.trained_tokens:,} tokens (tokens x epochs); {name} takes at most "
                        f"{budget:,} per job: lower the epochs or split the data")
    multiple = params.context_length_multiple
    if multiple is not None and request.context_length is not None and request.context_length % multiple:
        lower = request.context_length - request.context_length % multiple
        problems.append(f"context length {request.context_length} is not a multiple of {multiple}, which {name} "
                        f"requires: use {lower}")
    return problems

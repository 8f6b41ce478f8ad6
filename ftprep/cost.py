"""Epochs, trained tokens and cost: pure functions of token statistics and the model table (no I/O).

trained_tokens = n_epochs x sum over examples of min(limit, tokens); cost = trained_tokens / 1e6 x price.
Epochs ``auto`` follow the fine-tuning service's documented default: 3, unless 3n < 100 examples-epochs
(then min(25, 100 // n)) or 3n > 25,000 (then max(1, 25,000 // n)).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from ftprep.data.models import ModelInfo, Price
from ftprep.tokens.stats import Summary

DEFAULT_EPOCHS = 3
MIN_TARGET_EXAMPLES = 100
MAX_TARGET_EXAMPLES = 25_000
MAX_DEFAULT_EPOCHS = 25
MIN_DEFAULT_EPOCHS = 1
VALIDATION_NOTE = ("validation-file tokens are reported separately: OpenAI does not document whether or how "
                   "they are billed")
HOURLY_NOTE = "{model} with method reinforcement is billed per hour of training ({price}), not per token"


def epochs_auto(n_examples: int) -> int:
    """The number of epochs the service picks for ``n_examples`` training examples."""
    if n_examples <= 0:
        return DEFAULT_EPOCHS
    if DEFAULT_EPOCHS * n_examples < MIN_TARGET_EXAMPLES:
        return min(MAX_DEFAULT_EPOCHS, MIN_TARGET_EXAMPLES // n_examples)
    if DEFAULT_EPOCHS * n_examples > MAX_TARGET_EXAMPLES:
        return max(MIN_DEFAULT_EPOCHS, MAX_TARGET_EXAMPLES // n_examples)
    return DEFAULT_EPOCHS


def trained_tokens(billing_tokens: int, n_epochs: int) -> int:
    """Tokens the job trains on: epochs x per-epoch billing tokens (examples capped at the limit)."""
    return n_epochs * billing_tokens


def cost_usd(trained: int, price: Price | None) -> float | None:
    """Training cost in USD, or None when the price is unknown or not per token."""
    if price is None or price.unit != "usd_per_1m_tokens":
        return None
    return trained / 1_000_000 * price.value


@dataclass(frozen=True, slots=True)
class PriceInfo:
    """The price used, where it comes from and when it was read."""

    value: float | None
    unit: str | None
    source: str | None
    as_of: str | None
    note: str = ""

    @classmethod
    def of(cls, price: Price | None) -> PriceInfo:
        """From a model-table price (None: unknown)."""
        if price is None:
            return cls(None, None, None, None, "no price known for this model; pass --price MODEL=USD")
        return cls(price.value, price.unit, price.source, price.as_of.isoformat() if price.as_of else None,
                   price.note)


@dataclass(frozen=True, slots=True)
class Distribution(Summary):
    """Tokens per example: the summary's true percentiles, and a histogram of ``(low, high, count)`` bins."""

    histogram: list[tuple[int, int, int]]


@dataclass(frozen=True, slots=True)
class CheckVerdict:
    """What ``ftprep check`` says of the files an estimate priced (the same pass): the service runs the job
    only when ``errors`` is 0. ``by_rule`` counts the errors per rule code; ``first`` holds the first few
    error findings (JSON contract objects)."""

    errors: int
    warnings: int
    by_rule: dict[str, int]
    first: list[dict[str, Any]]

    @property
    def passes(self) -> bool:
        """Whether the files pass the check (no error)."""
        return self.errors == 0


@dataclass(frozen=True, slots=True)
class FileEstimate:
    """Token figures of one file; ``trained_tokens``/``cost_usd`` only for the training file."""

    path: str
    role: str  # "train" or "validation"
    kind: str | None
    examples: int
    total_tokens: int
    billing_tokens: int
    trainable_tokens: int
    over_limit: int
    truncated_tokens: int
    zero_trainable: int
    images_estimated: int
    roles: dict[str, int]
    distribution: Distribution
    n_epochs: int | None
    trained_tokens: int | None
    cost_usd: float | None
    price: PriceInfo
    over_limit_lines: list[int] = field(default_factory=list)
    note: str = ""


@dataclass(frozen=True, slots=True)
class EstimateResult:
    """What a job on these files will train and cost. ``to_dict`` is the JSON contract."""

    model: str | None
    encoding: str
    method: str
    limit: int | None
    n_epochs: int
    n_epochs_auto: bool
    examples: int
    total_tokens: int
    billing_tokens: int
    trained_tokens: int
    cost_usd: float | None
    price: PriceInfo
    files: list[FileEstimate]
    notes: list[str]
    findings: list[dict[str, Any]] = field(default_factory=list)
    target: str = "openai"
    # The training tier priced (Azure: global, standard, datazone, developer); None: the model's one price.
    tier: str | None = None
    # Whether the counts come from the model's own tokenizer (False: an estimate with o200k_base).
    exact_tokens: bool = True
    # exact (OpenAI's encodings and formula), tokenizer (an open model's own tokenizer, OpenAI's framing of
    # messages), estimate (no offline tokenizer: o200k_base).
    counting: str = "exact"
    # The cost on each other tier of the target, for comparison (tier -> USD).
    tier_costs: dict[str, float] = field(default_factory=dict)
    # What the check says of the files (None: not checked, e.g. a model outside the table).
    verdict: CheckVerdict | None = None

    @property
    def train(self) -> FileEstimate:
        """The training file's estimate."""
        return self.files[0]

    @property
    def validation(self) -> FileEstimate | None:
        """The validation file's estimate, if one was given."""
        return self.files[1] if len(self.files) > 1 else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict: overall figures at the top level, per-file figures under ``files``."""
        data = asdict(self)
        data["version"] = 1
        if self.verdict is not None:
            data["verdict"]["passes"] = self.verdict.passes
        return data


def method_notes(model: ModelInfo | None, method: str, tier: str | None = None) -> list[str]:
    """Notes that change how the cost reads (per-hour billing)."""
    price = model.tier_price(tier) if model is not None else None
    if model is not None and price is not None and price.unit == "usd_per_hour":
        return [HOURLY_NOTE.format(model=model.name, price=f"${price.value:g}/hour, {price.source}")]
    return []

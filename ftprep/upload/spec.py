"""The fine-tuning job request, validated locally before any money is spent.

:class:`JobSpec` mirrors the body of ``POST /fine_tuning/jobs`` (the SDK's ``fine_tuning.jobs.create``): a
bad request is caught here, every problem listed at once, before a byte leaves the machine. A spec comes
from a file kept next to the dataset (``job.toml`` / ``job.json``) and from command-line flags; flags
override the file (:func:`build_job_spec`). ``schemas/job_request.schema.json`` is generated from this
model by :func:`render_job_request_schema`; a test fails when the two drift apart.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from ftprep.errors import ConfigError

MethodType = Literal["supervised", "dpo", "reinforcement"]
METHOD_TYPES: tuple[MethodType, ...] = ("supervised", "dpo", "reinforcement")
SEED_MAX = 2_147_483_647
SUFFIX_MAX = 64
METADATA_MAX_PAIRS = 16
METADATA_KEY_MAX = 64
METADATA_VALUE_MAX = 512
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "job_request.schema.json"
# The deprecated top-level block may only carry what every method accepts.
_DEPRECATED_KEYS = ("batch_size", "learning_rate_multiplier", "n_epochs")


def _is_number(value: object, kind: type) -> bool:
    # bool is an int subclass; a `true` in a spec file is a mistake, not 1.
    if isinstance(value, bool):
        return False
    return isinstance(value, int) if kind is int else isinstance(value, int | float)


def _auto_or(kind: type, low: float | None, high: float | None, *, low_open: bool = False) -> Callable[[Any], Any]:
    """A before-validator giving one clear message for "auto or a number in range" fields."""
    if kind is int:
        what = f"an integer from {low:g} to {high:g}" if high is not None else f"an integer >= {low:g}"
    elif high is not None:
        what = f"a number in ({low:g}, {high:g}]" if low_open else f"a number from {low:g} to {high:g}"
    else:
        what = f"a number > {low:g}" if low_open else f"a number >= {low:g}"

    def check(value: Any) -> Any:
        if value == "auto":
            return value
        ok = _is_number(value, kind)
        if ok and low is not None:
            ok = value > low if low_open else value >= low
        if ok and high is not None:
            ok = value <= high
        if not ok:
            raise ValueError(f"must be 'auto' or {what} (got {value!r})")
        return value

    return check


# Each type keeps the real constraint in the schema (for the generated JSON Schema) and validates through
# one before-validator, so a user sees "must be 'auto' or an integer from 1 to 50", not a union dump.
NEpochs = Annotated[Literal["auto"] | Annotated[int, Field(ge=1, le=50)], BeforeValidator(_auto_or(int, 1, 50))]
BatchSize = Annotated[Literal["auto"] | Annotated[int, Field(ge=1, le=256)], BeforeValidator(_auto_or(int, 1, 256))]
PositiveFactor = Annotated[
    Literal["auto"] | Annotated[float, Field(gt=0)], BeforeValidator(_auto_or(float, 0, None, low_open=True))
]
Beta = Annotated[
    Literal["auto"] | Annotated[float, Field(gt=0, le=2)],
    BeforeValidator(_auto_or(float, 0, 2, low_open=True)),
]
PositiveCount = Annotated[Literal["auto"] | Annotated[int, Field(ge=1)], BeforeValidator(_auto_or(int, 1, None))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SupervisedHyperparameters(_Strict):
    """Hyperparameters of supervised fine-tuning (also the deprecated top-level ``hyperparameters``)."""

    batch_size: BatchSize | None = None
    learning_rate_multiplier: PositiveFactor | None = None
    n_epochs: NEpochs | None = None


class DpoHyperparameters(SupervisedHyperparameters):
    """Hyperparameters of direct preference optimisation: the supervised ones plus ``beta`` in (0, 2]."""

    beta: Beta | None = None


class ReinforcementHyperparameters(SupervisedHyperparameters):
    """Hyperparameters of reinforcement fine-tuning."""

    reasoning_effort: Literal["default", "low", "medium", "high"] | None = None
    compute_multiplier: PositiveFactor | None = None
    eval_interval: PositiveCount | None = None
    eval_samples: PositiveCount | None = None


class SupervisedMethod(_Strict):
    """``method.supervised``."""

    hyperparameters: SupervisedHyperparameters | None = None


class DpoMethod(_Strict):
    """``method.dpo``."""

    hyperparameters: DpoHyperparameters | None = None


class Grader(BaseModel):
    """An RFT grader: its ``type`` is checked here, its body by the API (graders have many shapes)."""

    model_config = ConfigDict(extra="allow")

    type: Literal["string_check", "text_similarity", "python", "score_model", "multi"]


class ReinforcementMethod(_Strict):
    """``method.reinforcement``: a grader is required."""

    grader: Grader
    hyperparameters: ReinforcementHyperparameters | None = None


class Method(_Strict):
    """``method``: the type and, at most, the configuration block of that same type."""

    type: MethodType
    supervised: SupervisedMethod | None = None
    dpo: DpoMethod | None = None
    reinforcement: ReinforcementMethod | None = None

    @model_validator(mode="after")
    def _one_block_of_its_type(self) -> Method:
        for other in METHOD_TYPES:
            if other != self.type and getattr(self, other) is not None:
                raise ValueError(
                    f"method.{other} is given but method.type is {self.type!r}; remove the block or change the type"
                )
        if self.type == "reinforcement" and self.reinforcement is None:
            raise ValueError("method.type 'reinforcement' needs method.reinforcement.grader")
        return self

    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameters that were set, as sent."""
        block = getattr(self, self.type)
        if block is None or block.hyperparameters is None:
            return {}
        data: dict[str, Any] = block.hyperparameters.model_dump(exclude_none=True)
        return data


class Wandb(_Strict):
    """Weights & Biases settings: ``project`` is required."""

    project: Annotated[str, Field(min_length=1)]
    name: str | None = None
    entity: str | None = None
    tags: list[str] | None = None


class Integration(_Strict):
    """One integration; only ``wandb`` exists."""

    type: Literal["wandb"]
    wandb: Wandb


MetadataKey = Annotated[str, Field(min_length=1, max_length=METADATA_KEY_MAX)]
MetadataValue = Annotated[str, Field(max_length=METADATA_VALUE_MAX)]


def _map_deprecated_hyperparameters(data: dict[str, Any], default_method: str = "supervised") -> dict[str, Any]:
    """Move the deprecated top-level ``hyperparameters`` under ``method.<type>.hyperparameters``.

    The API still accepts the old block but documents ``method`` as the one place; sending one form only
    keeps the request unambiguous. A value given in both places with different values is an error.
    """
    old = data.get("hyperparameters")
    if old is None:
        return data
    if not isinstance(old, Mapping):
        raise ValueError("hyperparameters must be a table/object")
    unknown = sorted(set(old) - set(_DEPRECATED_KEYS))
    if unknown:
        raise ValueError(
            f"hyperparameters.{unknown[0]} is not a top-level hyperparameter; put it under "
            "method.<type>.hyperparameters"
        )
    data = dict(data)
    data.pop("hyperparameters")
    method = data.get("method")
    method = dict(method) if isinstance(method, Mapping) else {"type": default_method}
    kind = method.get("type", default_method)
    if kind not in METHOD_TYPES:
        data["method"] = method  # let the model report the bad type
        return data
    block = dict(method.get(kind) or {})
    current = dict(block.get("hyperparameters") or {})
    for key, value in old.items():
        if key in current and current[key] != value:
            raise ValueError(
                f"hyperparameters.{key}={value!r} conflicts with method.{kind}.hyperparameters.{key}="
                f"{current[key]!r}; keep only the one under method"
            )
        current[key] = value
    block["hyperparameters"] = current
    method["type"] = kind
    method[kind] = block
    data["method"] = method
    return data


class JobSpec(_Strict):
    """A fine-tuning job request, as ``fine_tuning.jobs.create`` takes it.

    ``training_file`` / ``validation_file`` are file ids; the uploader fills them after uploading, so a
    spec file usually leaves them out. The deprecated top-level ``hyperparameters`` are accepted and moved
    under ``method`` before validation.
    """

    model: Annotated[str, Field(min_length=1)]
    training_file: str | None = None
    validation_file: str | None = None
    method: Method | None = None
    hyperparameters: SupervisedHyperparameters | None = Field(
        default=None, description="Deprecated: moved under method.<type>.hyperparameters."
    )
    suffix: Annotated[str, Field(min_length=1, max_length=SUFFIX_MAX)] | None = None
    seed: Annotated[int, Field(ge=0, le=SEED_MAX, strict=True)] | None = None
    metadata: Annotated[dict[MetadataKey, MetadataValue], Field(max_length=METADATA_MAX_PAIRS)] | None = None
    integrations: list[Integration] | None = None

    @model_validator(mode="before")
    @classmethod
    def _deprecated_hyperparameters(cls, data: Any) -> Any:
        return _map_deprecated_hyperparameters(data) if isinstance(data, dict) else data

    @property
    def method_type(self) -> MethodType | None:
        """The method's type, or ``None`` when none was named (it then follows the file: ``with_method``)."""
        return self.method.type if self.method is not None else None

    def with_method(self, method: str) -> JobSpec:
        """The spec with ``method.type`` set to ``method`` when the request named none (a named one stays)."""
        if self.method is not None:
            return self
        try:
            chosen = Method.model_validate({"type": method})
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, "method")) from None
        return self.model_copy(update={"method": chosen})

    def with_files(self, training_file: str, validation_file: str | None) -> JobSpec:
        """A copy with the uploaded file ids filled in."""
        return self.model_copy(update={"training_file": training_file, "validation_file": validation_file})

    def to_request(self) -> dict[str, Any]:
        """The exact JSON body of ``POST /fine_tuning/jobs``: only what was given, no nulls."""
        if not self.training_file:
            raise ConfigError("the job request has no training_file; upload the training file first")
        body: dict[str, Any] = self.model_dump(exclude_none=True, mode="json")
        # Always explicit: a request without `method` runs as supervised whatever the file holds.
        body.setdefault("method", {"type": "supervised"})
        # Graders are free-form below their type; keep them exactly as given.
        if self.method is not None and self.method.reinforcement is not None:
            body["method"]["reinforcement"]["grader"] = self.method.reinforcement.grader.model_dump(mode="json")
        return body


@dataclass(frozen=True, slots=True)
class SpecFlags:
    """Job settings given on the command line; ``None`` means "not given" (the file's value stays)."""

    model: str | None = None
    method: str | None = None
    suffix: str | None = None
    seed: int | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    n_epochs: int | float | str | None = None
    batch_size: int | float | str | None = None
    learning_rate_multiplier: int | float | str | None = None
    beta: int | float | str | None = None
    reasoning_effort: str | None = None
    compute_multiplier: int | float | str | None = None
    eval_interval: int | float | str | None = None
    eval_samples: int | float | str | None = None
    wandb_project: str | None = None
    wandb_name: str | None = None
    wandb_entity: str | None = None
    wandb_tags: tuple[str, ...] = ()

    def hyperparameters(self) -> dict[str, Any]:
        """The hyperparameter flags that were given."""
        names = (
            "n_epochs", "batch_size", "learning_rate_multiplier", "beta", "reasoning_effort",
            "compute_multiplier", "eval_interval", "eval_samples",
        )  # fmt: skip
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def without_hyperparameters(self) -> SpecFlags:
        """The same flags without the hyperparameter ones."""
        return replace(self, n_epochs=None, batch_size=None, learning_rate_multiplier=None, beta=None,
                       reasoning_effort=None, compute_multiplier=None, eval_interval=None, eval_samples=None)


@dataclass(frozen=True, slots=True)
class BuiltSpec:
    """A validated spec, the warnings found building it, and whether ftprep's model table knows the model."""

    spec: JobSpec
    warnings: tuple[str, ...]
    model_known: bool = True


_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def parse_auto_or_number(text: str) -> int | float | str:
    """Turn a flag value into ``"auto"``, an int or a float; anything else is kept for validation to name."""
    text = text.strip()
    if text.lower() == "auto":
        return "auto"
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    if _NUMBER.fullmatch(text):
        return float(text)
    return text


def parse_metadata_pairs(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``KEY=VALUE`` strings to a dict (a value may contain ``=``); no ``=`` at all is a ConfigError."""
    result: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise ConfigError(f"--metadata {pair!r} is not KEY=VALUE; write e.g. --metadata team=search")
        result[key] = value
    return result


def load_spec_file(path: str | Path) -> dict[str, Any]:
    """Read a job spec from ``.toml`` or ``.json``; syntax errors name the file and position."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"{path}: a job spec must be a .toml or .json file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read job spec: {exc.strerror or exc}") from exc
    try:
        if suffix == ".toml":
            data: Any = tomllib.loads(raw.decode("utf-8"))
        else:
            data = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: job spec is not UTF-8 ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: a job spec must be a table/object of job parameters")
    return data


def merge_flags(data: Mapping[str, Any], flags: SpecFlags, default_method: str = "supervised") -> dict[str, Any]:
    """Apply command-line flags over a spec file's content; flags win, field by field.

    ``default_method`` is the method of hyperparameters given when neither the flags nor the file name one.
    """
    merged = _map_deprecated_hyperparameters(dict(data), default_method)
    for name in ("model", "suffix", "seed"):
        value = getattr(flags, name)
        if value is not None:
            merged[name] = value
    if flags.metadata:
        base = merged.get("metadata")
        merged["metadata"] = {**(base if isinstance(base, Mapping) else {}), **flags.metadata}
    hyper = flags.hyperparameters()
    if flags.method is not None or hyper:
        method = merged.get("method")
        method = dict(method) if isinstance(method, Mapping) else {}
        kind = flags.method or method.get("type") or default_method
        if kind != method.get("type"):
            # Switching the method type drops the file's block of the old type, hyperparameters included.
            method = {"type": kind, **({kind: method[kind]} if kind in method else {})}
        if hyper:
            block = dict(method.get(kind) or {})
            block["hyperparameters"] = {**dict(block.get("hyperparameters") or {}), **hyper}
            method[kind] = block
        merged["method"] = method
    wandb_flags = {
        "project": flags.wandb_project,
        "name": flags.wandb_name,
        "entity": flags.wandb_entity,
        "tags": list(flags.wandb_tags) or None,
    }
    wandb_flags = {k: v for k, v in wandb_flags.items() if v is not None}
    if wandb_flags:
        integrations = [dict(i) if isinstance(i, Mapping) else i for i in merged.get("integrations") or []]
        for item in integrations:
            if isinstance(item, dict) and item.get("type") == "wandb":
                item["wandb"] = {**dict(item.get("wandb") or {}), **wandb_flags}
                break
        else:
            integrations.append({"type": "wandb", "wandb": wandb_flags})
        merged["integrations"] = integrations
    return merged


_UNION_LABEL = re.compile(r"\[key\]|[a-z-]+\[.*\]|constrained-\w+|int|float|str|bool")


def _location(loc: tuple[int | str, ...]) -> str:
    # Union branch labels ("literal['auto']", "constrained-int") are pydantic's, not the user's.
    parts = [str(p) for p in loc if not (isinstance(p, str) and _UNION_LABEL.fullmatch(p))]
    text = ""
    for part in parts:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text or "(job spec)"


def format_validation_error(exc: ValidationError, source: str) -> str:
    """Every problem of a spec, one per line, each naming the field and the fix."""
    lines: list[str] = []
    for error in exc.errors():
        where = _location(error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown field (not a parameter of fine_tuning.jobs.create); remove it or fix its spelling"
        elif error["type"] == "missing":
            message = "required"
        elif error["type"] == "too_long" and isinstance(error.get("input"), dict | list):
            # pydantic stops counting at the limit ("not more"); the user wants the real count.
            limit = (error.get("ctx") or {}).get("max_length")
            unit = "key-value pairs" if isinstance(error["input"], dict) else "items"
            message = f"at most {limit} {unit} (got {len(error['input'])})"
        if "[key]" in error["loc"]:
            message = f"key: {message}"
        line = f"  - {where}: {message}"
        if line not in lines:
            lines.append(line)
    count = len(lines)
    header = f"{source}: {count} problem{'s' if count != 1 else ''} in the job request (nothing was sent):"
    return "\n".join([header, *lines])


def _resolve_model_warning(model: str) -> str | None:
    """A warning when ftprep's model table does not know ``model``; the API stays the judge."""
    try:
        from ftprep.data.models import resolve_model
    except ImportError:
        return None
    try:
        resolve_model(model)
    except ConfigError:
        return (
            f"model {model!r} is not in ftprep's model table: the check uses the default model's limits "
            "and the API decides whether it can be fine-tuned"
        )
    return None


def build_job_spec(
    data: Mapping[str, Any] | None = None,
    flags: SpecFlags | None = None,
    *,
    source: str = "job spec",
    default_method: str = "supervised",
    model_warning: Callable[[str], str | None] | None = None,
) -> BuiltSpec:
    """Validate a job request from file content and flags (flags win); every problem in one ConfigError.

    ``default_method``: the method hyperparameters belong to when neither names one (``upload`` passes
    the method the check detected). ``model_warning`` says when the model is unknown (default: OpenAI's
    model table; ``upload --target`` passes the target's).
    """
    raw = dict(data or {})
    deprecated = "hyperparameters" in raw
    try:
        merged = merge_flags(raw, flags or SpecFlags(), default_method)
        spec = JobSpec.model_validate(merged)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source)) from None
    except ValueError as exc:
        raise ConfigError(f"{source}: 1 problem in the job request (nothing was sent):\n  - {exc}") from None
    warnings: list[str] = []
    if deprecated:
        warnings.append(
            f"{source}: top-level hyperparameters are deprecated; sent as method.{spec.method_type}.hyperparameters"
        )
    unknown = (model_warning or _resolve_model_warning)(spec.model)
    if unknown:
        warnings.append(unknown)
    return BuiltSpec(spec=spec, warnings=tuple(warnings), model_known=unknown is None)


def job_request_schema() -> dict[str, Any]:
    """The JSON Schema of the job request, generated from :class:`JobSpec`."""
    schema = JobSpec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://ftprep.dev/schemas/job_request.schema.json"
    return schema


def render_job_request_schema() -> str:
    """The committed text of ``schemas/job_request.schema.json`` (stable key order, final newline)."""
    return json.dumps(job_request_schema(), indent=2, ensure_ascii=False) + "\n"


def write_job_request_schema(path: str | Path = SCHEMA_PATH) -> Path:
    """Regenerate the schema file atomically; run after changing :class:`JobSpec`."""
    from ftprep.jsonl.writer import write_file_atomic

    target = Path(path)
    write_file_atomic(target, render_job_request_schema().encode())
    return target


if __name__ == "__main__":  # pragma: no cover
    print(write_job_request_schema())

"""Hugging Face tokenizer folders (``tokenizer.json`` + ``tokenizer_config.json``), read with ``tokenizers`` alone.

transformers is not needed: ``tokenizers`` runs the ``tokenizer.json`` pipeline (normaliser, pre-tokeniser,
BPE/Unigram model, added tokens) exactly as transformers' fast tokenizers do, and the chat template, bos/eos and
the other named special tokens are read from ``tokenizer_config.json`` the way transformers'
``PreTrainedTokenizerBase.from_pretrained`` reads them: a ``chat_template.jinja`` file (and ``chat_templates/*.jinja``)
wins over the config's ``chat_template``, which is either a string or a list of ``{"name", "template"}``.
Nothing is ever downloaded: a missing file is a :class:`ConfigError` naming it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftprep.errors import ConfigError

if TYPE_CHECKING:
    import tokenizers

# transformers' SPECIAL_TOKENS_ATTRIBUTES: the named special tokens it passes to a chat template
# (``special_tokens_map``), in this order.
NAMED_SPECIAL_TOKENS = ("bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token")
OPEN_EXTRA_HINT = "install the open-model extra: pip install 'ftprep[open]'"


def import_tokenizers() -> Any:
    """The ``tokenizers`` module, or a :class:`ConfigError` saying how to install it."""
    try:
        import tokenizers  # here: an optional dependency, and 0.1 s to import
    except ModuleNotFoundError as exc:
        raise ConfigError(f"the 'tokenizers' package is needed for this tokenizer; {OPEN_EXTRA_HINT}") from exc
    return tokenizers


@dataclass(frozen=True, slots=True, eq=False)
class HFTokenizer:
    """A ``tokenizers.Tokenizer`` with what a chat template needs from ``tokenizer_config.json``.

    ``encode`` tokenizes as transformers' ``tokenizer(text, add_special_tokens=False)`` does: added tokens in the
    text (``<|im_start|>``...) become their ids, and no bos/eos is added by the post-processor.
    """

    name: str
    backend: tokenizers.Tokenizer
    chat_templates: dict[str, str] = field(default_factory=dict)
    named_special_tokens: dict[str, str] = field(default_factory=dict)
    family: str | None = None  # set when built by ftprep.tokens.open_models.open_tokenizer, else from a folder
    # How a family's tokenizer is rebuilt in another process (open_models.open_tokenizer, passed in by it: this
    # module sits below open_models and does not import it).
    rebuild: Callable[[str], Any] | None = None
    exact: bool = True

    def __reduce__(self) -> tuple[Any, ...]:
        # Rebuilt from its source in another process (folder or family), not sent as megabytes of JSON.
        if self.family is not None and self.rebuild is not None:
            return self.rebuild, (self.family,)
        return load_hf_tokenizer, (self.name,)

    @property
    def special_tokens(self) -> dict[str, int]:
        """Added tokens marked special in ``tokenizer.json`` (content -> id)."""
        return {tok.content: tid for tid, tok in self.backend.get_added_tokens_decoder().items() if tok.special}

    @property
    def added_tokens(self) -> dict[str, int]:
        """All added tokens, special or not (``<tool_call>`` is an added, non-special token in Qwen)."""
        return {tok.content: tid for tid, tok in self.backend.get_added_tokens_decoder().items()}

    @property
    def chat_template(self) -> str | None:
        """The default chat template (``default`` of several), or None when the folder has none."""
        return self.chat_templates.get("default")

    def template_for(self, tools: list[Any] | None) -> str | None:
        """The template transformers would pick: ``tool_use`` when tools are given and it exists, else ``default``."""
        if tools is not None and "tool_use" in self.chat_templates:
            return self.chat_templates["tool_use"]
        return self.chat_templates.get("default")

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``, without bos/eos."""
        ids: list[int] = self.backend.encode(text, add_special_tokens=False).ids
        return ids

    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        return len(self.backend.encode(text, add_special_tokens=False).ids)

    def encode_many(self, texts: list[str]) -> list[list[int]]:
        """Token ids of several texts, in parallel threads (``tokenizers``' batch encoding)."""
        return [enc.ids for enc in self.backend.encode_batch(texts, add_special_tokens=False)]


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON ({exc}); use the file as saved by transformers") from exc


def _token_text(value: Any) -> str | None:
    """A special token of ``tokenizer_config.json``: a string, or an ``AddedToken`` object with ``content``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def _templates_from_config(config: dict[str, Any], path: Path) -> dict[str, str]:
    raw = config.get("chat_template")
    if raw is None:
        return {}
    if isinstance(raw, str):
        return {"default": raw}
    if isinstance(raw, list) and all(
        isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("template"), str)
        for item in raw
    ):
        return {item["name"]: item["template"] for item in raw}
    raise ConfigError(f"{path}: chat_template must be a string or a list of {{name, template}} objects")


def _templates_from_files(folder: Path) -> dict[str, str]:
    templates: dict[str, str] = {}
    single = folder / "chat_template.jinja"
    if single.is_file():
        templates["default"] = single.read_text(encoding="utf-8")
    extra = folder / "chat_templates"
    if extra.is_dir():
        for item in sorted(extra.glob("*.jinja")):
            templates[item.name.removesuffix(".jinja")] = item.read_text(encoding="utf-8")
    return templates


def tokenizer_from_json(name: str, data: str | bytes) -> tokenizers.Tokenizer:
    """A ``tokenizers.Tokenizer`` from the text of a ``tokenizer.json``; :class:`ConfigError` when it is invalid."""
    module = import_tokenizers()
    text = data.decode("utf-8") if isinstance(data, bytes) else data
    try:
        backend: tokenizers.Tokenizer = module.Tokenizer.from_str(text)
    except Exception as exc:  # tokenizers raises a bare Exception for a malformed file
        raise ConfigError(f"{name}: not a tokenizer.json that the tokenizers library can read ({exc})") from exc
    return backend


def load_hf_tokenizer(folder: str | Path) -> HFTokenizer:
    """The tokenizer of a Hugging Face tokenizer folder, offline.

    Reads ``tokenizer.json`` (required), ``tokenizer_config.json`` (optional: chat template, bos/eos and the
    other named special tokens) and ``chat_template.jinja`` / ``chat_templates/*.jinja`` (optional, and preferred
    over the config's template, as transformers does). Raises :class:`ConfigError` naming the file and the fix.
    """
    path = Path(folder)
    if not path.is_dir():
        raise ConfigError(f"{path}: not a folder; pass a Hugging Face tokenizer folder holding tokenizer.json")
    tokenizer_file = path / "tokenizer.json"
    if not tokenizer_file.is_file():
        raise ConfigError(
            f"{tokenizer_file}: missing; the folder must hold tokenizer.json "
            "(save it with tokenizer.save_pretrained(DIR) from a fast tokenizer)"
        )
    try:
        text = tokenizer_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{tokenizer_file}: cannot be read ({exc})") from exc
    backend = tokenizer_from_json(str(tokenizer_file), text)
    config_file = path / "tokenizer_config.json"
    config: dict[str, Any] = {}
    if config_file.is_file():
        loaded = _read_json(config_file)
        if not isinstance(loaded, dict):
            raise ConfigError(f"{config_file}: must hold a JSON object")
        config = loaded
    templates = _templates_from_files(path) or _templates_from_config(config, config_file)
    named = {key: token for key in NAMED_SPECIAL_TOKENS if (token := _token_text(config.get(key))) is not None}
    return HFTokenizer(name=str(path.resolve()), backend=backend, chat_templates=templates, named_special_tokens=named)

"""One way to count tokens for any model: a tiktoken encoding (OpenAI), an open-weight family's own tokenizer, or
nothing exact (then the caller estimates).

:class:`~ftprep.tokens.accounting.Accountant` speaks tiktoken's ``Encoding`` interface (``name``,
``encode_ordinary``, ``encode_ordinary_batch``); :class:`OpenEncoding` gives an open-model tokenizer
(:mod:`ftprep.tokens.open_models`) that interface, so the same accounting counts Llama, Qwen, Mistral, DeepSeek and
gpt-oss text with the model's real tokenizer. The framing of messages stays OpenAI's formula: the exact framing of
an open model is its chat template's (``--target hf``, :mod:`ftprep.tokens.chat_template`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from ftprep.errors import ConfigError
from ftprep.tokens.encoding import ENCODING_NAMES, get_encoding
from ftprep.tokens.open_models import TiktokenTokenizer, Tokenizer, open_tokenizer, resolve_family

Counting = Literal["exact", "tokenizer", "estimate"]


class OpenEncoding:
    """An open-model tokenizer behind tiktoken's ``Encoding`` interface (what the accounting calls).

    Text is encoded as the model's tokenizer does, special-token text included (Hugging Face tokenizers parse it,
    so a trainer does too)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.name = tokenizer.name
        # tiktoken's batch encoder runs on threads; the others encode one text at a time.
        self._batch = (tokenizer.encoding if isinstance(tokenizer, TiktokenTokenizer) and not tokenizer.nfc
                       and not tokenizer.special_ids_offset else None)

    def encode_ordinary(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        return self.tokenizer.encode(text)

    def encode_ordinary_batch(self, texts: Sequence[str], num_threads: int = 8) -> list[list[int]]:
        """Token ids of each text."""
        if self._batch is not None:
            batch: list[list[int]] = self._batch.encode_batch(list(texts), num_threads=num_threads,
                                                              allowed_special="all")
            return batch
        return [self.tokenizer.encode(text) for text in texts]

    def __reduce__(self) -> tuple[Any, ...]:
        return get_counter, (self.name,)  # rebuilt offline by name in worker processes


def get_counter(name: str) -> Any:
    """The tiktoken encoding ``name``, or an open family's tokenizer as an :class:`OpenEncoding`.

    Raises :class:`ConfigError` for a name without an exact offline tokenizer, or whose package is missing.
    """
    if name in ENCODING_NAMES:
        return get_encoding(name)
    family = resolve_family(name)
    if family is None:
        raise ConfigError(f"no offline tokenizer for {name!r}; counts for it are estimates")
    return OpenEncoding(open_tokenizer(family))


def counting_for(encoding: str) -> tuple[Counting, str]:
    """How a model of this tokenizer family is counted, with the reason when it is not exact: ``exact``
    (OpenAI's encodings and formula), ``tokenizer`` (the model's own tokenizer, OpenAI's framing of messages) or
    ``estimate`` (no tokenizer offline, or its package is not installed)."""
    if encoding in ENCODING_NAMES:
        return "exact", ""
    if resolve_family(encoding) is None:
        return "estimate", f"ftprep has no offline tokenizer for the {encoding} family"
    try:
        get_counter(encoding)
    except ConfigError as exc:
        return "estimate", str(exc)
    return "tokenizer", ""

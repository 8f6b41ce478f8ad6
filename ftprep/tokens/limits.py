"""Whether an example fits a token limit, encoding as little of it as the answer needs.

Every token of ``o200k_base`` and ``cl100k_base`` that ``encode_ordinary`` can produce holds at least one
byte (special tokens are never produced; ``tests/unit/tokens/test_limits.py`` checks both vocabularies), and
the tokens of a text spell its UTF-8 bytes (a lone surrogate becomes U+FFFD: three bytes either way), so a
text has at most as many tokens as UTF-8 bytes. :class:`ByteCounter` counts those bytes behind tiktoken's
interface; an :class:`~ftprep.tokens.accounting.Accountant` built on it walks an example exactly as the real
one does (messages, names, tool calls, tool definitions, images by the same formula, from a data URL's
decoded size) and so gives an upper bound of the example's tokens without a tokenizer.

:func:`tokens_over` answers in steps, each only when the one before could not: that bound; the bound with
the example's constant tokens (roles, names) counted; the bound as its texts are encoded one span at a time
(largest texts first; :func:`~ftprep.tokens.accounting.piece_counts`, exact), until it falls to the limit.
Only an example over the limit is counted whole, and then exactly as the accountant counts it. What the spans
counted is kept in the tokenizer's caches (:meth:`~ftprep.tokens.accounting.Accountant.span_counts`): a later count
of the same text in the process (``estimate``'s collector) goes on from where they stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from ftprep.data.models import TIKTOKEN_ENCODINGS, ModelInfo
from ftprep.tokens.accounting import Accountant

# Texts up to this many characters are encoded whole (and cached when met again) rather than span by span.
_WHOLE = 4096


class ByteCounter:
    """tiktoken's ``Encoding`` interface counting a text's UTF-8 bytes: an upper bound of its tokens in
    the tiktoken encoding ``name`` (whose name the accountant reads for the tool-definition constants)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def encode_ordinary(self, text: str) -> bytes:
        """The text's UTF-8 bytes (surrogates passed through): one "token" per byte."""
        return text.encode("utf-8", "surrogatepass")

    def encode_ordinary_batch(self, texts: Sequence[str], num_threads: int = 8) -> list[bytes]:
        """:meth:`encode_ordinary` of each text."""
        return [self.encode_ordinary(text) for text in texts]


def byte_bound(model: ModelInfo) -> Accountant | None:
    """An accountant whose counts bound ``model``'s from above without a tokenizer, or None when the
    model's tokenizer is not a tiktoken encoding (a token of another tokenizer may cover no byte)."""
    if model.encoding not in TIKTOKEN_ENCODINGS:
        return None
    return Accountant(cast(Any, ByteCounter(model.encoding)), model)


def tokens_over(record: Any, kind: str, limit: int, bound: Accountant,
                exact_accountant: Callable[[], Accountant]) -> int | None:
    """None when the example (``kind``: chat, completion, preference) has at most ``limit`` tokens, else its
    token count, the ``count(record, kind).total`` of the accountant ``exact_accountant`` returns. ``bound``
    is :func:`byte_bound`'s accountant; ``exact_accountant`` (which may build a tokenizer) is only called
    when the bound is over the limit."""
    bytes_plan = bound.plan(record, kind)
    lengths = [len(text.encode("utf-8", "surrogatepass")) for text in bytes_plan.texts]
    total = sum(bytes_plan.const) + sum(lengths)
    if total <= limit:
        return None
    exact = exact_accountant()
    plan = exact.plan(record, kind)  # the same texts; roles and names counted
    total = sum(plan.const) + sum(lengths)
    if total <= limit:
        return None
    texts = plan.texts
    order = sorted(range(len(texts)), key=lambda i: -lengths[i])
    counted: set[int] = set()
    for i in order:  # cached lengths first: they cost nothing
        known = exact.known_len(texts[i])
        if known is not None:
            total -= lengths[i] - known
            counted.add(i)
    if total <= limit:
        return None
    for i in order:
        if i in counted:
            continue
        text = texts[i]
        if len(text) <= _WHOLE or exact.sighted(text):
            # Short, or met before (a system prompt, a tool result): counted whole, so that the accountant
            # caches it when it comes again.
            total -= lengths[i] - exact.text_len(text)
        else:
            # The spans cover the text: their bytes add up to its bound, their tokens to its count.
            for tokens, size in exact.span_counts(text):
                total -= size - tokens
                if total <= limit:
                    return None
        if total <= limit:
            return None
    return total

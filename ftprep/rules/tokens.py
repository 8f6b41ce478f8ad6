"""FT400-FT419: tokens and limits: examples over the model's limit, nothing to train on, special tokens,
texts whose tokens are counted in pieces.

The limit check tokenizes only examples whose size could exceed the limit: a token covers at least one
byte of text and the per-message overheads stay under one token per byte of JSON syntax, so a line of
``n`` bytes without images has fewer than ``2n + 16`` tokens; smaller lines are skipped untokenized. For
the others (long lines, lines with images), :func:`ftprep.tokens.limits.tokens_over` bounds the example's
tokens by its texts' bytes and its images' tokens before it builds a tokenizer, and then encodes only as
much of the texts as it takes to show that the example fits.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ftprep.data.models import ModelInfo, ModelTable, default_models
from ftprep.errors import ConfigError
from ftprep.formats.detect import CHAT, COMPLETION, PREFERENCE, detect_format
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, pointer
from ftprep.lint.registry import Rule, register
from ftprep.rules.facts import LIST_CONTENT, WEIGHT, chat_facts
from ftprep.tokens.accounting import LONG_TEXT, PIECE, REPLY_PRIMER, Accountant, pieces
from ftprep.tokens.counter import counting_for, get_counter
from ftprep.tokens.encoding import ENDOFPROMPT, ENDOFTEXT, FIM_MIDDLE, FIM_PREFIX, FIM_SUFFIX, built
from ftprep.tokens.limits import byte_bound, tokens_over

SPECIAL_TOKENS = (ENDOFTEXT, FIM_PREFIX, FIM_MIDDLE, FIM_SUFFIX, ENDOFPROMPT)
MAX_SPECIAL_FINDINGS = 5


@register
class ExampleOverLimit(Rule):
    """What it does
    Flags an example whose token count (by the accounting of `ftprep estimate`) exceeds the model's
    maximum training tokens per example (65,536 for gpt-4o-mini, 16,385 for gpt-3.5-turbo ...). The
    message gives the count, how far it is over, and from which message on the text is cut. A DPO row is
    two training sequences, the input with each output: each is checked on its own.

    Why it matters
    Training truncates the example from its end: the assistant answer, the part that teaches, is what is
    lost. The cut tokens are not billed, but the example teaches an incomplete answer.

    Example
    A 40,000-token transcript in a file for `--model gpt-3.5-turbo` (16,385 tokens per example).

    Fix
    Shorten the example (trim the context, split the conversation) or pick a model with a larger limit.
    """

    code = "FT400"
    name = "example-over-token-limit"
    severity = Severity.WARNING


@register
class NoTrainableTokens(Rule):
    """What it does
    Flags a chat example whose every assistant message has `"weight": 0`, so that no token is trained.

    Why it matters
    The example is billed (its tokens count towards trained_tokens) but teaches nothing.

    Example
    `{"messages": [{"role": "user", "content": "Hi"},
                   {"role": "assistant", "content": "Hello", "weight": 0}]}`

    Fix
    Set `"weight": 1` on the assistant message(s) to learn from, or drop the example.
    """

    code = "FT401"
    name = "zero-trainable-tokens"
    severity = Severity.WARNING


@register
class SpecialTokenText(Rule):
    """What it does
    Flags any string in a record that contains the text of a tokenizer special token: `<|endoftext|>`,
    `<|fim_prefix|>`, `<|fim_middle|>`, `<|fim_suffix|>` or `<|endofprompt|>`.

    Why it matters
    The fine-tuning service rejects training data containing special tokens: the job fails after upload.

    Example
    `{"role": "assistant", "content": "Done.<|endoftext|>"}` (a leftover from a completions-era export).

    Fix
    Delete the marker text (it was never meant as content), or write it another way, e.g. `<| endoftext |>`.
    """

    code = "FT402"
    name = "special-token-text"
    severity = Severity.ERROR


@register
class LongUnbrokenRun(Rule):
    """What it does
    Flags a text of more than 65,536 characters that holds a run of more than 8,192 characters without a
    space or a line break. Embedded images (`image_url`) are not texts and are not looked at.

    Why it matters
    Such a run is rarely meant as training text: a base64 blob, minified data, a repeated character, a
    dump. Its tokens are counted in pieces of at most 16,384 characters (tokenizing it whole takes time and
    memory that grow faster than its length), so its count may differ from the service's by about one
    token per piece.

    Example
    A 3 MB PDF pasted into a message as base64 text.

    Fix
    Drop the data or move it out of the example; if the text is real (a language written without spaces),
    the warning only says that the count is approximate.
    """

    code = "FT403"
    name = "long-unbroken-run"
    severity = Severity.WARNING


_TABLE: list[ModelTable] = []


# Every special token starts with "<|"; in JSON text "<" may also be written \u003c (or \u003C) and "|"
# \u007c. Byte searches (far cheaper than a regex) rule most lines out before the walk over every string:
# a single byte is a memchr, so "<" and "\\" are looked for before the longer patterns. The single bytes are
# given as integers and the patterns to find(): `bytes in bytes` first tries the operand as an integer, and
# the TypeError it raises and clears costs more than a memchr over a 1.5 KB line (see engine.feed_line).
def _may_hold_special(raw: bytes) -> bool:
    if 0x3C in raw and (raw.find(b"<|") >= 0 or raw.find(b"<\\u007") >= 0):  # 0x3C: "<"
        return True
    return 0x5C in raw and raw.find(b"\\u003") >= 0  # 0x5C: a backslash


def use_model_table(table: ModelTable) -> None:
    """Resolve ``ctx.model`` against ``table`` (the configuration's models) instead of the packaged one."""
    _TABLE[:] = [table]
    _model_info.cache_clear()
    _bound.cache_clear()  # a configured model may change a packaged one's encoding or image formula


@cache
def _model_info(name: str) -> ModelInfo | None:
    try:
        return (_TABLE[0] if _TABLE else default_models()).resolve(name)
    except ConfigError:
        return None  # unknown models are reported by the job rules; no limit to check against here


@cache
def _accountant(name: str) -> Accountant | None:
    model = _model_info(name)
    # A model without an offline tokenizer (or whose tokenizer package is not installed) has no count to hold
    # against its limit.
    if model is None or counting_for(model.encoding)[0] == "estimate":
        return None
    return Accountant(get_counter(model.encoding), model)


@cache
def _bound(name: str) -> Accountant | None:
    """The model's byte-bound accountant (no tokenizer), when its tokenizer is a tiktoken encoding."""
    model = _model_info(name)
    return None if model is None else byte_bound(model)


def _exact(name: str) -> Accountant:
    accountant = _accountant(name)
    if accountant is None:  # not for a tiktoken encoding, the only kind of model with a byte bound
        raise ConfigError(f"no offline tokenizer for {name}")
    return accountant


class _NeedsTokenizer(Exception):
    """The byte bound cannot decide and this process is not to build the tokenizer (a worker)."""


def _refuse() -> Accountant:
    raise _NeedsTokenizer


def _tokens_over(record: Any, kind: str, limit: int, name: str, *, build: bool = True) -> int | None:
    """The example's token count when it is over ``limit``; None when it is not, or when the model has no
    tokenizer to count with. A tiktoken model's examples go through :func:`tokens_over`, which builds the
    tokenizer only when their byte bound is over the limit (raising :class:`_NeedsTokenizer` then, when not
    ``build``)."""
    bound = _bound(name)
    if bound is not None:
        return tokens_over(record, kind, limit, bound, (lambda: _exact(name)) if build else _refuse)
    accountant = _accountant(name)
    if accountant is None:
        return None
    total = accountant.count(record, kind).total
    return total if total > limit else None


def _has_image(record: Record) -> bool:
    sources: list[Any] = [record.get("messages"), record.get("preferred_output"),
                          record.get("non_preferred_output")]
    source = record.get("input")
    if isinstance(source, dict):
        sources.append(source.get("messages"))
    for messages in sources:
        if not isinstance(messages, list):
            continue
        for message in messages:
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, list) and any(isinstance(p, dict) and "image_url" in p for p in content):
                return True
    return False


def _may_have_image(record: Record, kind: str, ctx: RecordContext) -> bool:
    """Whether the record may hold an image (whose tokens a byte count does not bound)."""
    if kind == CHAT:
        return bool(chat_facts(record, ctx) & LIST_CONTENT) and _has_image(record)
    if kind == COMPLETION:
        return False  # prompt and completion are texts
    return ctx.raw.find(b"image_url") >= 0 and _has_image(record)


@record_check(CHAT, PREFERENCE, COMPLETION)
def check_token_limit(record: Record, ctx: RecordContext) -> None:
    """FT400: tokenize (only when the line could be over the limit) and compare with the model's limit."""
    if ExampleOverLimit.code not in ctx.enabled or ctx.model is None:
        return
    model = _model_info(ctx.model)
    if model is None or model.max_tokens is None:
        return
    limit = model.max_tokens
    kind = ctx.kind or detect_format(record) or CHAT
    if len(ctx.raw) * 2 + 16 <= limit and (kind == COMPLETION or not _may_have_image(record, kind, ctx)):
        return
    name = model.name
    if ctx.deferred is not None and _bound(ctx.model) is not None and not built(model.encoding):
        # A byte range of a parallel pass, and the tokenizer not built before the fork: the byte bound decides
        # most long examples; those it cannot go to the parent process, so that only the parent builds the
        # tokenizer (about 50 MB in each process that builds it).
        try:
            _over_limit(record, kind, limit, name, ctx, build=False)
        except _NeedsTokenizer:
            ctx.defer(resume_token_limit)
        return
    _over_limit(record, kind, limit, name, ctx)


def resume_token_limit(record: Record, ctx: RecordContext) -> None:
    """FT400 for an example a worker deferred (:meth:`RecordContext.defer`): counted with the tokenizer."""
    model = _model_info(ctx.model) if ctx.model is not None else None
    if model is not None and model.max_tokens is not None:
        _over_limit(record, ctx.kind or CHAT, model.max_tokens, model.name, ctx)


def _over_limit(record: Record, kind: str, limit: int, name: str, ctx: RecordContext, *,
                build: bool = True) -> None:
    """FT400 when the example is over ``limit`` (``build``: see :func:`_tokens_over`)."""
    model_name = ctx.model or name
    if kind == PREFERENCE:
        _check_preference_limit(record, limit, model_name, name, ctx, build=build)
        return
    total = _tokens_over(record, kind, limit, model_name, build=build)
    if total is None:
        return
    where, cut_from = _cut_point(_exact(model_name), record, kind, limit)
    ctx.emit(ExampleOverLimit, where,
             f"example has {total:,} tokens, {total - limit:,} over the {limit:,}-token limit of {name}; "
             f"training cuts it from the end{cut_from}",
             "shorten the example or split the conversation; the cut part (usually the answer) is not "
             "learned")


def _check_preference_limit(record: Record, limit: int, model: str, name: str, ctx: RecordContext, *,
                            build: bool = True) -> None:
    """A DPO row trains on two sequences, the input with the preferred output and the input with the
    non-preferred one: each must fit (the row's total, counting the input once and both outputs, need not)."""
    for key in ("preferred_output", "non_preferred_output"):
        side = {"input": record.get("input"), key: record.get(key)}
        total = _tokens_over(side, PREFERENCE, limit, model, build=build)
        if total is not None:
            ctx.emit(ExampleOverLimit, pointer(key),
                     f"input + {key} has {total:,} tokens, {total - limit:,} over the {limit:,}-token limit of "
                     f"{name}; training cuts it from the end",
                     "shorten the input or the output; the cut part is not learned")
            return


def _cut_point(accountant: Accountant, record: Record, kind: str, limit: int) -> tuple[str, str]:
    """Pointer to the first message that does not fit whole, and a phrase naming it."""
    if kind != CHAT or not isinstance(record.get("messages"), list):
        return "", ""
    definitions = {"tools": record.get("tools"), "functions": record.get("functions")}
    running = accountant.count(definitions, CHAT).total - REPLY_PRIMER
    messages = record["messages"]
    for index, message in enumerate(messages):
        running += accountant.count({"messages": [message]}, CHAT).total - REPLY_PRIMER
        if running > limit:
            role = message.get("role") if isinstance(message, dict) else None
            later = len(messages) - index - 1
            rest = f" and the {later} message(s) after it are lost" if later else " is cut"
            return pointer("messages", index), f": message {index} ({role or 'unknown role'}){rest}"
    return "/messages", ""


@record_check(CHAT, facts=WEIGHT)
def check_trainable(record: Record, ctx: RecordContext) -> None:
    """FT401: assistant messages present, all with weight 0."""
    if NoTrainableTokens.code not in ctx.enabled or ctx.method == "reinforcement":
        return
    if not chat_facts(record, ctx) & WEIGHT:
        return  # without weights every assistant message is trained
    messages = record.get("messages")
    if not isinstance(messages, list):
        return
    assistants = [m for m in messages if isinstance(m, dict) and m.get("role") == "assistant"]
    if assistants and all(m.get("weight", 1) == 0 for m in assistants):
        ctx.emit(NoTrainableTokens, "/messages",
                 f"all {len(assistants)} assistant message(s) have weight 0: the example is billed but "
                 "trains nothing",
                 'set "weight": 1 on the answer to learn from, or drop the example')


@record_check(CHAT, PREFERENCE, COMPLETION)
def check_special_tokens(record: Record, ctx: RecordContext) -> None:
    """FT402: special-token text in any string (values and keys) of the record."""
    if SpecialTokenText.code not in ctx.enabled or (ctx.raw and not _may_hold_special(ctx.raw)):
        return
    found = 0
    for path, text in _strings(record, ()):
        if "<|" not in text:
            continue
        for token in SPECIAL_TOKENS:
            if token in text:
                ctx.emit(SpecialTokenText, pointer(*path),
                         f"text contains the special token {token} (at character {text.index(token) + 1})",
                         f"remove {token} from the text; the fine-tuning service rejects special tokens")
                found += 1
                break
        if found >= MAX_SPECIAL_FINDINGS:
            return


@record_check(CHAT, PREFERENCE, COMPLETION)
def check_unbroken_runs(record: Record, ctx: RecordContext) -> None:
    """FT403: a long text that must be counted in pieces cut inside a run without spaces."""
    if LongUnbrokenRun.code not in ctx.enabled or (ctx.raw and len(ctx.raw) <= LONG_TEXT):
        return
    found = 0
    for path, text in _strings(record, ()):
        if len(text) <= LONG_TEXT or "image_url" in path:
            continue
        cuts = sum(forced for _, _, forced in pieces(text))
        if cuts:
            ctx.emit(LongUnbrokenRun, pointer(*path),
                     f"text of {len(text):,} characters holds runs of over {PIECE // 2:,} characters without a "
                     f"space or line break: its tokens are counted in pieces, and the count may differ from the "
                     f"service's by a token or so per piece cut inside a run ({cuts:,} cut(s))",
                     "drop the data (base64, minified JSON, a repeated character) or move it out of the example")
            found += 1
            if found >= MAX_SPECIAL_FINDINGS:
                return


def _strings(value: Any, path: tuple[str | int, ...]) -> Any:
    """Yield ``(path, string)`` for every string value and key in a parsed JSON value."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in reversed(item.items()):
                if "<|" in key:
                    yield (*where, key), key
                stack.append(((*where, key), child))
        elif isinstance(item, list):
            for index in range(len(item) - 1, -1, -1):
                stack.append(((*where, index), item[index]))

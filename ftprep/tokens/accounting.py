"""Per-example token accounting: how many tokens one training example costs and trains on.

Chat (SFT and RFT rows): per message 3 + tokens(role) + tokens(content text), +1 + tokens(name) when the
message is named; tool calls (and legacy ``function_call``) count as their serialised JSON; tool
definitions follow the function-definition formula of the OpenAI cookbook ("How to count tokens with
tiktoken", ``num_tokens_for_tools``); images follow the vision cost formula of the model; +3 per example
(the reply primer). Completion: tokens(prompt) + tokens(completion). Preference (DPO): the input as a chat
example plus every message of both outputs.

A text longer than :data:`LONG_TEXT` characters is encoded in pieces of at most :data:`PIECE` characters
(:func:`pieces`): tiktoken's BPE of one pretoken takes time and memory that grow faster than its length
(5 MB of one letter took 3.5 s and 210 MB; a 1 GB run aborted the process). Pieces are cut before a space
or after a line break that is followed by a non-space character (other than "/" after a line break),
which is a pretoken boundary of both encodings' split patterns, so such counts are exact (a test compares
them with whole texts); only a run of more than :data:`PIECE` // 2 characters
without such a boundary (a base64 blob, minified data, a repeated character, text without spaces) is cut
inside a pretoken, where the count may differ from the API's by a token or two per cut (FT403 names it).

Records arrive as parsed JSON that may be malformed: nothing here raises on odd shapes; whatever is not
countable is skipped. :meth:`Accountant.tally` walks a record and encodes its texts as it goes (the hot path
of ``estimate``); :meth:`Accountant.plan` collects the texts per bucket and constant tokens without
encoding them, so that many examples can be encoded in one ``encode_ordinary_batch`` call. Both give the
same counts (tests compare them).
"""

from __future__ import annotations

import base64
import binascii
import io
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from ftprep.data.models import ImageFormula, ModelInfo
from ftprep.tokens.counter import get_counter

if TYPE_CHECKING:  # tiktoken is imported where an encoding is built (start-up time of `check`)
    import tiktoken

TOKENS_PER_MESSAGE = 3
TOKENS_PER_NAME = 1
REPLY_PRIMER = 3

# Buckets of an example's tokens.
SYSTEM, USER, ASSISTANT, ASSISTANT_UNTRAINED, TOOL, TOOLS_DEF, OTHER = range(7)
N_BUCKETS = 7
_ROLE_BUCKET = {"system": SYSTEM, "developer": SYSTEM, "user": USER, "assistant": ASSISTANT,
                "tool": TOOL, "function": TOOL}

# Function-definition constants (cookbook num_tokens_for_tools): gpt-3.5-turbo / gpt-4 (cl100k) start each
# function with 10 tokens, gpt-4o / gpt-4o-mini (o200k) with 7; the rest is shared.
_FUNC_INIT = {"cl100k_base": 10, "o200k_base": 7}
PROP_INIT, PROP_KEY, ENUM_INIT, ENUM_ITEM, FUNC_END = 3, 3, -3, 3, 12

# Remote images cannot be measured offline: assume a 1024x1024 image at high detail (marked estimated).
ASSUMED_REMOTE_SIZE = (1024, 1024)
# The formula used when no model is known: gpt-4o's tiles (marked estimated).
DEFAULT_IMAGE = ImageFormula(kind="tiles", base=85, tile=170)
# Enough base64 for any common image header (PNG/GIF/WebP: bytes; JPEG: SOF after EXIF, usually < 64 KiB).
_HEADER_B64 = 96 * 1024
# Text-length cache: a text's length is kept once the text is seen a second time (system prompts, tool
# results and tool definitions repeat; most user and assistant texts do not). Sightings are marked in a
# table of bytes indexed by the text's hash (a false positive only caches a text needlessly). The cache is
# keyed by the text's hash (computed once per str object, and needed for the sightings anyway) and holds the
# length in characters beside the token count, so a hash collision must also match the length to be taken;
# keys are ints, not the texts, so a cache of many long texts costs no more than one of short ones: at most
# _CACHED_TEXTS entries (about 100 bytes each), then the cache and the sightings start over. A text of
# _EAGER_CHARS characters or more is kept at its first sighting: it costs as much to encode as hundreds of
# short ones, and one process often counts the same record twice (the token-limit rule, then `estimate`'s
# collector). The cache belongs to the tokenizer object, shared by every Accountant of the process that
# counts with it (see _length_cache).
_SEEN_SLOTS = 1 << 20
_CACHED_TEXTS = 1 << 17
_EAGER_CHARS = 2048
_CHARS_BITS = 32
_CHARS_MASK = (1 << _CHARS_BITS) - 1
# An entry is tokens << _COUNT_SHIFT | cuts << _CHARS_BITS | characters: with the pieces of a long text cut
# inside a pretoken (at most 2**28 / PIECE of them), so that a cached count still adds its cuts to the note.
_COUNT_SHIFT = 48
_CUTS_MASK = (1 << (_COUNT_SHIFT - _CHARS_BITS)) - 1
# Counts begun span by span (Accountant.span_counts: the token-limit rule stops once an example is shown to
# fit), keyed like the cache: (characters, where the spans counted so far end, their tokens, their cuts). A
# later count of the same text encodes only the rest (`estimate`'s collector counts the record the rule
# looked at: on the real 100 MB file the rule's spans were 9.6M characters, which the collector encoded again).
# At most _PARTIAL_TEXTS of them, then they start over.
_PARTIAL_TEXTS = 1024
# Token counts of tool-definition lists, keyed by their JSON, kept for up to this many distinct lists.
_CACHED_TOOLS = 1024
_SHORT_CACHE = 4096
# Texts up to LONG_TEXT characters are encoded whole; longer ones in pieces of PIECE // 2 to PIECE.
LONG_TEXT = 1 << 16
PIECE = 1 << 14
# A pretoken starts at a space followed by a non-space, and after a line break followed by a non-space other
# than "/" (o200k's punctuation pretoken takes the line breaks and slashes after it). The split patterns of
# cl100k and o200k have no look-behind, so the text before a boundary does not change the pretokens after it.
_BOUNDARY = re.compile(r" (?=\S)|\n(?=[^\s/])")


def pieces(text: str, size: int = PIECE, start: int = 0) -> Iterator[tuple[int, int, bool]]:
    """``(start, end, forced)`` of consecutive pieces of ``text`` of at most ``size`` characters, cut at
    pretoken boundaries; ``forced`` marks a piece cut inside a pretoken (no boundary in its second half).
    ``start``: the end of a piece given before, from which the same pieces follow."""
    length = len(text)
    while length - start > size:
        found = _BOUNDARY.search(text, start + size // 2, start + size)
        if found is None:
            yield start, start + size, True
            start += size
        else:
            end = found.start() if found.group() == " " else found.end()
            yield start, end, False
            start = end
    yield start, length, False


def long_text_len(encode: Callable[[str], list[int]], text: str) -> tuple[int, int]:
    """Token length of a long text encoded in :func:`pieces`, and how many pieces were cut inside a
    pretoken (0: the count is exact)."""
    total = forced = 0
    for start, end, cut in pieces(text):
        total += len(encode(text[start:end]))
        forced += cut
    return total, forced


def piece_counts(encode: Callable[[str], list[int]], text: str, size: int = PIECE,
                 whole_up_to: int = LONG_TEXT) -> Iterator[tuple[int, int]]:
    """``(tokens, UTF-8 bytes)`` of consecutive spans of ``text`` whose tokens add up to the text's count as
    the accountant takes it: a text over ``whole_up_to`` characters in its :func:`pieces`, a shorter one
    whole. The shorter text is still cut at pretoken boundaries, which keeps its count exact, until a piece
    would be cut inside a pretoken: from there on the rest (which starts at a boundary) is encoded whole. A
    caller may stop early: the spans are counted one by one."""
    for tokens, size_bytes, _, _ in _spans(encode, text, size, whole_up_to):
        yield tokens, size_bytes


def _spans(encode: Callable[[str], list[int]], text: str, size: int = PIECE,
           whole_up_to: int = LONG_TEXT) -> Iterator[tuple[int, int, int, bool]]:
    """:func:`piece_counts`' spans as ``(tokens, UTF-8 bytes, end, forced)``: where each span ends, and whether
    it was cut inside a pretoken (a cut the accountant's count of the text has too)."""
    if len(text) <= size:
        yield len(encode(text)), len(text.encode("utf-8", "surrogatepass")), len(text), False
        return
    for start, end, forced in pieces(text, size):
        if forced and len(text) <= whole_up_to:
            end, forced = len(text), False
        span = text[start:end]
        yield len(encode(span)), len(span.encode("utf-8", "surrogatepass")), end, forced
        if end == len(text):
            return


@dataclass(frozen=True, slots=True)
class ExampleTokens:
    """Tokens of one example: the total, what is trained on, and the split by role.

    ``trainable`` counts assistant messages with a weight other than 0 (and, for completions, the
    completion; for DPO, both outputs). ``tools`` is the tool definitions; ``other`` the per-example
    primer and unknown roles. ``images_estimated`` is set when an image's size had to be assumed.
    """

    total: int
    trainable: int
    system: int = 0
    user: int = 0
    assistant: int = 0
    tool: int = 0
    tools: int = 0
    other: int = 0
    images_estimated: bool = False

    def by_role(self) -> dict[str, int]:
        """Token totals per role (``tools`` = definitions, ``other`` = primer and unknown roles)."""
        return {"system": self.system, "user": self.user, "assistant": self.assistant, "tool": self.tool,
                "tools": self.tools, "other": self.other}


@dataclass(slots=True)
class Plan:
    """What to encode for one example: texts with their bucket, plus constant tokens per bucket."""

    texts: list[str] = field(default_factory=list)
    buckets: list[int] = field(default_factory=list)
    const: list[int] = field(default_factory=lambda: [0] * N_BUCKETS)
    images_estimated: bool = False

    def text(self, bucket: int, value: str) -> None:
        if value:
            self.texts.append(value)
            self.buckets.append(bucket)


# Text-length caches per tokenizer object (held here too, so that its id is never reused while cached).
Partial = tuple[int, int, int, int]
_LENGTH_CACHES: dict[int, tuple[Any, dict[int, int], bytearray, dict[int, Partial]]] = {}


def _length_cache(enc: Any) -> tuple[dict[int, int], bytearray, dict[int, Partial]]:
    """The text-length cache, sightings and counts begun span by span of tokenizer ``enc`` in this process,
    shared by its accountants."""
    entry = _LENGTH_CACHES.get(id(enc))
    if entry is None or entry[0] is not enc:
        entry = _LENGTH_CACHES[id(enc)] = (enc, {}, bytearray(_SEEN_SLOTS), {})
    return entry[1], entry[2], entry[3]


class Accountant:
    """Counts examples for one encoding and model; caches the token length of repeated strings.

    ``cache_tools`` keeps the token count of each distinct tool-definition list, keyed by its JSON: only for
    records parsed from JSON (the engine's), where equal JSON means equal definitions.
    """

    def __init__(self, enc: tiktoken.Encoding, model: ModelInfo | None = None, *, cache_tools: bool = False):
        self.enc = enc
        self.model = model
        self.func_init = _FUNC_INIT.get(enc.name, 7)
        self.image = (model.image if model is not None else None) or DEFAULT_IMAGE
        self.image_formula_known = model is not None and model.image is not None
        self.cache_tools = cache_tools
        # Pieces of long texts cut inside a pretoken, so far (see pieces()): counts may be off by as many.
        self.forced_cuts = 0
        self._reset_caches()

    def _reset_caches(self) -> None:
        # tiktoken's Rust encoder, without the wrapper's frame (the wrapper is the fallback for surrogates).
        core = getattr(self.enc, "_core_bpe", None)
        self._encode: Callable[[str], list[int]] = getattr(core, "encode_ordinary", self.enc.encode_ordinary)
        self._short: dict[str, int] = {}
        self._roles: dict[str, tuple[int, int]] = {}
        self._texts, self._seen, self._partial = _length_cache(self.enc)
        self._tools_cache: dict[tuple[bool, bytes], int] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled without the tokenizer (tiktoken would rebuild it by downloading), only its name, and
        without the caches (a worker's caches are of no use where its results are merged)."""
        state = {key: value for key, value in self.__dict__.items() if not key.startswith("_")}
        state["enc"] = self.enc.name
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.enc = get_counter(state["enc"])
        self._reset_caches()

    def text_len(self, text: str) -> int:
        """Token length of a text; the lengths of repeated texts are cached."""
        key = hash(text)
        entry = self._texts.get(key)
        if entry is not None and entry & _CHARS_MASK == len(text) & _CHARS_MASK:
            return self._cached(entry)
        n, cuts = self._len_cuts(text)
        self._sighted(key, text, n, cuts)
        return n

    def known_len(self, text: str) -> int | None:
        """The cached token length of a text, or None (nothing is encoded)."""
        entry = self._texts.get(hash(text))
        if entry is not None and entry & _CHARS_MASK == len(text) & _CHARS_MASK:
            return self._cached(entry)
        return None

    def sighted(self, text: str) -> bool:
        """Whether the text (or one of the same hash slot) was met before; marks it as met."""
        mark = hash(text) & (_SEEN_SLOTS - 1)
        seen = bool(self._seen[mark])
        self._seen[mark] = 1
        return seen

    def span_counts(self, text: str) -> Iterator[tuple[int, int]]:
        """:func:`piece_counts` of a text with this accountant's encoding: spans whose tokens add up to
        :meth:`text_len`, counted one by one. What they counted is kept: once every span is counted, the text's
        length (cached as :meth:`text_len` caches a long text); until then, where they stopped, from which a
        later :meth:`text_len` of the text goes on."""
        key = hash(text)
        tokens = cuts = 0
        for n, size, end, forced in _spans(self._safe_encode, text, PIECE, LONG_TEXT):
            tokens += n
            cuts += forced
            if end == len(text):
                self._partial.pop(key, None)
                self._keep(key, text, tokens, cuts)
            else:
                if len(self._partial) >= _PARTIAL_TEXTS and key not in self._partial:
                    self._partial.clear()
                self._partial[key] = (len(text), end, tokens, cuts)
            yield n, size

    def _cached(self, entry: int) -> int:
        """The token count of a cache entry (adding the cuts of its pieces to :attr:`forced_cuts`)."""
        cuts = entry >> _CHARS_BITS & _CUTS_MASK
        if cuts:
            self.forced_cuts += cuts
        return entry >> _COUNT_SHIFT

    def _sighted(self, key: int, text: str, n: int, cuts: int = 0) -> None:
        """Mark a text of hash ``key`` and ``n`` tokens as seen; cache its length when it was seen before."""
        mark = key & (_SEEN_SLOTS - 1)
        if not self._seen[mark]:
            self._seen[mark] = 1
            if len(text) < _EAGER_CHARS:
                return
        self._keep(key, text, n, cuts)

    def _keep(self, key: int, text: str, n: int, cuts: int) -> None:
        """Cache the length of a text of hash ``key``: ``n`` tokens, ``cuts`` pieces cut inside a pretoken."""
        if len(self._texts) >= _CACHED_TEXTS:
            # Full: start over, forgetting the sightings too (they only accumulate, so false positives grow).
            self._texts.clear()
            self._seen[:] = bytes(_SEEN_SLOTS)
        self._texts[key] = n << _COUNT_SHIFT | cuts << _CHARS_BITS | (len(text) & _CHARS_MASK)

    def _len(self, text: str) -> int:
        """Token length of a text (a long one in pieces)."""
        return self._len_cuts(text)[0]

    def _len_cuts(self, text: str) -> tuple[int, int]:
        """Token length of a text (a long one in pieces), and how many pieces were cut inside a pretoken
        (added to :attr:`forced_cuts` too). A count :meth:`span_counts` began goes on from where it stopped."""
        if len(text) > PIECE and self._partial:
            begun = self._partial.pop(hash(text), None)
            if begun is not None and begun[0] == len(text):
                _, start, n, forced = begun
                if len(text) > LONG_TEXT:  # the pieces that follow the counted ones
                    for a, b, cut in pieces(text, PIECE, start):
                        n += len(self._safe_encode(text[a:b]))
                        forced += cut
                else:  # encoded whole, as the accountant encodes it: the rest starts at a pretoken boundary
                    n += len(self._safe_encode(text[start:]))
                self.forced_cuts += forced
                return n, forced
        if len(text) > LONG_TEXT:
            n, forced = long_text_len(self._safe_encode, text)
            self.forced_cuts += forced
            return n, forced
        return len(self._safe_encode(text)), 0

    def _safe_encode(self, text: str) -> list[int]:
        try:
            return self._encode(text)
        except UnicodeEncodeError:  # lone surrogates: the wrapper's fix-up
            return self.enc.encode_ordinary(text)

    def short_len(self, value: str) -> int:
        """Token length of a role or name: few distinct values, so cached."""
        n = self._short.get(value)
        if n is None:
            n = self._len(value)
            if len(self._short) < _SHORT_CACHE:
                self._short[value] = n
        return n

    def _role(self, role: str) -> tuple[int, int]:
        """Bucket of a role and the constant tokens of a message with it (3 + tokens of the role)."""
        info = (_ROLE_BUCKET.get(role, OTHER), TOKENS_PER_MESSAGE + self.short_len(role))
        if len(self._roles) < _SHORT_CACHE:
            self._roles[role] = info
        return info

    # -- counting as the record is walked ---------------------------------------------------------

    def tally(self, record: Any, kind: str) -> tuple[list[int], bool]:
        """Tokens per bucket of a record of ``kind`` and whether an image size was assumed; never raises.

        The same walk as :meth:`plan` followed by :meth:`finish`, encoding each text as it is met.
        """
        sums = [0] * N_BUCKETS
        return sums, self.tally_into(sums, record, kind)

    def tally_into(self, sums: list[int], record: Any, kind: str) -> bool:
        """:meth:`tally`, adding the record's tokens per bucket to ``sums`` (running totals, say); whether an image
        size was assumed."""
        images = False
        if not isinstance(record, dict):
            return images
        if kind == "chat":  # _tally_chat, inlined: the common case
            messages = record.get("messages")
            if isinstance(messages, list):
                images = self._tally_messages(sums, messages, False)
            if "tools" in record or "functions" in record:
                self._tally_tools(sums, record)
            sums[OTHER] += REPLY_PRIMER
        elif kind == "completion":
            prompt, completion = record.get("prompt"), record.get("completion")
            if isinstance(prompt, str) and prompt:
                sums[USER] += self.text_len(prompt)
            if isinstance(completion, str) and completion:
                sums[ASSISTANT] += self.text_len(completion)
        elif kind == "preference":
            source = record.get("input")
            images = self._tally_chat(sums, source if isinstance(source, dict) else {})
            for key in ("preferred_output", "non_preferred_output"):
                outputs = record.get(key)
                if isinstance(outputs, list):
                    images |= self._tally_messages(sums, outputs, True)
        else:
            images = self._tally_chat(sums, record)
        return images

    def _tally_chat(self, sums: list[int], record: dict[str, Any]) -> bool:
        messages = record.get("messages")
        images = self._tally_messages(sums, messages, False) if isinstance(messages, list) else False
        self._tally_tools(sums, record)
        sums[OTHER] += REPLY_PRIMER
        return images

    def _tally_tools(self, sums: list[int], record: dict[str, Any]) -> None:
        tools = record.get("tools")
        if isinstance(tools, list):
            sums[TOOLS_DEF] += self._tools_tokens(tools, True)
        functions = record.get("functions")
        if isinstance(functions, list):
            sums[TOOLS_DEF] += self._tools_tokens(functions, False)

    def _tally_messages(self, sums: list[int], messages: list[Any], force_trainable: bool) -> bool:
        """Add the tokens of ``messages`` to ``sums``; whether an image size was assumed (see :meth:`_message`)."""
        cached = self._texts.get
        encode = self._encode
        seen = self._seen
        mask = _SEEN_SLOTS - 1
        roles = self._roles
        images = False
        for message in messages:
            if not isinstance(message, dict):
                continue
            role = message.get("role")
            content = message.get("content")
            if isinstance(role, str):
                bucket, n = roles.get(role) or self._role(role)
            else:
                bucket, n = OTHER, TOKENS_PER_MESSAGE
            # Most messages hold a role and a content and nothing else: no weight, name or calls to look up.
            if role is None or content is None or len(message) != 2:
                if bucket == ASSISTANT and not force_trainable and message.get("weight", 1) == 0:
                    bucket = ASSISTANT_UNTRAINED
                name = message.get("name")
                if isinstance(name, str):
                    n += TOKENS_PER_NAME + self.short_len(name)
                calls = message.get("tool_calls")
                if calls:
                    n += self.text_len(json_text(calls))
                calls = message.get("function_call")
                if calls:
                    n += self.text_len(json_text(calls))
            if isinstance(content, str):
                if content:
                    key = hash(content)
                    entry = cached(key)
                    if entry is not None and entry & _CHARS_MASK == len(content) & _CHARS_MASK:
                        length = entry >> _COUNT_SHIFT  # _cached, inlined
                        if entry >> _CHARS_BITS & _CUTS_MASK:
                            self.forced_cuts += entry >> _CHARS_BITS & _CUTS_MASK
                    else:  # _len_cuts and _sighted, inlined: most texts are met once
                        cuts = 0
                        if len(content) > PIECE:  # in pieces, or a count span_counts began
                            length, cuts = self._len_cuts(content)
                        else:
                            try:
                                length = len(encode(content))
                            except UnicodeEncodeError:
                                length = len(self.enc.encode_ordinary(content))
                        mark = key & mask
                        if seen[mark] or len(content) >= _EAGER_CHARS:
                            self._sighted(key, content, length, cuts)
                        else:
                            seen[mark] = 1
                    n += length
            elif isinstance(content, list):
                for part in content:
                    if not isinstance(part, dict):
                        continue
                    text = part.get("text")
                    if isinstance(text, str) and text:
                        n += self.text_len(text)
                    image = part.get("image_url")
                    if isinstance(image, dict):
                        tokens, estimated = self.image_tokens(image.get("url"), image.get("detail"))
                        n += tokens
                        images |= estimated
            sums[bucket] += n
        return images

    def _tools_tokens(self, value: list[Any], wrapped: bool) -> int:
        """Tokens of a ``tools`` list (``wrapped``: entries hold a ``function``) or a ``functions`` list."""
        key = None
        if self.cache_tools:
            try:
                key = (wrapped, orjson.dumps(value))
            except TypeError:  # integers beyond 64 bits
                pass
            else:
                n = self._tools_cache.get(key)
                if n is not None:
                    return n
        plan = Plan()
        self._tools(plan, [t.get("function") if isinstance(t, dict) else None for t in value] if wrapped else value)
        n = plan.const[TOOLS_DEF] + sum(self.text_len(text) for text in plan.texts)
        if key is not None and len(self._tools_cache) < _CACHED_TOOLS:
            self._tools_cache[key] = n
        return n

    # -- planning ---------------------------------------------------------------------------------

    def plan(self, record: Any, kind: str) -> Plan:
        """Walk a record of ``kind`` (chat, completion, preference) into a :class:`Plan`; never raises."""
        plan = Plan()
        if not isinstance(record, dict):
            return plan
        if kind == "completion":
            prompt, completion = record.get("prompt"), record.get("completion")
            if isinstance(prompt, str):
                plan.text(USER, prompt)
            if isinstance(completion, str):
                plan.text(ASSISTANT, completion)
        elif kind == "preference":
            source = record.get("input")
            self._chat(plan, source if isinstance(source, dict) else {})
            for key in ("preferred_output", "non_preferred_output"):
                outputs = record.get(key)
                if isinstance(outputs, list):
                    for message in outputs:
                        self._message(plan, message, force_trainable=True)
        else:
            self._chat(plan, record)
        return plan

    def _chat(self, plan: Plan, record: dict[str, Any]) -> None:
        messages = record.get("messages")
        if isinstance(messages, list):
            for message in messages:
                self._message(plan, message)
        tools = record.get("tools")
        if isinstance(tools, list):
            self._tools(plan, [t.get("function") if isinstance(t, dict) else None for t in tools])
        functions = record.get("functions")
        if isinstance(functions, list):
            self._tools(plan, functions)
        plan.const[OTHER] += REPLY_PRIMER

    def _message(self, plan: Plan, message: Any, *, force_trainable: bool = False) -> None:
        if not isinstance(message, dict):
            return
        role = message.get("role")
        bucket = _ROLE_BUCKET.get(role, OTHER) if isinstance(role, str) else OTHER
        if bucket == ASSISTANT and not force_trainable and message.get("weight", 1) == 0:
            bucket = ASSISTANT_UNTRAINED
        plan.const[bucket] += TOKENS_PER_MESSAGE + (self.short_len(role) if isinstance(role, str) else 0)
        name = message.get("name")
        if isinstance(name, str):
            plan.const[bucket] += TOKENS_PER_NAME + self.short_len(name)
        self._content(plan, bucket, message.get("content"))
        for key in ("tool_calls", "function_call"):
            calls = message.get(key)
            if calls:
                plan.text(bucket, json_text(calls))

    def _content(self, plan: Plan, bucket: int, content: Any) -> None:
        if isinstance(content, str):
            plan.text(bucket, content)
            return
        if not isinstance(content, list):
            return
        for part in content:
            if not isinstance(part, dict):
                continue
            text = part.get("text")
            if isinstance(text, str):
                plan.text(bucket, text)
            image = part.get("image_url")
            if isinstance(image, dict):
                tokens, estimated = self.image_tokens(image.get("url"), image.get("detail"))
                plan.const[bucket] += tokens
                plan.images_estimated |= estimated

    def _tools(self, plan: Plan, functions: Sequence[Any]) -> None:
        counted = False
        for function in functions:
            if not isinstance(function, dict):
                continue
            counted = True
            plan.const[TOOLS_DEF] += self.func_init
            name = _as_text(function.get("name"))
            description = _as_text(function.get("description")).removesuffix(".")
            plan.text(TOOLS_DEF, f"{name}:{description}")
            parameters = function.get("parameters")
            properties = parameters.get("properties") if isinstance(parameters, dict) else None
            if not isinstance(properties, dict) or not properties:
                continue
            plan.const[TOOLS_DEF] += PROP_INIT
            for key, spec in properties.items():
                plan.const[TOOLS_DEF] += PROP_KEY
                spec = spec if isinstance(spec, dict) else {}
                enum = spec.get("enum")
                if isinstance(enum, list):
                    plan.const[TOOLS_DEF] += ENUM_INIT
                    for item in enum:
                        plan.const[TOOLS_DEF] += ENUM_ITEM
                        plan.text(TOOLS_DEF, _as_text(item))
                p_desc = _as_text(spec.get("description")).removesuffix(".")
                plan.text(TOOLS_DEF, f"{key}:{_as_text(spec.get('type'))}:{p_desc}")
        if counted:
            plan.const[TOOLS_DEF] += FUNC_END

    # -- images -----------------------------------------------------------------------------------

    def image_tokens(self, url: Any, detail: Any) -> tuple[int, bool]:
        """Tokens of one image and whether its size was assumed (remote URL, unreadable data URL)."""
        formula = self.image
        estimated = not self.image_formula_known
        if formula.kind == "tiles" and detail == "low":
            return formula.base, estimated
        size = data_url_size(url) if isinstance(url, str) else None
        if size is None:
            size, estimated = ASSUMED_REMOTE_SIZE, True
        return image_formula_tokens(formula, *size), estimated

    # -- encoding ---------------------------------------------------------------------------------

    def finish(self, plan: Plan, lengths: Sequence[int]) -> ExampleTokens:
        """Combine a plan with the token lengths of its texts."""
        sums = list(plan.const)
        for bucket, n in zip(plan.buckets, lengths, strict=True):
            sums[bucket] += n
        return example_tokens(sums, plan.images_estimated)

    def count(self, record: Any, kind: str) -> ExampleTokens:
        """Count one example (texts encoded one by one)."""
        return example_tokens(*self.tally(record, kind))

    def count_many(self, items: Sequence[tuple[Any, str]], num_threads: int = 8) -> list[ExampleTokens]:
        """Count many ``(record, kind)`` examples with one ``encode_ordinary_batch`` call."""
        if num_threads <= 1:  # no thread pool for one thread
            return [self.count(record, kind) for record, kind in items]
        plans = [self.plan(record, kind) for record, kind in items]
        texts = [t for plan in plans for t in plan.texts]
        short = [t for t in texts if len(t) <= LONG_TEXT]
        counted = iter([len(ids) for ids in self.enc.encode_ordinary_batch(short, num_threads=num_threads)])
        lengths = [next(counted) if len(t) <= LONG_TEXT else self._len(t) for t in texts]
        out: list[ExampleTokens] = []
        start = 0
        for plan in plans:
            end = start + len(plan.texts)
            out.append(self.finish(plan, lengths[start:end]))
            start = end
        return out


def example_tokens(sums: Sequence[int], images_estimated: bool = False) -> ExampleTokens:
    """An example's tokens from its sums per bucket."""
    return ExampleTokens(
        total=sum(sums), trainable=sums[ASSISTANT], system=sums[SYSTEM], user=sums[USER],
        assistant=sums[ASSISTANT] + sums[ASSISTANT_UNTRAINED], tool=sums[TOOL], tools=sums[TOOLS_DEF],
        other=sums[OTHER], images_estimated=images_estimated,
    )


def count_example(record: Any, kind: str, enc: tiktoken.Encoding, *,
                  model: ModelInfo | None = None) -> ExampleTokens:
    """Tokens of one example of ``kind`` (``chat``, ``completion``, ``preference``); never raises."""
    return Accountant(enc, model).count(record, kind)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json_text(value) if isinstance(value, (list, dict)) else str(value)


def json_text(value: Any) -> str:
    """Compact JSON of a parsed value (orjson; the standard library for integers beyond 64 bits)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def data_url_size(url: str) -> tuple[int, int] | None:
    """Width and height of a ``data:image/...;base64,`` image read from its header, or None."""
    if not url.startswith("data:"):
        return None
    head, _, payload = url.partition(",")
    if ";base64" not in head:
        return None
    from PIL import Image, UnidentifiedImageError  # imported for the first embedded image (start-up time)

    for chunk in (payload[: _HEADER_B64 - _HEADER_B64 % 4], payload):
        try:
            raw = base64.b64decode(chunk + "=" * (-len(chunk) % 4))
            with Image.open(io.BytesIO(raw)) as image:
                width, height = image.size
            if width > 0 and height > 0:
                return width, height
        except (binascii.Error, UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
            pass
        if len(chunk) == len(payload):
            break
    return None


def image_formula_tokens(formula: ImageFormula, width: int, height: int) -> int:
    """Tokens of a ``width`` x ``height`` image at high detail under ``formula`` (OpenAI vision costs)."""
    if formula.kind == "tiles":
        # Fit in 2048x2048, then scale the shortest side down to 768, then count 512px tiles.
        w, h = float(width), float(height)
        if max(w, h) > 2048:
            scale = 2048 / max(w, h)
            w, h = w * scale, h * scale
        if min(w, h) > 768:
            scale = 768 / min(w, h)
            w, h = w * scale, h * scale
        tiles = math.ceil(w / 512) * math.ceil(h / 512)
        return formula.base + formula.tile * tiles
    # Patches: 32px patches, at most 1536; a larger image is scaled down to fit whole patches.
    patches = math.ceil(width / 32) * math.ceil(height / 32)
    if patches > 1536:
        shrink = math.sqrt(32 * 32 * 1536 / (width * height))
        w, h = width * shrink, height * shrink
        shrink *= min(math.floor(w / 32) / (w / 32), math.floor(h / 32) / (h / 32))
        patches = min(1536, math.ceil(int(width * shrink) / 32) * math.ceil(int(height * shrink) / 32))
    return int(patches * formula.multiplier)

"""The token-limit test decides "over the limit" exactly while tokenizing as little as it can."""

from __future__ import annotations

import base64
import io
import itertools
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ftprep.data.models import resolve_model
from ftprep.lint.context import RecordContext
from ftprep.rules import tokens as token_rules
from ftprep.tokens.accounting import LONG_TEXT, PIECE, Accountant, long_text_len, piece_counts, pieces
from ftprep.tokens.encoding import SPECS, get_encoding, load_ranks
from ftprep.tokens.limits import byte_bound, tokens_over
from tests.unit.tokens.test_accounting import VARIED
from tests.unit.tokens.test_long_texts import ATOMS

MODELS = [resolve_model("gpt-4o-mini"), resolve_model("gpt-3.5-turbo")]  # o200k_base, cl100k_base


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_token_encode_ordinary_gives_holds_at_least_one_byte(name: str) -> None:
    # The bound's premise: a text has at most as many tokens as UTF-8 bytes.
    assert min(len(token) for token in load_ranks(name)) >= 1
    enc = get_encoding(name)
    specials = set(SPECS[name][2].values())
    text = "".join(SPECS[name][2])  # special-token text is encoded as ordinary text, never as a special token
    ids = enc.encode_ordinary(text)
    assert not specials & set(ids) and len(ids) <= len(text.encode())


def png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 10)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


DATA_URL = png_data_url(900, 300)
SHORT = st.one_of(st.text(max_size=40), st.lists(st.sampled_from(ATOMS), max_size=60).map("".join))
# Long texts: encoded span by span (over 4,096 characters), in pieces (over 65,536), runs without a space.
LONG = st.tuples(st.lists(st.sampled_from([*ATOMS, "word ", "x" * 9000]), min_size=1, max_size=4),
                 st.integers(400, 9000)).map(lambda t: ("".join(t[0]) * (t[1] * 10 // len("".join(t[0])) + 1)))
TEXTS = st.one_of(SHORT, SHORT, SHORT, LONG)
PART = st.one_of(
    st.builds(lambda t: {"type": "text", "text": t}, TEXTS),
    st.builds(lambda url, detail: {"type": "image_url", "image_url": {"url": url} | detail},
              st.sampled_from(["https://example.com/a.png", DATA_URL, "data:image/png;base64,broken"]),
              st.sampled_from([{}, {"detail": "low"}, {"detail": "high"}])),
)
CALLS = st.lists(st.builds(lambda name, args: {"id": "c", "type": "function",
                                               "function": {"name": name, "arguments": args}},
                           st.text(max_size=10), TEXTS), min_size=1, max_size=2)
MESSAGE = st.builds(
    lambda role, content, name, calls: {"role": role, "content": content} | name | calls,
    st.sampled_from(["system", "user", "assistant", "tool", "developer", "narrator"]),
    st.one_of(TEXTS, st.lists(PART, max_size=3), st.none()),
    st.one_of(st.just({}), st.builds(lambda n: {"name": n}, st.text(max_size=8))),
    st.one_of(st.just({}), st.builds(lambda c: {"tool_calls": c}, CALLS)),
)
TOOL = st.builds(
    lambda name, description, enum: {"type": "function", "function": {
        "name": name, "description": description,
        "parameters": {"type": "object", "properties": {"unit": {"type": "string", "description": "u.",
                                                                 "enum": enum}}}}},
    st.text(max_size=10), TEXTS, st.lists(st.one_of(st.text(max_size=5), st.integers(), st.floats(0, 1e20)),
                                          max_size=4))
CHAT = st.builds(lambda messages, tools: {"messages": messages} | tools, st.lists(MESSAGE, max_size=5),
                 st.one_of(st.just({}), st.builds(lambda t: {"tools": t}, st.lists(TOOL, min_size=1, max_size=2))))
RECORDS = st.one_of(
    st.tuples(CHAT, st.just("chat")),
    st.tuples(st.builds(lambda p, c: {"prompt": p, "completion": c}, TEXTS, TEXTS), st.just("completion")),
    st.tuples(st.builds(lambda i, a, b: {"input": i, "preferred_output": a, "non_preferred_output": b},
                        CHAT, st.lists(MESSAGE, max_size=2), st.lists(MESSAGE, max_size=2)), st.just("preference")),
)


def check_decision(record: Any, kind: str, accountant: Accountant) -> None:
    model = accountant.model
    assert model is not None
    bound = byte_bound(model)
    assert bound is not None
    total = accountant.count(record, kind).total
    assert bound.count(record, kind).total >= total
    for limit in sorted({0, total // 2, total - 1, total, total + 1, total * 2}):
        expected = total if total > limit else None
        assert tokens_over(record, kind, limit, bound, lambda: accountant) == expected, (limit, record)


@given(RECORDS)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_the_decision_is_the_exact_count_s(item: tuple[Any, str]) -> None:
    record, kind = item
    for model in MODELS:
        # A fresh accountant, and one whose caches already hold the texts (counted whole, then met again).
        check_decision(record, kind, Accountant(get_encoding(model.encoding), model))
        shared = Accountant(get_encoding(model.encoding), model)
        for _ in range(3):
            check_decision(record, kind, shared)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.encoding)
def test_the_decision_is_the_exact_count_on_odd_records(model: Any) -> None:
    for record, kind in VARIED:
        check_decision(record, kind, Accountant(get_encoding(model.encoding), model))


@given(st.lists(st.sampled_from(ATOMS), min_size=1, max_size=200), st.sampled_from([3, 4, 7, 16, 50]))
@settings(max_examples=300, deadline=None)
def test_spans_add_up_to_the_accountants_count(atoms: list[str], size: int) -> None:
    text = "".join(atoms)
    for name in sorted(SPECS):
        encode = get_encoding(name).encode_ordinary
        # Encoded whole by the accountant: the spans (cut at boundaries, then the rest whole) add up exactly.
        spans = list(piece_counts(encode, text, size, whole_up_to=len(text)))
        assert sum(n for n, _ in spans) == len(encode(text))
        assert sum(b for _, b in spans) == len(text.encode("utf-8", "surrogatepass"))
        # Counted in pieces by the accountant: the spans are those pieces.
        spans = list(piece_counts(encode, text, size, whole_up_to=0))
        assert sum(n for n, _ in spans) == sum(len(encode(text[a:b])) for a, b, _ in pieces(text, size))


def findings(record: dict[str, Any], model: str = "gpt-4o-mini") -> list[Any]:
    raw = orjson.dumps(record)
    ctx = RecordContext(path="t.jsonl", enabled=frozenset({"FT400"}), method="supervised", model=model)
    ctx.at(1)
    ctx.raw = raw
    token_rules.check_token_limit(record, ctx)
    return ctx.findings


@pytest.fixture
def no_tokenizer(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> None:
        raise AssertionError("built a tokenizer")

    monkeypatch.setattr(token_rules, "get_counter", refuse)
    token_rules._accountant.cache_clear()
    token_rules._bound.cache_clear()


@pytest.mark.usefixtures("no_tokenizer")
def test_rows_with_images_are_bounded_without_a_tokenizer() -> None:
    content = [{"type": "text", "text": "What is in these pictures?"},
               *({"type": "image_url", "image_url": {"url": url}} for url in ("https://example.com/a.png", DATA_URL))]
    assert findings({"messages": [{"role": "user", "content": content},
                                  {"role": "assistant", "content": "Two red squares."}]}) == []


@pytest.mark.usefixtures("no_tokenizer")
def test_a_long_row_under_the_limit_in_bytes_needs_no_tokenizer() -> None:
    text = "\u6771\u4eac" * 10_000  # 60,000 bytes: the line may be over 65,536 tokens by the line test alone
    assert findings({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]}) == []


@pytest.fixture
def encoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The lengths of the texts the accountants encode from here on."""
    lengths: list[int] = []
    original = Accountant._safe_encode

    def counting(self: Accountant, text: str) -> list[int]:
        lengths.append(len(text))
        return original(self, text)

    monkeypatch.setattr(Accountant, "_safe_encode", counting)
    return lengths


def test_a_long_row_is_tokenized_only_as_far_as_it_takes(encoded: list[int]) -> None:
    text = "The parties agree that the clause applies. " * 1_900  # 81,700 bytes, about 15,200 tokens
    assert findings({"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]}) == []
    assert 0 < sum(encoded) < len(text) // 2


def test_a_long_text_met_again_is_counted_once_whole_then_cached(encoded: list[int]) -> None:
    token_rules._accountant.cache_clear()
    system = "Read the agreement below and answer with the clause number. " * 1_200  # 74,400 bytes
    for question in ("first?", "second?", "third?"):
        encoded.clear()
        assert findings({"messages": [{"role": "system", "content": system}, {"role": "user", "content": question},
                                      {"role": "assistant", "content": "ok"}]}) == []
        spent = sum(encoded)
    assert spent < len(system) // 100  # the third time: the system text's count comes from the cache


@pytest.mark.parametrize("model", ["gpt-3.5-turbo-0613", "gpt-4o-mini"])
def test_an_example_over_the_limit_gets_its_exact_count(model: str) -> None:
    text = "word " * 70_000  # 70,000 tokens in both encodings; over both limits
    record = {"messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": text},
                           {"role": "assistant", "content": "Done."}]}
    info = resolve_model(model)
    total = Accountant(get_encoding(info.encoding), info).count(record, "chat").total
    [finding] = findings(record, model)
    assert finding.message.startswith(f"example has {total:,} tokens, {total - info.max_tokens:,} over")
    assert finding.pointer == "/messages/1"


@given(st.lists(st.sampled_from([*ATOMS, "word ", "x" * 9000]), min_size=1, max_size=30),
       st.integers(PIECE + 1, 150_000), st.integers(0, 12))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
def test_a_count_begun_span_by_span_goes_on_where_it_stopped(atoms: list[str], length: int, stop: int) -> None:
    """The token-limit rule stops counting a text's spans once the example fits; a later count of the text (the
    collector of `estimate`) encodes only the rest, and gives exactly the count and cuts of a fresh count."""
    import ftprep.tokens.accounting as accounting

    unit = "".join(atoms)
    text = (unit * (length // len(unit) + 1))[:length]
    for name in sorted(SPECS):
        enc = get_encoding(name)
        expected = long_text_len(enc.encode_ordinary, text) if len(text) > LONG_TEXT else (
            len(enc.encode_ordinary(text)), 0)
        accounting._LENGTH_CACHES.clear()  # fresh caches for this tokenizer (they only ever save time)
        rule, collector = Accountant(enc), Accountant(enc)
        encoded: list[int] = []
        for accountant in (rule, collector):
            accountant._encode = lambda t, e=enc, seen=encoded: seen.append(len(t)) or e.encode_ordinary(t)
        spans = list(itertools.islice(rule.span_counts(text), stop))
        assert sum(size for _, size in spans) <= len(text.encode("utf-8", "surrogatepass"))
        assert (collector.text_len(text), collector.forced_cuts) == expected, (name, stop)
        assert sum(encoded) == len(text)  # every character encoded once, by the rule or by the collector
        encoded.clear()
        assert (collector.text_len(text), collector.forced_cuts) == (expected[0], 2 * expected[1])  # now cached
        assert encoded == []


def test_the_collector_goes_on_from_the_spans_the_limit_rule_counted(encoded: list[int],
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    import ftprep.tokens.accounting as accounting

    text = "The parties agree that the clause applies. " * 1_900  # 81,700 bytes, about 15,200 tokens
    record = {"messages": [{"role": "user", "content": text}, {"role": "assistant", "content": "ok"}]}
    model = resolve_model("gpt-4o-mini")
    monkeypatch.setattr(accounting, "_LENGTH_CACHES", {})
    expected = Accountant(get_encoding(model.encoding), model).count(record, "chat")
    monkeypatch.setattr(accounting, "_LENGTH_CACHES", {})
    token_rules._accountant.cache_clear()
    encoded.clear()
    assert findings(record) == []
    by_rule = sum(encoded)
    assert 0 < by_rule < len(text)
    assert Accountant(get_encoding(model.encoding), model).count(record, "chat") == expected
    assert sum(n for n in encoded if n > 100) == len(text)  # the collector encoded only what the rule had not

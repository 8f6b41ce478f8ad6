"""Per-example token accounting against the published conventions, with the real encodings."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any

import pytest
import tiktoken
from PIL import Image

from ftprep.data.models import ImageFormula, resolve_model
from ftprep.tokens.accounting import Accountant, count_example, data_url_size, image_formula_tokens
from ftprep.tokens.encoding import get_encoding

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"
TOY = CORPUS / "openai-cookbook" / "toy_chat_fine_tuning.jsonl"
CL100K = get_encoding("cl100k_base")
O200K = get_encoding("o200k_base")


def cookbook_num_tokens_from_messages(messages: list[dict[str, str]], enc: tiktoken.Encoding) -> int:
    """The cookbook's convention, written out independently: 3 per message, +1 per name, +3 per example."""
    total = 0
    for message in messages:
        total += 3
        for key, value in message.items():
            total += len(enc.encode(value))
            if key == "name":
                total += 1
    return total + 3


def cookbook_num_tokens_for_tools(functions: list[dict[str, Any]], enc: tiktoken.Encoding,
                                  func_init: int) -> int:
    """The cookbook's function-definition formula (num_tokens_for_tools), without its messages part."""
    count = 0
    for f in functions:
        count += func_init
        function = f["function"]
        count += len(enc.encode(function["name"] + ":" + function["description"].removesuffix(".")))
        properties = function["parameters"]["properties"]
        if properties:
            count += 3
            for key, spec in properties.items():
                count += 3
                if "enum" in spec:
                    count += -3
                    for item in spec["enum"]:
                        count += 3 + len(enc.encode(item))
                count += len(enc.encode(f"{key}:{spec['type']}:{spec['description'].removesuffix('.')}"))
    return count + 12 if functions else count


def msg(role: str, content: Any, **extra: Any) -> dict[str, Any]:
    return {"role": role, "content": content, **extra}


@pytest.mark.corpus
@pytest.mark.skipif(not TOY.exists(), reason="corpus not present")
def test_toy_chat_totals_equal_cookbook_convention() -> None:
    records = [json.loads(line) for line in TOY.read_text().splitlines()]
    model = resolve_model("gpt-3.5-turbo")
    ours = [count_example(r, "chat", CL100K, model=model).total for r in records]
    assert ours == [cookbook_num_tokens_from_messages(r["messages"], CL100K) for r in records]
    # The cookbook notebook "Data preparation and analysis for chat model fine-tuning" prints
    # min 26 / max 8032 for this file.
    assert ours == [45, 111, 26, 28, 8032]


def test_chat_message_accounting_by_hand() -> None:
    record = {"messages": [msg("system", "You are terse."), msg("user", "hello world"),
                           msg("assistant", "hi")]}
    tokens = count_example(record, "chat", CL100K)
    expected_system = 3 + 1 + len(CL100K.encode("You are terse."))
    assert (tokens.system, tokens.user, tokens.assistant) == (expected_system, 3 + 1 + 2, 3 + 1 + 1)
    assert tokens.total == tokens.system + tokens.user + tokens.assistant + 3
    assert tokens.trainable == tokens.assistant


def test_name_adds_one_plus_its_tokens() -> None:
    plain = count_example({"messages": [msg("user", "x")]}, "chat", CL100K).total
    named = count_example({"messages": [msg("user", "x", name="bob")]}, "chat", CL100K).total
    assert named - plain == 1 + len(CL100K.encode("bob"))


def test_weight_zero_assistant_is_billed_but_not_trained() -> None:
    record = {"messages": [msg("user", "q"), msg("assistant", "a", weight=0),
                           msg("assistant", "b", weight=1)]}
    tokens = count_example(record, "chat", O200K)
    assert tokens.assistant == 2 * (3 + 1 + 1)
    assert tokens.trainable == 3 + 1 + 1


def test_tool_calls_count_as_serialised_json() -> None:
    calls = [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\": 1}"}}]
    record = {"messages": [msg("user", "q"), {"role": "assistant", "tool_calls": calls}]}
    tokens = count_example(record, "chat", O200K)
    serialised = '[{"id":"c1","type":"function","function":{"name":"f","arguments":"{\\"a\\": 1}"}}]'
    assert tokens.assistant == 3 + 1 + len(O200K.encode(serialised))


TOOLS = [{"type": "function", "function": {
    "name": "get_current_weather", "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
        "unit": {"type": "string", "description": "The unit of temperature to return",
                 "enum": ["celsius", "fahrenheit"]}},
        "required": ["location"]}}}]


@pytest.mark.parametrize(("enc", "func_init", "pinned"), [(O200K, 7, 68), (CL100K, 10, 71)])
def test_tool_definitions_follow_cookbook_formula(enc: tiktoken.Encoding, func_init: int,
                                                  pinned: int) -> None:
    record = {"messages": [msg("user", "What's the weather like in San Francisco?")], "tools": TOOLS}
    tokens = count_example(record, "chat", enc)
    assert tokens.tools == cookbook_num_tokens_for_tools(TOOLS, enc, func_init) == pinned


def test_completion_is_prompt_plus_completion() -> None:
    tokens = count_example({"prompt": "hello world", "completion": " hi"}, "completion", CL100K)
    assert (tokens.total, tokens.trainable) == (3, 1)


def test_preference_counts_input_and_both_outputs() -> None:
    record = {"input": {"messages": [msg("user", "q")]},
              "preferred_output": [msg("assistant", "yes")], "non_preferred_output": [msg("assistant", "no")]}
    tokens = count_example(record, "preference", O200K)
    assert tokens.total == (3 + 1 + 1) + 3 + 2 * (3 + 1 + 1)
    assert tokens.trainable == 2 * (3 + 1 + 1)


@pytest.mark.parametrize("record", [
    None, [], "text", {"messages": "nope"}, {"messages": [1, None, {"role": 5, "content": {"x": 1}}]},
    {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": 7}}, "x"]}]},
    {"tools": [{"function": {"name": None, "parameters": {"properties": {"a": 3}}}}, 4]},
    {"messages": [{"role": "assistant", "tool_calls": [{"n": 2**70}]}]},
])
def test_malformed_records_never_raise(record: Any) -> None:
    assert count_example(record, "chat", O200K).total >= 0


@pytest.mark.parametrize(("size", "expected"), [((1024, 1024), 765), ((2048, 4096), 1105), ((600, 400), 425)])
def test_tile_formula_examples(size: tuple[int, int], expected: int) -> None:
    assert image_formula_tokens(ImageFormula(kind="tiles", base=85, tile=170), *size) == expected


@pytest.mark.parametrize(("size", "multiplier", "expected"), [
    ((1024, 1024), 1.62, 1658), ((1800, 2400), 1.0, 1452), ((100, 100), 2.46, 39),
])
def test_patch_formula_examples(size: tuple[int, int], multiplier: float, expected: int) -> None:
    assert image_formula_tokens(ImageFormula(kind="patches", multiplier=multiplier), *size) == expected


def png_data_url(width: int, height: int) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 10, 10)).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def image_record(url: str, detail: str | None = None) -> dict[str, Any]:
    image: dict[str, Any] = {"url": url} | ({"detail": detail} if detail else {})
    return {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": image}]}]}


def test_data_url_size_from_header() -> None:
    assert data_url_size(png_data_url(600, 400)) == (600, 400)


def test_data_url_image_is_exact_for_gpt_4o() -> None:
    tokens = count_example(image_record(png_data_url(600, 400)), "chat", O200K, model=resolve_model("gpt-4o"))
    assert (tokens.user, tokens.images_estimated) == (3 + 1 + 425, False)


def test_remote_image_is_estimated() -> None:
    tokens = count_example(image_record("https://example.com/cat.png"), "chat", O200K,
                           model=resolve_model("gpt-4o"))
    assert (tokens.user, tokens.images_estimated) == (3 + 1 + 765, True)


def test_low_detail_tile_image_is_base_only() -> None:
    tokens = count_example(image_record("https://example.com/cat.png", "low"), "chat", O200K,
                           model=resolve_model("gpt-4o"))
    assert (tokens.user, tokens.images_estimated) == (3 + 1 + 85, False)


def test_count_many_equals_count_one_by_one() -> None:
    records = [({"messages": [msg("user", f"question {i} " * i), msg("assistant", "ok")]}, "chat")
               for i in range(50)] + [({"prompt": "p", "completion": "c"}, "completion")]
    accountant = Accountant(O200K)
    assert accountant.count_many(records) == [accountant.count(r, k) for r, k in records]


SYSTEM_PROMPT = "You are a careful assistant. " * 20  # longer than any short-text limit: repeats are cached too
VARIED: list[tuple[Any, str]] = [
    ({"messages": [msg("system", SYSTEM_PROMPT), msg("user", "hello <|endoftext|> world"),
                   msg("assistant", "a", weight=0), msg("assistant", "b", weight=0.0),
                   msg("assistant", "c", weight=False), msg("assistant", "d", weight=1, name="bot")],
      "tools": TOOLS}, "chat"),
    ({"messages": [msg("system", SYSTEM_PROMPT), msg("user", "caf\u00e9 \u6771\u4eac \ud800 lone surrogate"),
                   {"role": "assistant", "content": None, "tool_calls": [{"id": "c", "function": {"name": "f"}}]},
                   msg("tool", '{"status": "shipped"}', tool_call_id="c"),
                   {"role": "assistant", "function_call": {"name": "g", "arguments": "{}"}},
                   msg("function", "42", name="g"), msg("developer", "dev"), msg("narrator", "odd role"),
                   {"role": 5, "content": "numeric role"}, {"content": "no role"}, 7, None]}, "chat"),
    ({"messages": [msg("user", [{"type": "text", "text": "look"}, {"type": "text", "text": ""}, "bad",
                                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                                {"type": "image_url", "image_url": {"url": "x", "detail": "low"}}])],
      "functions": [TOOLS[0]["function"], "not a function"]}, "chat"),
    ({"messages": "nope", "tools": [{"function": {"name": None, "parameters": {"properties": {"a": 3}}}}, 4]},
     "chat"),
    ({"messages": [{"role": "assistant", "tool_calls": [{"n": 2**70}]}],
      "tools": [{"function": {"name": "big", "description": 2**70}}]}, "chat"),
    ({"prompt": "hello world", "completion": " hi"}, "completion"),
    ({"prompt": 5, "completion": ""}, "completion"),
    ({"input": {"messages": [msg("system", SYSTEM_PROMPT), msg("user", "q")], "tools": TOOLS},
      "preferred_output": [msg("assistant", "yes", weight=0)], "non_preferred_output": [msg("assistant", "no")]},
     "preference"),
    ({"input": "alpaca", "preferred_output": "x"}, "preference"),
    (None, "chat"), ([], "completion"), ("text", "preference"), ({}, "chat"),
]


@pytest.mark.parametrize("enc", [O200K, CL100K])
@pytest.mark.parametrize("cache_tools", [False, True])
def test_tally_equals_plan_then_finish(enc: tiktoken.Encoding, cache_tools: bool) -> None:
    model = resolve_model("gpt-4o")
    accountant = Accountant(enc, model, cache_tools=cache_tools)
    for _ in range(3):  # the second and third rounds hit the caches
        for record, kind in VARIED:
            plan = Accountant(enc, model).plan(record, kind)
            expected = Accountant(enc, model).finish(plan, [len(enc.encode_ordinary(t)) for t in plan.texts])
            assert accountant.count(record, kind) == expected, record


def test_count_many_with_threads_equals_count() -> None:
    accountant = Accountant(O200K)
    assert accountant.count_many(VARIED, num_threads=2) == [accountant.count(r, k) for r, k in VARIED]


def test_text_cache_keeps_repeated_texts_and_gives_the_same_lengths(monkeypatch: pytest.MonkeyPatch) -> None:
    import ftprep.tokens.accounting as accounting

    texts = [SYSTEM_PROMPT, "short", "x \ud800 y", *(f"unique text {i} " * (i % 7 + 1) for i in range(300))]
    expected = {t: len(O200K.encode_ordinary(t)) for t in texts}
    accountant = Accountant(O200K)
    for text in texts * 2:
        assert accountant.text_len(text) == expected[text]
    assert hash(SYSTEM_PROMPT) in accountant._texts and hash("short") in accountant._texts  # seen twice: kept
    record = {"messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": "short"}]}
    assert accountant.count(record, "chat") == Accountant(O200K).count(record, "chat")  # the inlined lookup
    # Tiny limits: the cache starts over and the sightings are forgotten often; the lengths stay the same.
    monkeypatch.setattr(accounting, "_CACHED_TEXTS", 4)
    monkeypatch.setattr(accounting, "_SEEN_SLOTS", 8)
    monkeypatch.setattr(accounting, "_LENGTH_CACHES", {})
    small = Accountant(O200K)
    for text in texts * 3:
        assert small.text_len(text) == expected[text]
        assert small.count({"messages": [{"role": "user", "content": text}]}, "chat").user == expected[text] + 4
    assert len(small._texts) <= 4


def test_accountants_of_one_tokenizer_share_the_cache_and_long_texts_are_kept_at_once(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The token-limit rule and `estimate`'s collector count the same long record in one process: the
    second count finds the long text's length without encoding it again."""
    import ftprep.tokens.accounting as accounting

    monkeypatch.setattr(accounting, "_LENGTH_CACHES", {})
    long_text = "clause " * 1000
    first, second = Accountant(O200K, resolve_model("gpt-4o")), Accountant(O200K)
    record = {"messages": [{"role": "user", "content": long_text}, {"role": "assistant", "content": "ok"}]}
    expected = first.count(record, "chat")
    calls: list[str] = []
    monkeypatch.setattr(second, "_encode", lambda text: calls.append(text) or O200K.encode_ordinary(text))
    assert second.count(record, "chat") == expected
    assert long_text not in calls and "ok" in calls  # the short text was met once, so not kept; the long one was


def test_text_cache_keyed_by_hash_never_gives_another_texts_length() -> None:
    """The cache is keyed by the text's hash: an entry of another text under the same key (a collision) is
    taken only when the lengths in characters agree too, so a planted entry of another length is ignored."""
    accountant = Accountant(O200K)
    text = "a text whose count the cache must not change " * 3
    for planted in ("x", text + "!"):  # shorter and longer texts, both with 7 tokens
        accountant._texts[hash(text)] = 7 << 48 | len(planted)
        assert accountant.text_len(text) == len(O200K.encode_ordinary(text)) != 7
        accountant._texts[hash(text)] = 7 << 48 | len(planted)
        tokens = accountant.count({"messages": [{"role": "user", "content": text}]}, "chat")
        assert tokens.user == len(O200K.encode_ordinary(text)) + 4


def test_tools_cache_gives_the_same_counts() -> None:
    cached, uncached = Accountant(O200K, cache_tools=True), Accountant(O200K)
    variants = [TOOLS, [{"type": "function", "function": {**TOOLS[0]["function"], "description": "Other."}}],
                [{"function": {"name": "n", "parameters": {"properties": {"k": {"enum": [1, 1.0, True, None]}}}}}],
                [{"function": {"name": "n", "parameters": {"properties": {"k": {"enum": ["1", "1.0", "true"]}}}}}]]
    for _ in range(2):
        for tools in variants:
            for record in ({"messages": [], "tools": tools}, {"messages": [], "functions": tools},
                           {"messages": [], "functions": [t["function"] for t in tools]}):
                assert cached.count(record, "chat") == uncached.count(record, "chat")
    assert cached._tools_cache and not uncached._tools_cache


def test_pickled_accountant_drops_its_caches() -> None:
    import pickle

    accountant = Accountant(O200K, resolve_model("gpt-4o"), cache_tools=True)
    for record, kind in VARIED * 2:
        accountant.count(record, kind)
    copy = pickle.loads(pickle.dumps(accountant))
    assert copy.enc is O200K and copy.cache_tools and not copy._tools_cache
    assert not any(key.startswith("_") for key in accountant.__getstate__())  # no cache travels to a worker
    assert [copy.count(r, k) for r, k in VARIED] == [accountant.count(r, k) for r, k in VARIED]

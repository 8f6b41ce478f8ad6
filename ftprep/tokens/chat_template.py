"""Chat templates rendered as transformers renders them, with jinja2 alone (no transformers, no torch).

The environment copies ``transformers/utils/chat_template_utils.py`` (transformers 5.x,
``_cached_compile_jinja_template`` and ``render_jinja_template``): an ``ImmutableSandboxedEnvironment`` with
``trim_blocks``, ``lstrip_blocks`` and the loop-controls extension; a ``tojson`` filter that is
``json.dumps(ensure_ascii=False, indent, separators, sort_keys)`` (jinja's own escapes HTML characters); the
globals ``raise_exception``, ``strftime_now``, ``dict`` and a ``namespace`` that refuses underscore names; and a
``{% generation %}`` block tag, rendered as its body (transformers uses it to record assistant spans).
Messages first lose their keys whose value is None, and a message's reasoning is copied under
``reasoning_content`` and ``thinking``, as ``apply_chat_template`` does.

One deliberate difference: ``strftime_now`` formats a fixed date, :data:`FIXED_DATE` (the "26 Jul 2024" that
Meta's Llama 3.x templates fall back to), so that counts do not change from one day to the next. transformers
uses today's date; a template that prints it (Llama 3.x) may then differ by the tokens of the date string.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from ftprep.errors import ConfigError, FtprepError

if TYPE_CHECKING:
    import jinja2

FIXED_DATE = datetime(2024, 7, 26)
# The names a message's reasoning is passed under; templates read the first (transformers' _REASONING_FIELDS).
REASONING_FIELDS = ("reasoning_content", "thinking", "reasoning")


class TemplateError(FtprepError):
    """A chat template refused a conversation (its own ``raise_exception`` message), or failed while rendering it.

    ``message`` is the template's text (e.g. "Conversation roles must alternate user/assistant/user/assistant/...")
    or the rendering error (e.g. "'dict object' has no attribute 'content'"); ``kind`` is the exception's class
    name (``TemplateError`` for ``raise_exception``, ``UndefinedError``, ``TypeError``...).
    """

    def __init__(self, message: str, kind: str = "TemplateError") -> None:
        super().__init__(message)
        self.message = message
        self.kind = kind


class TokenEncoder(Protocol):
    """What :func:`count_chat_tokens` needs of a tokenizer."""

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (added/special tokens in it parsed, no bos/eos added)."""
        ...


def _require_jinja() -> None:
    """Raise :class:`ConfigError` when jinja2 (an optional dependency) is not installed."""
    if importlib.util.find_spec("jinja2") is None:
        raise ConfigError("chat templates need the 'jinja2' package; pip install 'ftprep[open]'")


def _raise_exception(message: str) -> None:
    import jinja2

    raise jinja2.exceptions.TemplateError(message)


def _tojson(x: Any, ensure_ascii: bool = False, indent: int | str | None = None,
            separators: tuple[str, str] | None = None, sort_keys: bool = False) -> str:
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def _strftime_now(format: str) -> str:
    return FIXED_DATE.strftime(format)


class _TemplateDict:
    """``dict`` for templates, without attribute access to the type (transformers' TemplateDict)."""

    def __call__(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict(*args, **kwargs)

    def fromkeys(self, *args: Any, **kwargs: Any) -> dict[Any, Any]:
        return dict.fromkeys(*args, **kwargs)


@lru_cache(maxsize=1)
def _environment_classes() -> tuple[type[Any], type[Any]]:
    """The ``{% generation %}`` extension and the guarded namespace, built once jinja2 is imported."""
    _require_jinja()
    import jinja2.ext  # here, not at module level: an optional dependency
    import jinja2.nodes
    import jinja2.utils

    class GenerationTag(jinja2.ext.Extension):
        """``{% generation %}...{% endgeneration %}``: its body (transformers records it as an assistant span)."""

        tags = {"generation"}  # noqa: RUF012 - jinja2 reads a class attribute

        def parse(self, parser: Any) -> Any:
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
            return jinja2.nodes.CallBlock(self.call_method("_body"), [], [], body).set_lineno(lineno)

        def _body(self, caller: Callable[[], str]) -> str:
            return caller()

    class TemplateNamespace(jinja2.utils.Namespace):
        """jinja's namespace, refusing underscore-prefixed attributes (a way into CPython internals)."""

        def __init__(*args: Any, **kwargs: Any) -> None:
            self, rest = args[0], args[1:]
            attrs = dict(*rest, **kwargs)
            for name in attrs:
                TemplateNamespace.check_name(name)
            jinja2.utils.Namespace.__init__(self, attrs)

        def __setitem__(self, name: str, value: Any) -> None:
            TemplateNamespace.check_name(name)
            jinja2.utils.Namespace.__setitem__(self, name, value)

        @staticmethod
        def check_name(name: Any) -> None:
            if isinstance(name, str) and name.startswith("_"):
                raise jinja2.exceptions.SecurityError(
                    f"Chat templates cannot store underscore-prefixed attributes on a namespace, but got {name!r}. "
                    "Please rename the attribute."
                )

    return GenerationTag, TemplateNamespace


@lru_cache(maxsize=32)
def compile_template(template: str) -> jinja2.Template:
    """The compiled template, cached by its text. Raises :class:`TemplateError` for a template with a syntax error."""
    generation_tag, namespace = _environment_classes()
    import jinja2.sandbox
    env = jinja2.sandbox.ImmutableSandboxedEnvironment(
        trim_blocks=True, lstrip_blocks=True, extensions=[generation_tag, jinja2.ext.loopcontrols]
    )
    env.filters["tojson"] = _tojson
    env.globals["raise_exception"] = _raise_exception
    env.globals["strftime_now"] = _strftime_now
    env.globals["dict"] = _TemplateDict()
    env.globals["namespace"] = namespace
    try:
        compiled = env.from_string(template)
    except jinja2.exceptions.TemplateSyntaxError as exc:
        raise TemplateError(f"the chat template does not compile: {exc.message} (line {exc.lineno})",
                            "TemplateSyntaxError") from exc
    return compiled


def _plain(value: Any) -> Any:
    """A copy of JSON-like data made of plain dicts, lists and scalars (the template must not edit the caller's)."""
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def prepare_messages(messages: Sequence[Any]) -> list[dict[str, Any]]:
    """Messages as ``apply_chat_template`` hands them to the template.

    Keys whose value is None are dropped (OpenAI's ``content: null`` beside ``tool_calls``), and a message's
    reasoning (``reasoning_content``, ``thinking`` or ``reasoning``) is copied to ``thinking`` and
    ``reasoning_content``. Raises :class:`TemplateError` when a message is not an object.
    """
    prepared: list[dict[str, Any]] = []
    for message in messages:
        if not isinstance(message, Mapping):
            raise TemplateError(f"Chat messages should be dicts, but got {message!r}.", "TypeError")
        kept = {key: _plain(value) for key, value in message.items() if value is not None}
        reasoning = next((kept[key] for key in REASONING_FIELDS if kept.get(key) is not None), None)
        if reasoning is not None:
            kept = {"thinking": reasoning, **kept, "reasoning_content": reasoning}
        prepared.append(kept)
    return prepared


def _render(template: str, context: dict[str, Any]) -> str:
    import jinja2

    compiled = compile_template(template)
    try:
        rendered: str = compiled.render(**context)
    except jinja2.exceptions.TemplateError as exc:  # raise_exception, UndefinedError, SecurityError
        raise TemplateError(str(exc.message or exc), type(exc).__name__) from exc
    except (TypeError, ValueError, KeyError, IndexError, AttributeError, ZeroDivisionError, OverflowError,
            RecursionError) as exc:
        # A template is code run on the row's data: 'str' + list, int('x'), a macro calling itself... fail so.
        raise TemplateError(str(exc), type(exc).__name__) from exc
    return rendered


def render_chat(
    template: str,
    messages: Sequence[Any],
    tools: Sequence[Any] | None = None,
    *,
    documents: Sequence[Any] | None = None,
    add_generation_prompt: bool = False,
    **special_tokens: Any,
) -> str:
    """The text ``template`` renders for a conversation, as transformers' ``apply_chat_template(tokenize=False)``.

    ``special_tokens`` are the template's extra variables: the tokenizer's named special tokens (``bos_token``,
    ``eos_token``...) and any template switch (``enable_thinking=False``). Raises :class:`TemplateError` with the
    template's own message when it refuses the conversation or fails on it; never another exception for data.
    """
    if not messages:
        raise TemplateError("Cannot apply chat template to an empty conversation. Provide at least one message.",
                            "ValueError")
    if tools is not None and not all(isinstance(tool, Mapping) for tool in tools):
        raise TemplateError("Tools should either be a JSON schema, or a callable function with type hints "
                            "and a docstring suitable for auto-conversion to a schema.", "ValueError")
    if documents is not None and not all(isinstance(document, Mapping) for document in documents):
        raise TemplateError("Documents should be a list of dicts with 'title' and 'text' keys!", "TypeError")
    context = {key: _plain(value) for key, value in special_tokens.items()}
    context.update(
        messages=prepare_messages(messages),
        tools=None if tools is None else _plain(list(tools)),
        documents=None if documents is None else _plain(list(documents)),
        add_generation_prompt=add_generation_prompt,
    )
    return _render(template, context)


def count_chat_tokens(
    tokenizer: TokenEncoder,
    template: str,
    messages: Sequence[Any],
    tools: Sequence[Any] | None = None,
    **special_tokens: Any,
) -> int:
    """Tokens of a conversation: ``len(tokenizer.apply_chat_template(messages, tools=tools, tokenize=True))``.

    The render of :func:`render_chat`, tokenized without adding special tokens (the template writes them).
    Raises :class:`TemplateError` when the template cannot render the conversation.
    """
    return len(tokenizer.encode(render_chat(template, messages, tools, **special_tokens)))


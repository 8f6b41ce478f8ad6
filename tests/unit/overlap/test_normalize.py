"""Normalisation and the compared texts of each record kind."""

from __future__ import annotations

from ftprep.overlap.hashing import canonical_bytes, record_digest
from ftprep.overlap.normalize import normalize_text, record_text, text_digests


def test_normalisation_folds_case_width_punctuation_and_spaces() -> None:
    assert normalize_text("  Hello,\tＷＯＲＬＤ!  Straße ") == "hello world strasse"


def test_punctuation_separates_rather_than_joins() -> None:
    assert normalize_text("2-3") == "2 3" != normalize_text("23")


def test_canonical_form_ignores_key_order_and_spacing() -> None:
    assert canonical_bytes({"b": 1, "a": [1, {"d": 2, "c": 3}]}) == b'{"a":[1,{"c":3,"d":2}],"b":1}'
    assert record_digest({"b": 1, "a": 2}) == record_digest({"a": 2, "b": 1})
    assert len(record_digest({})) == 16


def test_chat_prompt_ends_before_last_assistant_message() -> None:
    record = {"messages": [{"role": "user", "content": "Q1"}, {"role": "assistant", "content": "A1"},
                           {"role": "user", "content": [{"type": "text", "text": "Q2"}]},
                           {"role": "assistant", "tool_calls": [
                               {"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}]}
    text = record_text("chat", record)
    assert text.prompt == (("user", "Q1"), ("assistant", "A1"), ("user", "Q2"))
    assert text.answer == (("tool_call", "f"), ("arguments", "{}"))


def test_role_is_part_of_the_digest() -> None:
    as_system = {"messages": [{"role": "system", "content": "x"}, {"role": "assistant", "content": "y"}]}
    as_user = {"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}
    assert text_digests("chat", as_system).normalised != text_digests("chat", as_user).normalised


def test_different_images_keep_records_apart() -> None:
    def vision(url: str) -> dict[str, object]:
        return {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                                          {"type": "image_url", "image_url": {"url": url}}]},
                             {"role": "assistant", "content": "A cat."}]}

    assert text_digests("chat", vision("data:aBc")).normalised != text_digests("chat", vision("data:abc")).normalised


def test_malformed_content_does_not_crash() -> None:
    record = {"messages": [{"role": 5, "content": {"odd": True}}, "not a message", {"role": "assistant"}]}
    assert len(text_digests("chat", record).normalised) == 16

"""The fast normalisation equals its definition: NFKC, case folding, punctuation to spaces, whitespace collapsed."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.overlap.normalize import key_text, normalize_bytes, normalize_text


def reference(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    spaced = "".join(" " if unicodedata.category(c).startswith("P") else c for c in folded)
    return " ".join(spaced.split())


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_fast_normalisation_matches_the_definition(text: str) -> None:
    assert normalize_text(text) == reference(text)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from("“”—¿¡«»。「」、・‐…ＡＢ！"), max_size=80))
def test_fast_normalisation_matches_on_punctuation_heavy_text(text: str) -> None:
    assert normalize_text(text) == reference(text)


_INERT_AND_NOT = st.sampled_from("éü東京ωΩßİſＡﬁ\u0301\u00a0\u3000\u2028\x1c\x85—«」")


@settings(max_examples=800, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet=st.characters(max_codepoint=0x7F) | _INERT_AND_NOT, max_size=60))
def test_byte_normalisation_matches_the_definition(text: str) -> None:
    assert normalize_bytes(text) == reference(text).encode("utf-8", "surrogatepass")



@settings(max_examples=800, deadline=None)
@given(st.text(max_size=200) | st.text(alphabet=st.characters(max_codepoint=0x7F) | _INERT_AND_NOT, max_size=60))
def test_key_text_is_the_normal_form_without_spaces(text: str) -> None:
    assert key_text(text) == reference(text).replace(" ", "").encode("utf-8", "surrogatepass")

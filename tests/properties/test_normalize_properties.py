"""The fast normalisation equals its definition: NFKC, case folding, punctuation to spaces, whitespace collapsed."""

from __future__ import annotations

import unicodedata

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ftprep.overlap.normalize import _casefolded_bytes, key_text, normalize_bytes, normalize_text
from tests.conftest import CORPUS


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


# Every assigned code point (private use left out: NFKC and case folding leave all of it alone), among ASCII
# and doubled, and before two combining marks (which NFKC may reorder and compose with it or its ASCII form).
CODE_POINTS = [chr(c) for c in range(0x80, 0x110000) if unicodedata.category(chr(c)) not in ("Cn", "Co")]


@pytest.mark.parametrize("context", ["Ab{0}c, {0}{0}Y", "{}\u0327\u0301 q"])
def test_byte_normalisation_matches_the_definition_for_every_character(context: str) -> None:
    for char in CODE_POINTS:
        text = context.format(char)
        expected = reference(text)
        assert normalize_bytes(text) == expected.encode("utf-8", "surrogatepass"), (hex(ord(char)), context)
        assert key_text(text) == expected.replace(" ", "").encode("utf-8", "surrogatepass"), hex(ord(char))


def test_punctuation_and_ascii_compatibility_forms_take_the_byte_path() -> None:
    # Curly quotes, dashes and other punctuation; the ellipsis, a ligature, full-width letters and no-break
    # spaces, which NFKC maps to ASCII: no Unicode path (about 0.2 ms for a long text).
    for text in ("\u201cQuoted\u201d \u2014 it\u2019s \u00abfine\u00bb\u3002",
                 "Wait\u2026 \ufb01ne \uff21\uff22\u00a0x", "caf\u00e9\u2009\u2013 \u6771\u4eac\u3001\u2028end"):
        assert _casefolded_bytes(text) is not None, text


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")
def test_byte_normalisation_matches_the_definition_on_every_corpus_text() -> None:
    texts = 0
    for path in sorted(CORPUS.rglob("*.json*")):
        for line in path.read_bytes().splitlines():
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue
            for text in _strings(value):
                expected = reference(text)
                assert normalize_bytes(text) == expected.encode("utf-8", "surrogatepass"), (path, text[:80])
                assert key_text(text) == expected.replace(" ", "").encode("utf-8", "surrogatepass")
                texts += 1
    assert texts > 100_000


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for key, item in value.items() for s in (key, *_strings(item))]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    return []

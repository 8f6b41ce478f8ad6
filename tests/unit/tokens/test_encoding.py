"""The tokenizers load offline from packaged data and are the real tiktoken encodings."""

from __future__ import annotations

import base64
import socket
from typing import Any

import pytest
import tiktoken_ext.openai_public as openai_public

from ftprep.errors import ConfigError
from ftprep.tokens import encoding as encoding_module
from ftprep.tokens.encoding import SPECS, get_encoding, parse_ranks, vocab_bytes


@pytest.fixture
def fresh_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding_module, "_CACHE", {})


def test_hello_world_ids_cl100k() -> None:
    assert get_encoding("cl100k_base").encode_ordinary("hello world") == [15339, 1917]


def test_hello_world_ids_o200k() -> None:
    assert get_encoding("o200k_base").encode_ordinary("hello world") == [24912, 2375]


def test_known_counts_from_tiktoken_tests() -> None:
    cl100k = get_encoding("cl100k_base")
    assert cl100k.encode_ordinary("hello <|endoftext|>") == [15339, 83739, 8862, 728, 428, 91, 29]
    assert cl100k.encode("<|endoftext|>", allowed_special="all") == [100257]
    assert get_encoding("o200k_base").encode("<|endoftext|>", allowed_special="all") == [199999]


def test_vocab_sizes() -> None:
    assert get_encoding("cl100k_base").n_vocab == 100277
    assert get_encoding("o200k_base").n_vocab == 200019


def test_no_network_and_no_tiktoken_cache(fresh_cache: None, monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Any) -> None:
    cache_dir = tmp_path / "tiktoken-cache"
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", str(cache_dir))

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "socket", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in SPECS:
        assert get_encoding(name).encode_ordinary("offline") != []
    assert not cache_dir.exists()


def test_cached_per_process() -> None:
    assert get_encoding("o200k_base") is get_encoding("o200k_base")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_constructor_matches_tiktoken_openai_public(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rebuild tiktoken's own constructor arguments (hash, pat_str, special tokens) and compare."""
    seen: dict[str, str] = {}

    def fake_load(url: str, expected_hash: str | None = None) -> dict[bytes, int]:
        seen["hash"] = expected_hash or ""
        return {}

    monkeypatch.setattr(openai_public, "load_tiktoken_bpe", fake_load)
    reference = openai_public.ENCODING_CONSTRUCTORS[name]()
    expected_hash, pat_str, special = SPECS[name]
    assert seen["hash"] == expected_hash
    assert reference["pat_str"] == pat_str
    assert reference["special_tokens"] == special


def test_vocab_rank_count_cl100k() -> None:
    ranks = parse_ranks(vocab_bytes("cl100k_base"))
    assert len(ranks) == 100256
    assert ranks[b"!"] == 0


def test_unknown_encoding_is_config_error() -> None:
    with pytest.raises(ConfigError, match="cl100k_base, o200k_base"):
        get_encoding("p50k_base")


def test_hash_mismatch_is_config_error(fresh_cache: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encoding_module, "vocab_bytes", lambda name: b"IQ== 0\n")
    with pytest.raises(ConfigError, match="sha256"):
        get_encoding("cl100k_base")


@pytest.mark.parametrize("name", sorted(SPECS))
def test_parse_ranks_equals_tiktokens_line_by_line_loader(name: str) -> None:
    data = vocab_bytes(name)
    expected = {}
    for line in data.splitlines():
        if line:
            token, rank = line.split()
            expected[base64.b64decode(token)] = int(rank)
    assert parse_ranks(data) == expected

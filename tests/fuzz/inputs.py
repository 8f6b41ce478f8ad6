"""Generated inputs for the fuzz suite (issue 19): mutated corpus rows and hypothesis-drawn records.

Everything is seeded: batch ``n`` is the same bytes on every run and machine, so a failure in CI is a
failure on a laptop. A batch is a list of lines (bytes without the end of line, never holding ``\\n``);
each line is one input.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus"
SAMPLES = REPO / "samples"
# Corpus rows longer than this are skipped: mutations of long rows test nothing short ones do not, and
# they would make the suite slow.
MAX_SEED_BYTES = 2_500
ROWS_PER_FILE = 400

# Values that are the wrong type almost everywhere in a record.
ODD_VALUES: tuple[Any, ...] = (
    None, True, False, 0, -1, 1.5, 1e308, "", " ", "x", "\u0000", "\u202e\u0007", [], {}, [None], [1, "a"],
    {"a": 1}, {"role": "user"}, 2**64, -(2**63) - 1, 123456789012345678901234567890,
    [{"type": "text"}], [{"type": "image_url", "image_url": {"url": 5}}], {"type": "function"},
)
# Depths around the limit (128), orjson's writer (254) and reader (1024) limits, and beyond.
DEPTHS = (2, 60, 126, 127, 128, 129, 200, 253, 254, 255, 256, 600, 1023, 1024, 1025, 1500)
NUMBER_DIGITS = (18, 19, 20, 21, 30, 310, 4299, 4300, 4301, 6000)
LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff", "\ud83d")


@lru_cache(maxsize=1)
def seed_rows() -> tuple[bytes, ...]:
    """Rows of the corpus (or the samples when the corpus is absent), each a JSON object line."""
    folder = CORPUS if CORPUS.is_dir() else SAMPLES
    rows: list[bytes] = []
    for path in sorted(folder.rglob("*.jsonl")):
        with path.open("rb") as handle:
            for count, line in enumerate(handle):
                if count >= ROWS_PER_FILE:
                    break
                data = line.rstrip(b"\r\n")
                if 2 < len(data) <= MAX_SEED_BYTES:
                    rows.append(data)
    return tuple(rows)


def _positions(value: Any) -> list[tuple[Any, Any]]:
    """Every (container, key/index) in a parsed value, the slots a mutation can replace."""
    out: list[tuple[Any, Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        pairs = item.items() if isinstance(item, dict) else enumerate(item) if isinstance(item, list) else ()
        for key, child in pairs:
            out.append((item, key))
            if isinstance(child, (dict, list)):
                stack.append(child)
    return out


def _random_text(rng: random.Random) -> str:
    pool = ["user", "assistant", "system", "tool", "content", "role", "messages", "é", "中", "\U0001F600",
            "\t", "\r", "\u2028", "\x1b[2J", "\\", '"', "{{item.x}}", "<|im_start|>", " "]
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, 6)))


def _odd(rng: random.Random) -> Any:
    return json.loads(json.dumps(rng.choice(ODD_VALUES)))


def _dump(value: Any, rng: random.Random) -> bytes:
    """Serialise as a writer in the wild might: orjson, or Python's json with ASCII escapes, spaces, NaN."""
    style = rng.random()
    try:
        if style < 0.5:
            return orjson.dumps(value)
    except TypeError:
        pass  # integers beyond 64 bits, lone surrogates: orjson cannot write them
    separators = (",", ":") if style < 0.75 else (", ", ": ") if style < 0.95 else (" , ", " : ")
    return json.dumps(value, ensure_ascii=style < 0.9, separators=separators).encode("utf-8", "surrogatepass")


def _with_placeholder(value: Any, rng: random.Random, mark: str) -> Any:
    """The value with one slot (or the whole value) replaced by the string ``mark``."""
    slots = _positions(value)
    if not slots:
        return mark
    container, key = rng.choice(slots)
    container[key] = mark
    return value


# Value-level mutations: (rng, parsed row) -> line bytes.
def mutate_odd_type(rng: random.Random, value: Any) -> bytes:
    for _ in range(rng.randint(1, 3)):
        slots = _positions(value)
        if not slots:
            break
        container, key = rng.choice(slots)
        container[key] = _odd(rng)
    return _dump(value, rng)


def mutate_depth(rng: random.Random, value: Any) -> bytes:
    depth = rng.choice(DEPTHS)
    inner = _dump(_odd(rng), rng)
    opening, closing = (b"[", b"]") if rng.random() < 0.7 else (b'{"a":', b"}")
    nested = opening * depth + inner + closing * depth
    return _dump(_with_placeholder(value, rng, "@@DEEP@@"), rng).replace(b'"@@DEEP@@"', nested, 1)


def mutate_surrogate(rng: random.Random, value: Any) -> bytes:
    slots = [(c, k) for c, k in _positions(value) if isinstance(c[k], str) or isinstance(k, str)]
    if not slots:
        return _dump({"\ud800": value}, random.Random(0)) if rng.random() < 0.5 else _dump(value, rng)
    container, key = rng.choice(slots)
    lone = rng.choice(LONE_SURROGATES)
    if isinstance(container[key], str) and (not isinstance(key, str) or rng.random() < 0.6):
        text = container[key]
        cut = rng.randint(0, len(text))
        container[key] = text[:cut] + lone + text[cut:]
    else:
        container[key + lone] = container.pop(key)
    # Only ASCII escapes can carry a lone surrogate into valid UTF-8 bytes.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def mutate_number(rng: random.Random, value: Any) -> bytes:
    digits = rng.choice(NUMBER_DIGITS)
    number = ("-" if rng.random() < 0.3 else "") + str(rng.randint(1, 9)) + "".join(
        rng.choice("0123456789") for _ in range(digits - 1))
    if rng.random() < 0.2:
        number += rng.choice([".5", "e400", "e-400", "E+19", ".0"])
    line = _dump(_with_placeholder(value, rng, "@@NUM@@"), rng)
    return line.replace(b'"@@NUM@@"', number.encode(), 1)


def mutate_keys(rng: random.Random, value: Any) -> bytes:
    slots = [(c, k) for c, k in _positions(value) if isinstance(k, str)]
    if slots:
        container, key = rng.choice(slots)
        if rng.random() < 0.5:
            container[_random_text(rng)] = container.pop(key)
        else:
            container.pop(key)
    line = _dump(value, rng)
    if rng.random() < 0.4 and line.startswith(b"{"):  # a duplicate key, as a bad merge writes it
        line = b'{"messages":[],' + line[1:] if len(line) > 2 else line
    return line


def mutate_bytes(rng: random.Random, value: Any) -> bytes:
    line = bytearray(_dump(value, rng))
    kind = rng.random()
    if kind < 0.35:  # truncation
        del line[rng.randint(0, len(line)):]
    elif kind < 0.7:  # random bytes (never a line feed: one input stays one line)
        for _ in range(rng.randint(1, 8)):
            byte = rng.choice([0x00, 0x0D, 0x22, 0x5C, 0x7B, 0x7D, 0x80, 0xC0, 0xED, 0xEF, 0xFF, rng.randint(1, 255)])
            if byte == 0x0A:
                byte = 0x20
            position = rng.randint(0, len(line))
            if rng.random() < 0.5 and position < len(line):
                line[position] = byte
            else:
                line.insert(position, byte)
    elif kind < 0.8:
        line[:0] = b"\xef\xbb\xbf"
    elif kind < 0.9:
        line += b"\r" if rng.random() < 0.5 else b" \t"
    else:
        line = bytearray(rng.randbytes(rng.randint(1, 200)).replace(b"\n", b" "))
    return bytes(line)


def mutate_embedded_json(rng: random.Random, value: Any) -> bytes:
    """A string that holds JSON text (tool-call arguments, a tools list as a string) made hostile: deep,
    huge numbers, lone surrogate escapes, invalid."""
    depth = rng.choice(DEPTHS)
    embedded = rng.choice([
        "[" * depth + "]" * depth, '{"a":' * depth + "1" + "}" * depth,
        '{"n": ' + "9" * rng.choice(NUMBER_DIGITS) + "}", '{"s": "\\ud800"}', '{"a": 1, "a": 2}', '{"a": NaN}',
        '{"a": ', '[{"type": "function", "function": {"name": "f", "parameters": ' + "[" * depth + "]" * depth + "}}]",
    ])
    slots = [(c, k) for c, k in _positions(value) if isinstance(c[k], str)]
    preferred = [(c, k) for c, k in slots if k in ("arguments", "tools", "content", "value")]
    if preferred or slots:
        container, key = rng.choice(preferred or slots)
        container[key] = embedded
    return _dump(value, rng)


MUTATIONS: tuple[Callable[[random.Random, Any], bytes], ...] = (
    mutate_odd_type, mutate_odd_type, mutate_depth, mutate_surrogate, mutate_number, mutate_keys, mutate_bytes,
    mutate_bytes, mutate_embedded_json,
)


def corpus_batch(batch: int, size: int) -> list[bytes]:
    """Batch ``batch`` of mutated corpus rows: ``size`` lines, about one in eight left as it was."""
    rng = random.Random(f"ftprep-fuzz-corpus-{batch}")
    rows = seed_rows()
    lines: list[bytes] = []
    for _ in range(size):
        raw = rng.choice(rows)
        if rng.random() < 0.125:
            lines.append(raw)
            continue
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:  # a corpus row that is itself broken: mutate its bytes
            value = raw.decode("utf-8", "replace")
        mutation = rng.choice(MUTATIONS)
        lines.append(mutation(rng, value).replace(b"\n", b" "))
    return lines


def blank_and_edge_lines(rng: random.Random) -> Iterator[bytes]:
    """Lines that are whole-line edge cases: empty, whitespace, a lone BOM, NUL bytes."""
    yield from rng.sample([b"", b" ", b"\t", b"\r", b"\xef\xbb\xbf", b"\x00\x00", b"{}", b"[]", b"null", b'""',
                           b"{", b"}", b"\xff\xfe{\x00}"], 4)


def hypothesis_lines(examples: int) -> list[bytes]:
    """Lines drawn by hypothesis (derandomized: the same on every run): records of every format with
    values of any JSON type, lone surrogates, unbounded integers and non-finite floats, in any writer's
    style. Hypothesis is the generator here; the entry points run over all lines at once, afterwards."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    text = st.text(alphabet=st.one_of(st.characters(), st.sampled_from(LONE_SURROGATES)), max_size=12)
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | text

    def containers(inner: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
        return st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3)

    values = st.recursive(scalars, containers, max_leaves=8)
    roles = st.sampled_from(["system", "developer", "user", "assistant", "tool", "function"]) | values
    content = text | values | st.lists(st.fixed_dictionaries({"type": st.sampled_from(["text", "image_url"])},
                                                              optional={"text": text, "image_url": values}),
                                       max_size=2)
    call = st.fixed_dictionaries({"id": text | values, "type": st.just("function") | values,
                                  "function": st.fixed_dictionaries({"name": text, "arguments": text | values})})
    message = st.fixed_dictionaries({"role": roles}, optional={
        "content": content, "weight": st.sampled_from([0, 1]) | values, "name": text,
        "tool_calls": st.lists(call, max_size=2) | values, "tool_call_id": text | values})
    messages = st.lists(message, max_size=5) | values
    tool = st.fixed_dictionaries({"type": st.just("function"), "function": st.fixed_dictionaries(
        {"name": text}, optional={"parameters": values, "description": text})})
    records = st.one_of(
        st.fixed_dictionaries({"messages": messages}, optional={"tools": st.lists(tool, max_size=2) | values,
                                                                 "parallel_tool_calls": values}),
        st.fixed_dictionaries({"prompt": text | values, "completion": text | values}),
        st.fixed_dictionaries({"input": st.fixed_dictionaries({"messages": messages}),
                               "preferred_output": messages, "non_preferred_output": messages}),
        st.dictionaries(text, values, max_size=4),
        values,
    )
    style = st.integers(min_value=0, max_value=2**32)
    collected: list[bytes] = []

    @settings(max_examples=examples, derandomize=True, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(records, style), min_size=8, max_size=40))
    def draw(drawn: list[tuple[Any, int]]) -> None:
        for record, seed in drawn:
            collected.append(_dump(record, random.Random(seed)).replace(b"\n", b" "))

    draw()
    return collected

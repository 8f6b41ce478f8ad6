"""FT012: what a file is as a whole, when it is not fine-tuning JSONL, and the command that makes it usable.

The pure part of the diagnosis: what the first bytes say (Parquet, Arrow, zip, a JSON array, pretty-printed
objects) and what the first records say (Alpaca, ShareGPT, KTO, Bedrock, LLaMA-Factory, question/answer
pairs, reinforcement rows checked without the method). :mod:`ftprep.diagnose` reads the file's head and
applies it after the pass.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ftprep.jsonl.parse import read_object
from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register

Record = Mapping[str, Any]


@register
class FileDiagnosis(Rule):
    """What it does
    Says once what a file is when it is not fine-tuning JSONL as a whole: a Parquet, Arrow or zip file, a JSON
    array or pretty-printed JSON, rows of a foreign format (Alpaca, ShareGPT, KTO, Bedrock, LLaMA-Factory,
    question/answer pairs), or reinforcement rows checked without `--method reinforcement`; and gives the
    command that makes it usable. The line findings it explains are cut to a few examples of each rule.
    A row format is read from rows spread over the file's first megabyte and, in a larger file, from windows
    a quarter, half and three quarters into it and at its end: a mixed file gets its line findings instead.

    Why it matters
    Such a file fails on every line: thousands of findings that each say the same thing and none that says
    what the file is. The service rejects the file all the same.

    Example
    A JSON array of Alpaca records (`[{"instruction": "...", "input": "", "output": "..."}, ...]`): one
    finding, "file is a JSON array of Alpaca records (instruction/input/output), not JSONL", with the fix
    `ftprep convert data.json data.jsonl --from alpaca --to chat`, and the first invalid-JSON lines as examples.

    Fix
    Run the command the finding gives (`ftprep convert ... --from alpaca --to chat`, `jq -c . IN > OUT.jsonl`,
    `ftprep check IN --method reinforcement`), then check the result.
    """

    code = "FT012"
    name = "file-diagnosis"
    severity = Severity.ERROR


# Line findings kept, per rule, under a diagnosis that explains them.
KEEP_EXAMPLES = 3
PARQUET, ARROW, ZIP, JSON_ARRAY, PRETTY = "parquet", "arrow", "zip", "json-array", "pretty"
MAGIC = ((b"PAR1", PARQUET), (b"ARROW1", ARROW), (b"PK\x03\x04", ZIP))
_BOM = b"\xef\xbb\xbf"
# Lines of the head looked at to tell JSON spanning lines from JSON Lines.
SNIFF_LINES = 50
_OPENAI_CHAT_KEYS = frozenset({"messages", "tools", "functions", "parallel_tool_calls"})
_PAIRS = (("question", "answer"), ("prompt", "response"), ("query", "response"), ("input", "output"),
          ("instruction", "response"), ("prompt", "answer"))


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What the file is (``what``), the command that makes it usable (``fix``), and whether it explains
    every line finding (``every_line``: the file is not JSON Lines at all) or only the schema and content ones
    (FT2xx, FT3xx: the rows are JSON objects of another format)."""

    what: str
    fix: str
    every_line: bool

    def explains(self, code: str) -> bool:
        """Whether findings of rule ``code`` follow from what the file is."""
        return self.every_line or code.startswith(("FT2", "FT3")) or code == "FT503"


def container_of(head: bytes) -> str | None:
    """What the first bytes say the file is, when it is not JSON Lines: parquet, arrow, zip, json-array
    (a JSON array spanning lines) or pretty (JSON objects spanning lines); None for JSON Lines (or text
    that is not JSON at all, which the line rules report)."""
    for magic, name in MAGIC:
        if head.startswith(magic):
            return name
    text = head.removeprefix(_BOM).lstrip()
    if not text.startswith((b"[", b"{")):
        return None
    first, newline, rest = text.partition(b"\n")
    if not newline or not rest.strip():
        # One line: a one-line array is a document; a one-line object is a one-record JSONL file.
        return JSON_ARRAY if text.startswith(b"[") and _complete(first) else None
    if _complete(first):
        return None  # one complete value on the first line: JSON Lines (lines of arrays are FT102's)
    # A broken first record in JSON Lines is FT101's: JSON spanning lines has few lines that parse alone.
    lines = [line for line in text.split(b"\n")[:SNIFF_LINES] if line.strip()]
    if sum(map(_complete, lines)) * 2 > len(lines):
        return None
    return JSON_ARRAY if text.startswith(b"[") else PRETTY


def _complete(line: bytes) -> bool:
    try:
        json.loads(line)
    except (ValueError, RecursionError):  # a line nested beyond the parser's depth is no complete record here
        return False
    return True


def document_records(head: bytes, limit: int = 20) -> list[Record]:
    """The first objects of a JSON array or of concatenated pretty-printed objects, read from the head of
    the file (complete ones only)."""
    text = head.removeprefix(_BOM).decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    index = len(text) - len(text.lstrip())
    if text[index:index + 1] == "[":
        index += 1
    records: list[Record] = []
    while len(records) < limit:
        while index < len(text) and text[index] in " \t\r\n,":
            index += 1
        try:
            value, index = decoder.raw_decode(text, index)
        except (ValueError, RecursionError):
            break
        if isinstance(value, dict):
            records.append(value)
    return records


def line_records(head: bytes, limit: int = 50) -> list[Record]:
    """The first JSON objects of a JSON Lines head (lines that do not parse are skipped)."""
    records: list[Record] = []
    for line in head.removeprefix(_BOM).split(b"\n")[:limit]:
        value = read_object(line)  # as check reads it: no recursion on deep lines, no surrogates
        if value is not None:
            records.append(value)
    return records


def _is_text_parts(content: Any, part_keys: frozenset[str]) -> bool:
    return isinstance(content, list) and bool(content) and all(
        isinstance(p, dict) and set(p) <= part_keys for p in content)


def row_format(record: Record) -> str | None:
    """The foreign format of one row (None: an OpenAI format, or none known)."""
    keys = set(record)
    if ("label" in keys and isinstance(record["label"], bool)) or "kto_tag" in keys:
        return "kto"
    if "chosen_messages" in keys or "rejected_messages" in keys:
        return "llamafactory-v1-preference"
    if "conversations" in keys:
        return "sharegpt-preference" if {"chosen", "rejected"} <= keys else "sharegpt"
    if "instruction" in keys and "output" in keys:
        return "alpaca"
    messages = record.get("messages")
    if isinstance(messages, list) and messages and all(isinstance(m, dict) for m in messages):
        schema = record.get("schemaVersion")
        if (isinstance(schema, str) and schema.startswith("bedrock")) or any(
                _is_text_parts(m.get("content"), frozenset({"text"})) for m in messages):
            return "bedrock"
        if any("loss_weight" in m or _is_text_parts(m.get("content"), frozenset({"type", "value"}))
               for m in messages):
            return "llamafactory-v1"
        if "system" in keys:
            return "system-outside"
        return None
    for prompt, answer in _PAIRS:
        if {prompt, answer} <= keys:
            return f"pair:{prompt}:{answer}"
    return None


def majority(values: Sequence[str | None]) -> str | None:
    """The value more than half of ``values`` share (None when none does)."""
    counts: dict[str, int] = {}
    for value in values:
        if value is not None:
            counts[value] = counts.get(value, 0) + 1
    best = max(counts, key=lambda v: counts[v], default=None)
    return best if best is not None and counts[best] * 2 > len(values) else None


def _q(path: str) -> str:
    return shlex.quote(path)


def jsonl_name(path: str) -> str:
    """The output name to suggest beside ``path``: ``data.json`` -> ``data.jsonl``, ``x.jsonl`` ->
    ``x.fixed.jsonl``, standard input (``-``) -> ``stdin.jsonl``."""
    if path == "-":
        return "stdin.jsonl"
    stem = path.removesuffix(".gz")
    for suffix in (".jsonl", ".json", ".parquet", ".arrow", ".feather", ".zip"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    out = f"{stem}.jsonl"
    return out if out != path else f"{stem}.fixed.jsonl"


_FORMAT_NAMES = {
    "alpaca": "Alpaca records (instruction/input/output)",
    "sharegpt": "ShareGPT records (conversations of from/value turns)",
    "sharegpt-preference": "ShareGPT preference records (conversations with chosen/rejected)",
    "kto": "KTO records (one answer each with a true/false label)",
    "bedrock": "Amazon Bedrock conversation records (content as lists of {\"text\": ...} parts)",
    "llamafactory-v1": "LLaMA-Factory v1 records (content parts of {\"type\", \"value\"}, loss_weight)",
    "llamafactory-v1-preference": "LLaMA-Factory v1 preference records (chosen_messages/rejected_messages)",
    "system-outside": "chat records with the system prompt outside messages (Anthropic/Bedrock style)",
    "chat": "chat records (messages)",
}
_CONVERT_FROM = {"alpaca": ("alpaca", "chat"), "sharegpt": ("sharegpt", "chat"),
                 "sharegpt-preference": ("sharegpt-preference", "dpo"), "bedrock": ("chat", "chat"),
                 "system-outside": ("chat", "chat"), "chat": ("chat", "chat")}
_LLAMAFACTORY_V1_JQ = ("{messages: [.messages[] | {role, content: ([.content[] | select(.type == \"text\") "
                       "| .value] | join(\"\"))}]}")


def format_name(fmt: str) -> str:
    """How a row format is named in a message."""
    if fmt.startswith("pair:"):
        _, prompt, answer = fmt.split(":")
        return f"{prompt}/{answer} pairs"
    return _FORMAT_NAMES[fmt]


def _convert(source: str, out: str, fmt: str, json_input: bool) -> str | None:
    """The ``ftprep convert`` command for rows of ``fmt`` in ``source`` (None: convert does not read them)."""
    container = " --input-format json" if json_input and not source.endswith(".json") else ""
    if fmt.startswith("pair:"):
        _, prompt, answer = fmt.split(":")
        return (f"ftprep convert {_q(source)} {_q(out)}{container} --to chat "
                f"--map user=/{prompt} --map assistant=/{answer}")
    if fmt in _CONVERT_FROM:
        origin, to = _CONVERT_FROM[fmt]
        return f"ftprep convert {_q(source)} {_q(out)}{container} --from {origin} --to {to}"
    return None


def _rows_fix(path: str, fmt: str, *, each: str, out: str | None = None) -> str:
    """The command for rows of ``fmt``; ``each`` is the jq filter that yields the rows of ``path``
    (``.`` for JSON Lines and pretty-printed objects, ``.[]`` for a JSON array); ``out``: the file to write
    (default: :func:`jsonl_name`)."""
    out = out or jsonl_name(path)
    if fmt == "kto":
        return (f"OpenAI takes no KTO data: keep the rows labelled true as supervised examples, "
                f"jq -c '{each} | select(.label == true) | del(.label)' {_q(path)} > {_q(out)}, then check "
                f"{_q(out)} (convert it with `ftprep convert` if its rows are not chat messages)")
    if fmt == "llamafactory-v1":
        rows = "" if each == "." else f"{each} | "
        return (f"jq -c '{rows}{_LLAMAFACTORY_V1_JQ}' {_q(path)} > {_q(out)} (keeps the text parts; images and "
                "loss_weight need writing as OpenAI image_url parts and weight)")
    if fmt == "llamafactory-v1-preference":
        return ("ftprep convert does not read these yet: write input/preferred_output/non_preferred_output rows "
                "(OpenAI DPO) from chosen_messages and rejected_messages")
    if each == ".":
        return _convert(path, out, fmt, json_input=False) or f"ftprep convert {_q(path)} {_q(out)} --to chat"
    # Rows inside a JSON array: convert reads the array itself.
    command = _convert(path, out, fmt, json_input=True)
    return command or f"jq -c '{each}' {_q(path)} > {_q(out)}"


def diagnose_container(path: str, container: str, records: Sequence[Record]) -> Diagnosis:
    """The diagnosis of a file that is not JSON Lines (``container`` from :func:`container_of`);
    ``records`` are its first records when it is JSON."""
    out = jsonl_name(path)
    if container == PARQUET:
        return Diagnosis("file is a Parquet file, not JSONL",
                         f"ftprep convert {_q(path)} {_q(out)} --to chat (it reads Parquet and prints the row "
                         "format it detected; --from names it)", every_line=True)
    if container == ARROW:
        return Diagnosis("file is an Arrow IPC (Feather) file, not JSONL",
                         f"python -c \"import polars as pl; pl.read_ipc({path!r}).write_ndjson({out!r})\", then "
                         f"ftprep check {_q(out)}", every_line=True)
    if container == ZIP:
        return Diagnosis("file is a zip archive (or an Office document), not JSONL",
                         f"unzip -l {_q(path)} lists what it holds; check the .jsonl file inside", every_line=True)
    fmt = majority([row_format(r) or ("chat" if "messages" in r else None) for r in records])
    shape = "a JSON array" if container == JSON_ARRAY else "pretty-printed JSON (objects spanning lines)"
    what = f"file is {shape}" + (f" of {format_name(fmt)}" if fmt else "") + ", not JSONL (one object per line)"
    each = ".[]" if container == JSON_ARRAY else "."
    if fmt is None:
        return Diagnosis(what, f"jq -c '{each}' {_q(path)} > {_q(out)}, then ftprep check {_q(out)}",
                         every_line=True)
    if container == PRETTY:
        # convert reads one JSON document; concatenated objects are a stream jq compacts one by one.
        if fmt == "chat":
            return Diagnosis(what, f"jq -c . {_q(path)} > {_q(out)}, then ftprep check {_q(out)}", every_line=True)
        compact = out.removesuffix(".jsonl") + ".compact.jsonl"
        then = _rows_fix(compact, fmt, each=".", out=out)
        return Diagnosis(what, f"jq -c . {_q(path)} > {_q(compact)}, then {then}", every_line=True)
    return Diagnosis(what, _rows_fix(path, fmt, each=".[]"), every_line=True)


def diagnose_rows(path: str, records: Sequence[Record], *, method_given: bool,
                  reinforcement_model: str | None) -> Diagnosis | None:
    """The diagnosis of JSON Lines whose rows are of a foreign format, or reinforcement rows checked without
    ``--method reinforcement`` (``method_given``: the method was chosen, not taken from the rows;
    ``reinforcement_model``: a model of the target that offers the method). None: nothing to say."""
    if not records:
        return None
    fmt = majority([row_format(r) for r in records])
    if fmt is not None:
        return Diagnosis(f"rows are {format_name(fmt)}, not an OpenAI fine-tuning format",
                         _rows_fix(path, fmt, each="."), every_line=False)
    if method_given:
        return None
    unanswered = majority([_unanswered(r) for r in records])
    model = f" --model {reinforcement_model}" if reinforcement_model else ""
    if unanswered == "reinforcement":
        return Diagnosis("rows are reinforcement fine-tuning rows (messages without an assistant answer, and keys "
                         "the grader reads); checked as supervised rows they fail on every line",
                         f"ftprep check {_q(path)} --method reinforcement{model}", every_line=False)
    if unanswered == "prompts":
        return Diagnosis("rows are prompts without answers: no row has an assistant message to train on",
                         "add each prompt's answer as an assistant message; if they are reinforcement prompts, "
                         f"ftprep check {_q(path)} --method reinforcement{model} (the grader needs a key such as "
                         "reference_answer in every row)", every_line=False)
    return None


def _unanswered(record: Record) -> str | None:
    """``reinforcement`` for messages without an assistant answer beside other keys (what a grader reads),
    ``prompts`` for such messages alone, None for anything else."""
    messages = record.get("messages")
    if not isinstance(messages, list) or not messages:
        return None
    if any(isinstance(m, dict) and m.get("role") == "assistant" for m in messages):
        return None
    return "reinforcement" if set(record) - _OPENAI_CHAT_KEYS else "prompts"

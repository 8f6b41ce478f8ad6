"""FT0xx: bytes and lines. Emitted by the engine while it reads, before any JSON is parsed."""

from __future__ import annotations

from ftprep.lint.finding import Severity
from ftprep.lint.registry import Rule, register


@register
class InvalidUtf8(Rule):
    """What it does
    Flags a line whose bytes are not valid UTF-8, with the byte position of the first bad byte.

    Why it matters
    The API reads training files as UTF-8 and rejects the file. Files exported from spreadsheets or old
    tools are often Latin-1 or Windows-1252.

    Example
    A line holding the byte 0xE9 (Latin-1 "é") instead of the UTF-8 pair 0xC3 0xA9.

    Fix
    Re-encode the file as UTF-8 (`iconv -f latin1 -t utf-8 in.jsonl > out.jsonl`).
    """

    code = "FT001"
    name = "invalid-utf8"
    severity = Severity.ERROR


@register
class Utf8Bom(Rule):
    """What it does
    Flags a UTF-8 byte order mark (EF BB BF) at the start of the file.

    Why it matters
    A BOM is not JSON whitespace: the first line is then not valid JSON for a strict parser and the
    upload fails. Windows editors add it silently.

    Example
    The file starts with the bytes EF BB BF 7B ("\\ufeff{").

    Fix
    Save without BOM, or run `ftprep fix`, which removes it.
    """

    code = "FT002"
    name = "utf8-bom"
    severity = Severity.ERROR


@register
class MissingBom(Rule):
    """What it does
    Notes a file without a UTF-8 byte order mark, for a target whose documentation asks for one (Azure OpenAI).

    Why it matters
    Azure's fine-tuning documentation says training files must be UTF-8 *with* a byte order mark. Whether the
    service rejects a file without one is not documented, so this is a note, not an error; OpenAI rejects the
    BOM instead (FT002), so one file cannot satisfy both literally.

    Example
    `ftprep check data.jsonl --target azure` on a file that starts with `{`.

    Fix
    Add the mark if Azure rejects the file: `printf '\xef\xbb\xbf' | cat - in.jsonl > out.jsonl`.
    """

    code = "FT005"
    name = "missing-bom"
    severity = Severity.INFO


@register
class NulByte(Rule):
    """What it does
    Flags NUL (0x00) bytes in a line.

    Why it matters
    NUL is not allowed raw in JSON and usually means a UTF-16 file or a corrupted export; the file is
    rejected.

    Example
    A line `{"prompt": "a\\x00b"}` written with a raw NUL byte.

    Fix
    If the file is UTF-16, convert it to UTF-8; otherwise remove the NUL bytes.
    """

    code = "FT003"
    name = "nul-byte"
    severity = Severity.ERROR


@register
class BlankLine(Rule):
    """What it does
    Flags an empty or whitespace-only line between records. Blank lines at the very end are accepted.

    Why it matters
    Every line of a JSONL training file must be one JSON object; a blank line in the middle is an
    invalid record.

    Example
    Two records separated by an empty line.

    Fix
    Delete the blank line (`ftprep fix` drops blank lines).
    """

    code = "FT004"
    name = "blank-line"
    severity = Severity.ERROR


@register
class LineTooLong(Rule):
    """What it does
    Flags a line longer than 256 MiB. The line is read past without being kept or checked.

    Why it matters
    No fine-tuning example comes near that size (10 embedded images of 10 MB each are about 134 MB of
    base64): such a line is a dump, a missing newline between records, or a file that is not JSONL.
    Reading it whole would take memory without bound.

    Example
    A 2 GB export written without newlines between its records.

    Fix
    Write one record per line (`json.dumps` per record followed by a newline); `ftprep fix` sets the line
    aside in its rejects file.
    """

    code = "FT010"
    name = "line-too-long"
    severity = Severity.ERROR


@register
class NotJsonl(Rule):
    """What it does
    Stops reading a file at the first clear sign that it is not JSONL: 100 lines in a row that hold no
    JSON object (undecodable bytes, invalid JSON), or an over-long line of binary data (NUL bytes or
    invalid UTF-8). The finding names the lines; the rest of the file is not read.

    Why it matters
    A binary file, a pretty-printed JSON document or a CSV file would otherwise yield a finding per line
    (millions for a large file) and hide the one problem: the file is not in the format the service reads.

    Example
    A Parquet or gzip file renamed `.jsonl`; a JSON array printed with indentation.

    Fix
    Convert the file to JSONL (`ftprep convert IN OUT --to chat` reads JSON documents, CSV and Parquet),
    or pass the right file.
    """

    code = "FT011"
    name = "not-jsonl"
    severity = Severity.ERROR

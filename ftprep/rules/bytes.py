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

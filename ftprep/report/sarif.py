"""SARIF 2.1.0 for code-scanning tools: rules[] from the registry, at most a cap of results per rule with the
true counts in ``properties``, fingerprints that survive lines moving."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from ftprep import __version__
from ftprep.check import CheckResult
from ftprep.errors import InputError
from ftprep.jsonl.reader import iter_lines
from ftprep.lint.finding import Finding, Severity
from ftprep.report.options import DEFAULT_OPTIONS, ReportOptions, group_by_rule
from ftprep.rules.catalog import all_rules
from ftprep.textsafe import dumps_json

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
FINGERPRINT_KEY = "ftprepFinding/v2"
# (path, line) -> sha256 of the line's bytes
RecordDigests = Mapping[tuple[str, int], str]


def record_digests(findings: Sequence[Finding]) -> dict[tuple[str, int], str]:
    """The sha256 of the bytes of every line a finding points at, read again from each file (one pass per
    file, only those lines hashed). Standard input, and a file that cannot be read again, have none."""
    wanted: dict[str, set[int]] = {}
    for finding in findings:
        if finding.line is not None and finding.path != "<stdin>":
            wanted.setdefault(finding.path, set()).add(finding.line)
    digests: dict[tuple[str, int], str] = {}
    for path, lines in wanted.items():
        last = max(lines)
        try:
            for raw in iter_lines(path):
                if raw.lineno in lines:
                    digests[(path, raw.lineno)] = hashlib.sha256(raw.data).hexdigest()
                if raw.lineno >= last:
                    break
        except InputError:
            continue  # the file went away since the check: those results keep the other parts of their key
    return digests


def fingerprint(finding: Finding, digests: RecordDigests, occurrence: int = 0) -> str:
    """Stable identity of a finding: rule code, path, JSON pointer and the digest of the record's bytes
    (never the message, which may name a line number, nor the line itself), plus ``occurrence`` when the
    same key repeats (equal records in one file), so that inserting a line above does not change it."""
    record = digests.get((finding.path, finding.line), "") if finding.line is not None else "file"
    parts = [finding.code, finding.path, finding.pointer or "", record]
    if occurrence:
        parts.append(str(occurrence))
    # surrogatepass: a lone surrogate from a JSON key still has bytes to hash.
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int], print_: str) -> dict[str, Any]:
    region: dict[str, int] = {"startLine": finding.line or 1}
    if finding.column:
        region["startColumn"] = finding.column
    message = finding.message + (f" (at {finding.pointer})" if finding.pointer else "")
    if finding.fix:
        message += f". Fix: {finding.fix}"
    return {
        "ruleId": finding.code,
        "ruleIndex": index[finding.code],
        "level": LEVELS[finding.severity],
        "message": {"text": message},
        "locations": [{"physicalLocation": {
            "artifactLocation": {"uri": finding.path.replace("\\", "/")},
            "region": region,
        }}],
        "partialFingerprints": {FINGERPRINT_KEY: print_},
        "properties": {"pointer": finding.pointer, "name": finding.name},
    }


def render(result: CheckResult, options: ReportOptions = DEFAULT_OPTIONS,
           digests: RecordDigests | None = None) -> str:
    """The SARIF log: at most ``options.max_findings`` results per rule (None: all; the command line's default
    is :data:`~ftprep.report.options.SARIF_MAX_PER_RULE`), spread over the files; each rule that has findings
    says in ``properties`` how many it has (``findings``) and how many are listed (``results``).
    ``digests`` are the record digests of :func:`record_digests` (default: read from the files)."""
    cap = options.max_findings
    per_rule: dict[str, list[Finding]] = {}
    counts: dict[str, int] = {}
    for group in group_by_rule(result):
        per_rule.setdefault(group.code, []).extend(group.findings)
        counts[group.code] = counts.get(group.code, 0) + group.count
    listed = sorted((f for items in per_rule.values() for f in items[:cap]), key=Finding.sort_key)
    shown = {code: len(items[:cap]) for code, items in per_rule.items()}
    if digests is None:
        digests = record_digests(listed)
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    seen: dict[tuple[str, str, str, str], int] = {}
    results = []
    for finding in listed:
        key = (finding.code, finding.path, finding.pointer or "",
               digests.get((finding.path, finding.line), "") if finding.line is not None else "file")
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        results.append(_result(finding, index, fingerprint(finding, digests, occurrence)))
    descriptors = []
    for r in rules:
        descriptor: dict[str, Any] = {
            "id": r.code,
            "name": r.name,
            "shortDescription": {"text": r.summary()},
            "fullDescription": {"text": r.doc()},
            "help": {"text": r.doc()},
            "defaultConfiguration": {"level": LEVELS[r.severity]},
        }
        if r.code in per_rule:
            descriptor["properties"] = {"findings": counts[r.code], "results": shown[r.code]}
        descriptors.append(descriptor)
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ftprep",
                "version": __version__,
                "informationUri": "https://pypi.org/project/ftprep/",
                "rules": descriptors,
            }},
            "results": results,
            "properties": {"findings": result.total, "results": len(results),
                           "omitted": result.total - len(results), "maxResultsPerRule": cap},
        }],
    }
    return dumps_json(log, indent=True) + "\n"

"""SARIF 2.1.0 for code-scanning tools: rules[] from the registry, one result per finding."""

from __future__ import annotations

import hashlib
from typing import Any

from ftprep import __version__
from ftprep.check import CheckResult
from ftprep.lint.finding import Finding, Severity
from ftprep.rules.catalog import all_rules
from ftprep.textsafe import dumps_json

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}


def fingerprint(finding: Finding) -> str:
    """Stable identity of a finding that does not depend on its line number."""
    key = "\x1f".join((finding.code, finding.path, finding.pointer or "", finding.message))
    # surrogatepass: a lone surrogate from a JSON key still has bytes to hash.
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
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
        "partialFingerprints": {"ftprepFinding/v1": fingerprint(finding)},
        "properties": {"pointer": finding.pointer, "name": finding.name},
    }


def render(result: CheckResult) -> str:
    """The SARIF log."""
    rules = all_rules()
    index = {r.code: i for i, r in enumerate(rules)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "ftprep",
                "version": __version__,
                "informationUri": "https://pypi.org/project/ftprep/",
                "rules": [{
                    "id": r.code,
                    "name": r.name,
                    "shortDescription": {"text": r.summary()},
                    "fullDescription": {"text": r.doc()},
                    "help": {"text": r.doc()},
                    "defaultConfiguration": {"level": LEVELS[r.severity]},
                } for r in rules],
            }},
            "results": [_result(f, index) for f in result.findings],
        }],
    }
    return dumps_json(log, indent=True) + "\n"

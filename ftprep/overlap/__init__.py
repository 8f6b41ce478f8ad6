"""Train/validation overlap and within-file duplicates: canonical hashing, normalisation, MinHash/LSH.

Memory holds digests and MinHash signatures only, never the texts (see ``docs/overlap.md``). Reading files
(``find_overlap``, ``learn_template``, ``scan_records``) is :mod:`ftprep.overlap_pass`'s, above the engine.
"""

from __future__ import annotations

from ftprep.overlap.compare import (
    OVERLAP_KINDS,
    DigestCollector,
    Duplicate,
    OverlapPair,
    OverlapReport,
    compare_collectors,
    find_duplicates,
)

__all__ = [
    "OVERLAP_KINDS",
    "DigestCollector",
    "Duplicate",
    "OverlapPair",
    "OverlapReport",
    "compare_collectors",
    "find_duplicates",
]

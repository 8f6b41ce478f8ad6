"""Byte-level JSONL reading, strict JSON parsing and atomic writing."""

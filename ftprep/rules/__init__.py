"""Rule modules; importing this package registers every rule and record check."""

from ftprep.rules import bytes, content, dataset, job, lifecycle, overlap, schema, syntax, tokens

__all__ = ["bytes", "content", "dataset", "job", "lifecycle", "overlap", "schema", "syntax", "tokens"]

"""Rule modules; importing this package registers every rule and record check."""

from ftprep.rules import (
    bytes,
    compat,
    content,
    dataset,
    diagnosis,
    job,
    lifecycle,
    nulls,
    overlap,
    preference,
    reinforcement,
    schema,
    syntax,
    template,
    tokens,
    tools,
    vision,
)

__all__ = ["bytes", "compat", "content", "dataset", "diagnosis", "job", "lifecycle", "nulls", "overlap", "preference",
           "reinforcement", "schema", "syntax", "template", "tokens", "tools", "vision"]

"""Tokens: offline tokenizer loading, per-example accounting and token statistics."""

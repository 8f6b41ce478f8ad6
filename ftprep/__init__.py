"""ftprep: validate, measure and prepare JSONL fine-tuning files before they reach a fine-tuning jobs API."""

from __future__ import annotations

__version__ = "0.1.0"

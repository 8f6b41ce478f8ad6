"""Record formats: pydantic models (the source of the JSON Schemas in ``schemas/``) and format detection."""

from ftprep.formats.detect import CHAT, COMPLETION, KINDS, PREFERENCE, detect_format, kind_label

__all__ = ["CHAT", "COMPLETION", "KINDS", "PREFERENCE", "detect_format", "kind_label"]

"""The legacy completions record ``{"prompt": str, "completion": str}`` (babbage-002, davinci-002)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class CompletionRecord(BaseModel):
    """One completions example: exactly a prompt and a completion."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    completion: str

"""Which targets ``upload`` and ``jobs`` can reach today, and what each needs from the environment.

OpenAI and Azure OpenAI share the ``openai`` SDK's jobs API (Azure through ``AzureOpenAI`` or the v1
``base_url``); Together and Fireworks have APIs of their own (issue 16). For those, ``upload`` still runs the
target's check, so a broken file exits 1 with its findings and a good one is told how to send it, and nothing is
sent either way.
"""

from __future__ import annotations

import os

from ftprep.data.targets import DEFAULT_TARGET, Target
from ftprep.errors import ConfigError


def uses_openai_api(target: Target) -> bool:
    """Whether the target's jobs API is OpenAI's (``openai`` itself, or a target that inherits it)."""
    return target.name == DEFAULT_TARGET or target.inherits == DEFAULT_TARGET


def require_api(target: Target, command: str) -> None:
    """Raise :class:`ConfigError` when ``command`` cannot reach ``target`` (or its environment is incomplete)."""
    if not uses_openai_api(target):
        raise ConfigError(
            f"`ftprep {command}` cannot send to {target.name} yet: its API is not the OpenAI jobs API that ftprep "
            f"drives (Together and Fireworks uploads are issue 16); nothing was sent. Use the service's own SDK "
            f"or CLI ({target.docs or target.title})"
        )
    if target.name != DEFAULT_TARGET and not (os.environ.get("AZURE_OPENAI_ENDPOINT")
                                              or os.environ.get("OPENAI_BASE_URL")):
        raise ConfigError(
            f"--target {target.name}: set AZURE_OPENAI_ENDPOINT (and AZURE_OPENAI_API_KEY, OPENAI_API_VERSION), or "
            "OPENAI_BASE_URL=https://RESOURCE.openai.azure.com/openai/v1/ with OPENAI_API_KEY"
        )

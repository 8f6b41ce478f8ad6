"""Which targets ``upload`` and ``jobs`` can reach, and what each needs from the environment.

OpenAI and Azure OpenAI share the ``openai`` SDK's jobs API (Azure through ``AzureOpenAI`` or the v1
``base_url``); Together and Fireworks have services of their own (``ftprep.upload.service``), picked by the target's
name or the one it inherits. For any other target ``upload`` still runs the target's check, so a broken file exits 1
with its findings and a good one is told why nothing is sent.
"""

from __future__ import annotations

import os

from ftprep.data.targets import DEFAULT_TARGET, Target
from ftprep.errors import ConfigError


def uses_openai_api(target: Target) -> bool:
    """Whether the target's jobs API is OpenAI's (``openai`` itself, or a target that inherits it)."""
    # Azure's own heirs (a user's `[tool.ftprep.targets.x]` with inherits = "azure") speak it too.
    return bool({target.name, target.inherits} & {DEFAULT_TARGET, "azure"})


def service_name(target: Target) -> str | None:
    """The service module's name for ``target`` (itself or the target it inherits), None when it has none."""
    from ftprep.upload.service import SERVICES

    for name in (target.name, target.inherits):
        if name in SERVICES:
            return name
    return None


def require_api(target: Target, command: str) -> None:
    """Raise :class:`ConfigError` when ``command`` cannot reach ``target`` (or its environment is incomplete)."""
    if service_name(target) is not None:
        return
    if not uses_openai_api(target):
        raise ConfigError(
            f"`ftprep {command}` cannot send to {target.name}: ftprep drives OpenAI's jobs API (openai, azure) and "
            f"the together and fireworks services; nothing was sent. Use the service's own SDK or CLI "
            f"({target.docs or target.title})"
        )
    if target.name != DEFAULT_TARGET and not (os.environ.get("AZURE_OPENAI_ENDPOINT")
                                              or os.environ.get("OPENAI_BASE_URL")):
        raise ConfigError(
            f"--target {target.name}: set AZURE_OPENAI_ENDPOINT (and AZURE_OPENAI_API_KEY, OPENAI_API_VERSION), or "
            "OPENAI_BASE_URL=https://RESOURCE.openai.azure.com/openai/v1/ with OPENAI_API_KEY"
        )

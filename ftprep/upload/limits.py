"""The API's size limits and ftprep's defaults for uploading and following (no SDK import: cheap)."""

from __future__ import annotations

MiB = 1024 * 1024
# The API's units are binary: its 64 MB part limit is 67108864 bytes.
DEFAULT_MULTIPART_THRESHOLD = 256 * MiB
DEFAULT_PART_SIZE = 64 * MiB
MAX_PART_SIZE = 64 * MiB
MAX_FILES_CREATE_BYTES = 512 * MiB
MAX_UPLOAD_BYTES = 8 * 1024 * MiB
DEFAULT_POLL_INTERVAL = 10.0
# Seconds the API may stay silent before a request fails and is retried (see ftprep.upload.client).
DEFAULT_API_TIMEOUT = 60.0
API_TIMEOUT_ENV = "FTPREP_API_TIMEOUT"
# Azure OpenAI: files.create "silently fails on JSONL files >~150MB"; Microsoft's own guidance sends files from
# 100 MB on through the Uploads API in 64 MB parts. Source: microsoft/azure-skills,
# skills/microsoft-foundry/finetuning/references/large-file-uploads.md (read 2026-12-06). MB read as 10^6 bytes,
# the smaller reading. Not a target parameter of ftprep/data/targets (no such field there yet).
MULTIPART_THRESHOLDS = {"azure": 100_000_000}

"""FT340-FT349: images in messages: where they may be, how many, and what a data URL holds.

Data URLs are decoded and opened with Pillow (header only: the pixels are not decoded); the result is cached
by a digest of the payload, so an image repeated across rows is checked once. Remote URLs cannot be checked
offline: one info finding per example says so.
"""

from __future__ import annotations

import binascii
import hashlib
import io
import re
from base64 import b64decode
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ftprep.formats.detect import CHAT
from ftprep.lint.context import Record, RecordContext, record_check
from ftprep.lint.finding import Severity, pointer
from ftprep.lint.registry import Rule, register
from ftprep.rules.facts import LIST_CONTENT, chat_facts

Where = tuple[str | int, ...]
MAX_IMAGE_BYTES = 10 * 1024 * 1024
MODES = ("RGB", "RGBA")
DATA_URL_RE = re.compile(r"^data:(image/[a-zA-Z0-9.+-]+)?((?:;[^;,]*)*?)(;base64)?,", re.ASCII)
# Magic bytes of the accepted formats; WEBP is RIFF....WEBP.
_MAGIC = ((b"\xff\xd8\xff", "JPEG"), (b"\x89PNG\r\n\x1a\n", "PNG"))


@register
class ImageOutsideUserMessage(Rule):
    """What it does
    Flags an `image_url` content part in a system, assistant or tool message.

    Why it matters
    Fine-tuning takes images only as input from the user; the API rejects examples where the assistant
    (the training target) or the system prompt holds an image.

    Example
    `{"role": "assistant", "content": [{"type": "image_url", "image_url": {"url": "https://..."}}]}`

    Fix
    Move the image into the user message that asks about it.
    """

    code = "FT340"
    name = "image-outside-user-message"
    severity = Severity.ERROR


@register
class TooManyImages(Rule):
    """What it does
    Flags an example with more images than the target takes (OpenAI 10, Azure OpenAI 64, Together 10).

    Why it matters
    The fine-tuning service rejects the example (OpenAI: at most 10 images per example).

    Example
    A user message with 12 `image_url` parts, checked for OpenAI.

    Fix
    Split the example, or keep the images that matter.
    """

    code = "FT341"
    name = "too-many-images"
    severity = Severity.ERROR


@register
class InvalidImageUrl(Rule):
    """What it does
    Flags an image URL that is neither an `https://` URL nor a base64 `data:image/...;base64,` URL, and a data
    URL whose payload is not valid base64.

    Why it matters
    Local paths (`images/1.png`, `file://...`) and truncated base64 are common in exports from other tools;
    the API cannot fetch or decode them.

    Example
    `{"type": "image_url", "image_url": {"url": "/data/images/cat.png"}}`

    Fix
    Upload the image and use its https URL, or embed it: `data:image/png;base64,<base64 of the file>`.
    """

    code = "FT342"
    name = "invalid-image-url"
    severity = Severity.ERROR


@register
class UnsupportedImageFormat(Rule):
    """What it does
    Flags a data-URL image that is not JPEG, PNG or WEBP (judged by the decoded bytes, not the declared
    type) or that Pillow cannot open.

    Why it matters
    Fine-tuning accepts only these three formats; GIF, BMP, TIFF or a corrupt file make the job skip or
    reject the example.

    Example
    `data:image/png;base64,R0lGODlh...` (the bytes are a GIF)

    Fix
    Convert the image to PNG or JPEG (`Image.open(f).convert("RGB").save(out, "PNG")`).
    """

    code = "FT343"
    name = "unsupported-image-format"
    severity = Severity.ERROR


@register
class UnsupportedImageMode(Rule):
    """What it does
    Flags a data-URL image whose colour mode is not RGB or RGBA (grayscale `L`, palette `P`, `CMYK`...).

    Why it matters
    The fine-tuning API accepts only RGB and RGBA images and skips the others.

    Example
    A grayscale PNG (mode `L`) or a CMYK JPEG.

    Fix
    Convert it: `Image.open(f).convert("RGB")` (or `"RGBA"` to keep transparency).
    """

    code = "FT344"
    name = "unsupported-image-mode"
    severity = Severity.ERROR


@register
class ImageTooLarge(Rule):
    """What it does
    Flags a data-URL image larger than 10 MB once decoded.

    Why it matters
    The API rejects images over 10 MB.

    Example
    A 14 MB PNG screenshot embedded as base64.

    Fix
    Downscale it or save it as JPEG; the model sees at most 2048 x 2048 pixels anyway.
    """

    code = "FT345"
    name = "image-too-large"
    severity = Severity.ERROR


@register
class RemoteImageUnchecked(Rule):
    """What it does
    Notes, once per example, that its images are remote `https://` URLs that cannot be checked offline.

    Why it matters
    The job downloads each image; an image that is gone, private or in a wrong format is skipped by the
    job. ftprep does not use the network, so it cannot tell.

    Example
    `{"type": "image_url", "image_url": {"url": "https://example.com/chart.png"}}`

    Fix
    Nothing to fix if the URLs are public and stable; to check everything offline, embed the images as
    base64 data URLs.
    """

    code = "FT346"
    name = "remote-image-unchecked"
    severity = Severity.INFO


@register
class RemoteImageNotAccepted(Rule):
    """What it does
    Flags a remote `https://` image URL for a target that takes images as base64 data URLs only (Together).

    Why it matters
    Together's vision fine-tuning reads images embedded in the file; a remote URL is rejected by the server's
    validation after the upload.

    Example
    `{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}` checked with `--target together`.

    Fix
    Download the image and embed it: `data:image/png;base64,<base64 of the file>`.
    """

    code = "FT347"
    name = "remote-image-not-accepted"
    severity = Severity.ERROR


@dataclass(frozen=True, slots=True)
class ImageProblem:
    """Why a data-URL image is rejected."""

    rule: type[Rule]
    message: str
    fix: str


def iter_images(messages: Any, base: Where) -> Iterator[tuple[Any, dict[str, Any], Where]]:
    """(role, image part, where) of every ``image_url`` part of a message list."""
    if not isinstance(messages, list):
        return
    for index, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if not isinstance(content, list):
            continue
        for number, part in enumerate(content):
            if isinstance(part, dict) and part.get("type") == "image_url":
                yield message.get("role"), part, (*base, index, "content", number)


def has_images(messages: Any) -> bool:
    """Whether a message list holds any image part."""
    return next(iter_images(messages, ()), None) is not None


def check_images(messages: Any, ctx: RecordContext, base: Where) -> None:
    """Check every image of a message list at ``base``: role, count, data-URL content, remote URLs."""
    if not isinstance(messages, list):
        return
    for message in messages:
        # Fast exit for text-only rows (most rows of most files): images live only in part lists.
        if type(message) is dict and type(message.get("content")) is list:
            break
    else:
        return
    count = 0
    remote: list[Where] = []
    for role, part, where in iter_images(messages, base):
        count += 1
        if role != "user":
            ctx.emit(ImageOutsideUserMessage, pointer(*where), f"image in a {role} message" if isinstance(role, str)
                     else "image in a message without a valid role", "move the image into a user message")
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, dict) else None
        if not isinstance(url, str):
            continue  # reported by the schema rules (invalid-content-part)
        here = pointer(*where, "image_url", "url")
        if url.startswith("data:"):
            problem = _check_data_url(url)
            if problem is not None:
                ctx.emit(problem.rule, here, problem.message, problem.fix)
        elif url.startswith(("https://", "http://")):
            if ctx.target.image_urls == "data-only":
                ctx.emit(RemoteImageNotAccepted, here,
                         f"remote image URL; {ctx.target.name} takes base64 data URLs only",
                         "embed the image: data:image/png;base64,<base64 of the file>")
            else:
                remote.append(where)
        else:
            shown = url if len(url) <= 60 else url[:57] + "..."
            ctx.emit(InvalidImageUrl, here, f"image URL {shown!r} is neither an https URL nor a data URL",
                     "use a public https URL or data:image/png;base64,<data>")
    limit = ctx.target.max_images_per_example
    if limit is not None and count > limit:
        ctx.emit(TooManyImages, pointer(*base), f"{count} images in one example; {ctx.target.name}'s limit is {limit}",
                 f"split the example or drop {count - limit} image(s)")
    if remote:
        ctx.emit(RemoteImageUnchecked, pointer(*remote[0], "image_url", "url"),
                 f"{len(remote)} remote image URL(s) cannot be checked offline",
                 "make sure they are public and stable, or embed the images as base64 data URLs")


def _check_data_url(url: str) -> ImageProblem | None:
    match = DATA_URL_RE.match(url)
    if match is None or match.group(1) is None or match.group(3) is None:
        return ImageProblem(InvalidImageUrl, f"data URL {url[:40]!r}... is not data:image/<type>;base64,<data>",
                            "write data:image/png;base64,<base64 of the file>")
    payload = url[match.end():]
    # Decoded size from the base64 length, before decoding anything large.
    size = len(payload) * 3 // 4
    if size > MAX_IMAGE_BYTES + 3:
        return ImageProblem(ImageTooLarge, f"image is {size / 1024 / 1024:.1f} MB; the limit is 10 MB",
                            "downscale it or save it as JPEG")
    return _check_payload(hashlib.blake2b(payload.encode("ascii", "replace"), digest_size=16).digest(), payload)


# Verdicts by payload digest (not by payload: the cache must not hold megabytes of base64).
_VERDICTS: dict[bytes, ImageProblem | None] = {}
_VERDICTS_MAX = 4096


def _check_payload(digest: bytes, payload: str) -> ImageProblem | None:
    if digest in _VERDICTS:
        return _VERDICTS[digest]
    if len(_VERDICTS) >= _VERDICTS_MAX:
        _VERDICTS.clear()
    verdict = _VERDICTS[digest] = _inspect(payload)
    return verdict


def _inspect(payload: str) -> ImageProblem | None:
    try:
        data = b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        return ImageProblem(InvalidImageUrl, f"data URL payload is not valid base64 ({exc})",
                            "re-encode the file with base64 (no line breaks, no URL-safe alphabet)")
    if len(data) > MAX_IMAGE_BYTES:
        return ImageProblem(ImageTooLarge, f"image is {len(data) / 1024 / 1024:.1f} MB; the limit is 10 MB",
                            "downscale it or save it as JPEG")
    kind = next((name for magic, name in _MAGIC if data.startswith(magic)), None)
    if kind is None and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        kind = "WEBP"
    if kind is None:
        return ImageProblem(UnsupportedImageFormat, f"image bytes are not JPEG, PNG or WEBP (start: {data[:8].hex()})",
                            "convert the image to PNG or JPEG")
    from PIL import Image, UnidentifiedImageError  # imported for the first embedded image (start-up time)

    try:
        with Image.open(io.BytesIO(data), formats=[kind]) as image:
            mode = image.mode
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        return ImageProblem(UnsupportedImageFormat, f"{kind} image cannot be opened: {exc}",
                            "re-export the image; the data looks truncated or corrupt")
    if mode not in MODES:
        return ImageProblem(UnsupportedImageMode, f"{kind} image has mode {mode}; only RGB and RGBA are accepted",
                            'convert it: Image.open(f).convert("RGB")')
    return None


@record_check(CHAT, facts=LIST_CONTENT)
def check_chat_images(record: Record, ctx: RecordContext) -> None:
    """Images of a chat record."""
    if chat_facts(record, ctx) & LIST_CONTENT:
        check_images(record.get("messages"), ctx, ("messages",))

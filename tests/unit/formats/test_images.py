"""Data-URL images: the 10 MB limit, and images in DPO inputs."""

from __future__ import annotations

import base64
import io
import os
from collections.abc import Callable
from pathlib import Path

import orjson
from PIL import Image

from ftprep.check import check_files
from tests.conftest import TODAY


def _png_data_url(width: int, height: int) -> str:
    # Random pixels do not compress: the PNG is about width x height x 3 bytes.
    image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=0)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _vision_row(url: str) -> bytes:
    return orjson.dumps({"messages": [
        {"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                     {"type": "image_url", "image_url": {"url": url}}]},
        {"role": "assistant", "content": "Noise."},
    ]})


def test_image_over_10_mb_is_too_large(write_lines: Callable[..., Path]) -> None:
    path = write_lines([_vision_row(_png_data_url(1900, 1900))])
    result = check_files([str(path)], model="gpt-4o", min_examples=1, today=TODAY)
    assert [(f.code, f.line, f.pointer) for f in result.findings] == [
        ("FT345", 1, "/messages/0/content/1/image_url/url"),
    ]
    assert result.findings[0].message.startswith("image is 10.")


def test_image_just_under_10_mb_passes(write_lines: Callable[..., Path]) -> None:
    path = write_lines([_vision_row(_png_data_url(1800, 1800))])
    assert check_files([str(path)], model="gpt-4o", min_examples=1, today=TODAY).findings == []


def test_image_in_a_dpo_input_is_checked(write_lines: Callable[..., Path]) -> None:
    row = {"input": {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Describe it."}, {"type": "image_url", "image_url": {"url": "photos/cat.jpg"}}]}]},
        "preferred_output": [{"role": "assistant", "content": "A cat."}],
        "non_preferred_output": [{"role": "assistant", "content": "A dog."}]}
    path = write_lines([orjson.dumps(row)])
    result = check_files([str(path)], model="gpt-4o", method="dpo", min_examples=1, today=TODAY)
    assert [(f.code, f.pointer) for f in result.findings] == [
        ("FT342", "/input/messages/0/content/1/image_url/url"),
    ]

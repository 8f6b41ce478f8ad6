"""The atomic writer: all or nothing, never over an input, never over an output without force."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ftprep.errors import ConfigError
from ftprep.jsonl.writer import AtomicOutput, atomic_outputs, remove_stale_temps, temp_prefix


def _temps(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".ftprep-tmp-" in p.name)


def test_committed_output_holds_every_line(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with atomic_outputs([AtomicOutput(out)]) as (writer,):
        writer.write_line(b'{"a":1}')
        writer.write_line(b'{"a":2}')
    assert out.read_bytes() == b'{"a":1}\n{"a":2}\n'
    assert _temps(tmp_path) == []


def test_output_mode_follows_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with atomic_outputs([AtomicOutput(out)]) as (writer,):
        writer.write_line(b"{}")
    mask = os.umask(0o022)
    os.umask(mask)
    assert out.stat().st_mode & 0o777 == 0o666 & ~mask


def test_exception_leaves_no_output_and_no_temp_file(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    with pytest.raises(RuntimeError), atomic_outputs([AtomicOutput(out)]) as (writer,):
        writer.write_line(b"{}")
        raise RuntimeError("boom")
    assert not out.exists()
    assert _temps(tmp_path) == []


def test_keyboard_interrupt_keeps_the_old_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old\n")
    with pytest.raises(KeyboardInterrupt), atomic_outputs([AtomicOutput(out, force=True)]) as (writer,):
        writer.write_line(b"new")
        raise KeyboardInterrupt
    assert out.read_bytes() == b"old\n"
    assert _temps(tmp_path) == []


def test_refuses_to_write_over_the_input(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_bytes(b"{}\n")
    output = AtomicOutput(tmp_path / "." / "data.jsonl", force=True)
    with pytest.raises(ConfigError, match="is the input file"), atomic_outputs([output], [source]):
        pass
    assert source.read_bytes() == b"{}\n"


def test_refuses_a_hard_link_to_the_input(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    source.write_bytes(b"{}\n")
    os.link(source, tmp_path / "alias.jsonl")
    with pytest.raises(ConfigError, match="is the input file"):
        AtomicOutput(tmp_path / "alias.jsonl", force=True).validate([source])


def test_refuses_an_existing_output_without_force(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"keep\n")
    with pytest.raises(ConfigError, match="--force"), atomic_outputs([AtomicOutput(out)]):
        pass
    assert out.read_bytes() == b"keep\n"


def test_force_replaces_an_existing_output(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    out.write_bytes(b"old\n")
    with atomic_outputs([AtomicOutput(out, force=True)]) as (writer,):
        writer.write_line(b"new")
    assert out.read_bytes() == b"new\n"


def test_refuses_two_outputs_with_one_path(tmp_path: Path) -> None:
    outputs = [AtomicOutput(tmp_path / "a.jsonl"), AtomicOutput(tmp_path / "a.jsonl")]
    with pytest.raises(ConfigError, match="two outputs"), atomic_outputs(outputs):
        pass


def test_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        AtomicOutput(tmp_path / "nope" / "a.jsonl").validate([])


def test_empty_optional_output_is_not_created(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    with atomic_outputs([AtomicOutput(tmp_path / "out.jsonl"), AtomicOutput(rejects, optional=True)]):
        pass
    assert not rejects.exists()
    assert (tmp_path / "out.jsonl").read_bytes() == b""


def test_empty_optional_output_removes_an_old_one_with_force(tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.jsonl"
    rejects.write_bytes(b"stale\n")
    with atomic_outputs([AtomicOutput(rejects, optional=True, force=True)]):
        pass
    assert not rejects.exists()


def test_stale_temp_of_a_dead_process_is_removed_on_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    stale = tmp_path / f"{temp_prefix(out)}999999999-abc"
    stale.write_bytes(b"partial")
    other = tmp_path / f"{temp_prefix(tmp_path / 'other.jsonl')}999999999-abc"
    other.write_bytes(b"not ours")
    with atomic_outputs([AtomicOutput(out)]) as (writer,):
        writer.write_line(b"{}")
    assert _temps(tmp_path) == [other.name]


def test_temp_of_a_live_process_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    live = tmp_path / f"{temp_prefix(out)}1-abc"  # pid 1 always runs
    live.write_bytes(b"in progress")
    assert remove_stale_temps(out) == []
    assert live.exists()

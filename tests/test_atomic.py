"""Atomic writes: an interrupted write leaves the previous output whole."""

import os
import stat

import pytest

from train.core.atomic import atomic_dir, atomic_file, write_json


def test_atomic_file_keeps_old_content_when_writing_fails(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_file(target) as handle:
            handle.write('{"v": 2, "trunc')
            raise RuntimeError("interrupted")
    assert target.read_text() == '{\n  "v": 1\n}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_atomic_dir_replaces_whole_or_not_at_all(tmp_path):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("new")
            raise KeyboardInterrupt
    assert (target / "a.txt").read_text() == "old"
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["b.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["model"]


def test_outputs_get_the_usual_permissions_not_private_ones(tmp_path):
    write_json(tmp_path / "report.json", {})
    with atomic_dir(tmp_path / "model") as tmp:
        (tmp / "a.txt").write_text("x")
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "report.json").stat().st_mode) == 0o666 & ~mask
    assert stat.S_IMODE((tmp_path / "model").stat().st_mode) == 0o777 & ~mask


def test_files_written_private_inside_an_atomic_dir_follow_the_umask(tmp_path):
    """Weights saved through a private temporary file (0600) must still be readable by other users."""
    with atomic_dir(tmp_path / "model") as tmp:
        weights = tmp / "model.safetensors"
        weights.write_bytes(b"w")
        os.chmod(weights, 0o600)
    mask = os.umask(0o022)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "model" / "model.safetensors").stat().st_mode) == 0o666 & ~mask

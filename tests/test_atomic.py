"""Atomic writes: an interrupted write leaves the previous output whole."""

import json
import os
import shutil
import stat
import threading

import pytest

from train.core import atomic
from train.core.atomic import atomic_dir, atomic_file, recover_dir, write_json


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


def _fallback_killed_at(monkeypatch, what: str, call: int):
    """No atomic swap (as on a file system without it) and a kill at the ``call``-th ``what``."""
    monkeypatch.setattr(atomic, "_exchange", lambda a, b: False)
    real = {"rename": os.rename, "rmtree": shutil.rmtree}[what]
    calls = []

    def killed(*args, **kwargs):
        calls.append(args)
        if len(calls) == call:
            raise KeyboardInterrupt  # nothing after this point runs, as after a kill
        return real(*args, **kwargs)

    monkeypatch.setattr(os if what == "rename" else shutil, what, killed)
    return real


def test_a_kill_between_the_two_renames_leaves_the_old_folder_whole_and_recoverable(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    real = _fallback_killed_at(monkeypatch, "rename", 2)  # path -> .old-model done, new -> path not
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("new")
    monkeypatch.setattr(os, "rename", real)
    assert not target.exists()
    assert (tmp_path / ".old-model" / "a.txt").read_text() == "old"  # complete, under a fixed name
    assert "restored" in recover_dir(target)
    assert (target / "a.txt").read_text() == "old" and not (tmp_path / ".old-model").exists()


def test_the_next_write_recovers_what_a_kill_left(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    real = _fallback_killed_at(monkeypatch, "rename", 2)
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("lost")
    monkeypatch.setattr(os, "rename", real)
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("new")
    assert (target / "a.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if not p.name.startswith(".tmp-")] == ["model"]


def test_a_kill_after_the_renames_leaves_the_new_folder_and_an_old_copy_that_is_removed(tmp_path, monkeypatch):
    target = tmp_path / "model"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("old")
    real = _fallback_killed_at(monkeypatch, "rmtree", 1)  # both renames done, the old copy not yet deleted
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("new")
    monkeypatch.setattr(shutil, "rmtree", real)
    assert (target / "a.txt").read_text() == "new" and (tmp_path / ".old-model").is_dir()
    assert "removed" in recover_dir(target)
    assert (target / "a.txt").read_text() == "new" and sorted(p.name for p in tmp_path.iterdir()) == ["model"]


def test_a_symbolic_link_is_followed_and_stays(tmp_path):
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_json(link, {"v": 1})
    assert link.is_symlink() and json.loads(real.read_text()) == {"v": 1}


def test_streams_are_written_through_not_replaced(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    write_json(fifo, {"v": 1})
    reader.join(10)
    assert received == ['{\n  "v": 1\n}\n'] and stat.S_ISFIFO(fifo.lstat().st_mode)
    write_json("/dev/null", {"v": 1})
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fifo"]  # no temporary file beside either

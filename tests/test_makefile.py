"""The Makefile's own checks, run as a new user would run make."""

import shutil
import subprocess

import pytest

from train.core.paths import ROOT


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_an_old_python_is_named_before_anything_is_installed(tmp_path):
    old_python = tmp_path / "python3.9"
    old_python.write_text('#!/bin/sh\nif [ "$1" = "--version" ]; then echo "Python 3.9.18"; exit 0; fi\nexit 1\n')
    old_python.chmod(0o755)
    venv = tmp_path / "venv"
    result = subprocess.run(["make", "-C", str(ROOT), "install", f"PYTHON={old_python}", f"VENV={venv}"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "error: kalimat needs Python 3.10 or newer" in result.stderr and "Python 3.9.18" in result.stderr
    assert not venv.exists()

"""Shared fixtures: tiny checkpoints in temporary folders and a helper that runs ``python -m train``.

Training tests run the real command in a subprocess (Hydra, the Trainer, the export) with
every output folder pointed into the test's temporary directory and a model small enough
to train for real in seconds.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from tiny_models import save_tiny_albert, save_tiny_bert


def _train_env(**changes) -> dict:
    """The environment for a training subprocess: offline, one thread (the test machine is shared)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture(scope="session")
def train_env():
    """``train_env(**changes)``: the training environment with variables changed (``None`` removes one)."""
    return _train_env


@pytest.fixture(scope="session")
def processed_dir(tmp_path_factory) -> Path:
    """One dataset folder for the whole session: the first run builds it, later runs reuse it."""
    return tmp_path_factory.mktemp("processed")


@pytest.fixture(scope="session")
def train_in(processed_dir):
    """``train_in(workdir, *overrides)`` runs ``python -m train`` with every output under ``workdir``.

    Returns ``(process, runs_dir, models_dir)``; a failing run fails the test with its
    error output unless ``check=False``.
    """

    def run(workdir, *overrides, launcher=(sys.executable, "-m", "train"), env=None, timeout=300, check=True):
        runs_dir, models_dir = Path(workdir) / "runs", Path(workdir) / "models"
        command = [
            *launcher,
            f"paths.runs_dir={runs_dir}",
            f"paths.models_dir={models_dir}",
            f"paths.processed_dir={processed_dir}",
            *overrides,
        ]
        process = subprocess.run(
            command, cwd=workdir, env=env or _train_env(), capture_output=True, text=True, timeout=timeout
        )
        if check and process.returncode != 0:
            raise AssertionError(f"{' '.join(command)} failed ({process.returncode}):\n{process.stderr[-4000:]}")
        return process, runs_dir, models_dir

    return run


@pytest.fixture
def run_train(tmp_path, train_in):
    """``train_in`` bound to the test's temporary directory."""
    return lambda *overrides, **kwargs: train_in(tmp_path, *overrides, **kwargs)


@pytest.fixture(scope="session")
def tiny_bert_dir(tmp_path_factory) -> Path:
    return save_tiny_bert(tmp_path_factory.mktemp("tiny-bert"))


@pytest.fixture(scope="session")
def tiny_albert_dir(tmp_path_factory) -> Path:
    return save_tiny_albert(tmp_path_factory.mktemp("tiny-albert"))

"""Bad command-line overrides are one line naming the problem, before Hydra runs anything."""

import subprocess
import sys

import pytest

from train.core.errors import KalimatError
from train.core.overrides import check_overrides


@pytest.mark.parametrize("override, message", [
    ("nosuchkey=1", r"^bad override \(Could not override 'nosuchkey'\.; no such key\); check the key and value with: "
                    r"python -m train --cfg job"),
    ("seed=1,2", r"^bad override \(Ambiguous value for argument 'seed=1,2'; to sweep over it, add -m\)"),
    ("trainer.max_length=${oops}", r"^bad override \(Interpolation key 'oops' not found\)"),
    ("model=bert", r"^model=bert: no such model config; use one of: indobert_base, indobert_lite, local, mini"),
    ("run_name=../../etc", r"^run_name=../../etc: must be a plain folder name"),
    ("run_name=..", r"^run_name=..: must be a plain folder name"),
])
def test_bad_overrides_are_named(override, message):
    with pytest.raises(KalimatError, match=message):
        check_overrides("train", ["model=mini", override])


def test_two_hydra_modes_are_one_line():
    with pytest.raises(KalimatError, match=r"^--cfg and -m cannot be combined; use one of them"):
        check_overrides("train", ["-m", "--cfg", "job", "model=mini", "seed=1,2"])
    check_overrides("train", ["--cfg", "job", "model=mini"])  # one mode: Hydra's business


def test_good_overrides_and_sweeps_pass():
    check_overrides("train", ["experiment=quickstart", "seed=3", "run_name=my run-1.b"])
    check_overrides("train", ["-m", "seed=1,2,3"])  # sweeps are expanded by Hydra itself
    check_overrides("train", ["-m", "hparams_search=mini_optuna", "experiment=debug", "run_name=a,b"])
    check_overrides("dataset", ["data.split.seed=7"])


def test_dataset_cli_unknown_key_is_one_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "train.dataset", f"paths.processed_dir={tmp_path}", "nosuchkey=1"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("error: bad override (Could not override 'nosuchkey'.; no such key); ")
    assert not any(tmp_path.iterdir())


def test_a_multirun_typo_is_one_line():
    with pytest.raises(KalimatError, match=r"^bad override \(Could not override 'trainer.learning_rat'\.; no such key\)"):
        check_overrides("train", ["-m", "model=mini", "seed=1,2", "trainer.learning_rat=1e-3"])


def test_a_search_over_keys_the_model_has_not_is_one_line_before_any_folder(tmp_path):
    # mini_optuna searches the mini model's depth and dropout; the default model has neither.
    result = subprocess.run(
        [sys.executable, "-m", "train", "-m", "hparams_search=mini_optuna", "hydra.sweeper.n_trials=1",
         f"paths.runs_dir={tmp_path / 'runs'}", f"paths.models_dir={tmp_path / 'models'}"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2
    assert result.stderr == ("error: hparams_search=mini_optuna sweeps model.hidden_dropout_prob, which "
                             "model=indobert_base has not; add experiment=debug or experiment=quickstart or model=mini\n")
    assert not any(tmp_path.iterdir())

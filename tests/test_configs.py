"""Every config composes, and the presets and sweeps run: the lightning-hydra-template's config tests."""

import json
import subprocess
import sys

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

from train.core.paths import CONFIG_DIR
from train.pipeline import check_config

EXPERIMENTS = sorted(p.stem for p in (CONFIG_DIR / "experiment").glob("*.yaml"))
SEARCHES = sorted(p.stem for p in (CONFIG_DIR / "hparams_search").glob("*.yaml"))


def compose_train(*overrides, multirun=False):
    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        cfg = compose("train", overrides=list(overrides), return_hydra_config=multirun)
    if multirun:
        HydraConfig().set_config(cfg)
    return cfg


def test_there_are_presets_and_sweeps_to_test():
    assert {"quickstart", "debug"} <= set(EXPERIMENTS) and SEARCHES


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes_resolves_and_passes_the_checks(experiment):
    cfg = compose_train(f"experiment={experiment}")
    OmegaConf.to_container(cfg, resolve=True)
    check_config(cfg)
    # the presets need no download: the mini model from scratch (with its recipe) or a local checkpoint
    if cfg.model.name_or_path is None:
        fine_tuning = OmegaConf.load(CONFIG_DIR / "trainer" / "default.yaml").learning_rate
        assert cfg.model.name == "mini" and cfg.trainer.learning_rate >= 10 * fine_tuning
    else:
        assert cfg.model.name_or_path.startswith(cfg.paths.models_dir) and cfg.model.pretrain.run_name


@pytest.mark.parametrize("search", SEARCHES)
@pytest.mark.parametrize("experiment", ["quickstart", "debug"])  # the presets of the mini recipe they search
def test_every_sweep_composes_with_the_mini_presets(search, experiment):
    cfg = compose_train(f"hparams_search={search}", f"experiment={experiment}", multirun=True)
    assert cfg.hydra.sweeper.direction == "maximize" and cfg.hydra.sweeper.params
    for key in cfg.hydra.sweeper.params:  # every swept key exists in the composed config
        assert OmegaConf.select(cfg, key) is not None, key


def test_a_group_option_sets_only_its_own_group():
    """No option reaches into another group (only experiment/ and hparams_search/ presets may)."""
    for group in ("data", "model", "trainer", "cleaning", "paths", "hydra"):
        for file in (CONFIG_DIR / group).glob("*.yaml"):
            assert "@package _global_" not in file.read_text(), file


MODELS = "model: indobert_base, indobert_lite, local, mini"


@pytest.mark.parametrize("command, groups", [
    ("train", ["cleaning: default", "data: news, own, seeds", "experiment: debug, offline, quickstart",
               "hparams_search: mini_optuna", MODELS, "paths: default", "trainer: default, from_scratch"]),
    ("train.pretrain", ["cleaning: default", MODELS, "paths: default"]),
    ("train.dataset", ["cleaning: default", "data: news, own, seeds", "paths: default"]),
])
def test_help_lists_the_groups_each_command_takes_with_their_options(command, groups):
    result = subprocess.run([sys.executable, "-m", command, "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"python -m {command} ")
    listed = result.stdout.split("== Configuration groups ==")[1].split("== Config ==")[0]
    assert [line for line in listed.splitlines() if ": " in line] == groups


@pytest.mark.slow
def test_debug_sweep_runs_two_trials_and_returns_the_metric(run_train):
    process, runs_dir, _ = run_train("hparams_search=mini_optuna", "hydra.sweeper.n_trials=2", "experiment=debug",
                                     launcher=(sys.executable, "-m", "train", "-m"))
    (sweep_dir,) = (runs_dir / "multirun").iterdir()
    reports = [json.loads(p.read_text()) for p in sorted(sweep_dir.glob("*/report.json"))]
    assert len(reports) == 2
    best = OmegaConf.load(sweep_dir / "optimization_results.yaml")
    validation = [r["selection"]["validation_macro_f1"] for r in reports]
    assert best.best_value == pytest.approx(max(validation))  # what the runs returned is what Optuna saw
    assert {"trainer.learning_rate", "model.num_hidden_layers"} <= set(best.best_params)

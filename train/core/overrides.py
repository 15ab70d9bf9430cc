"""Command-line overrides checked before Hydra runs, so a bad one costs one line, not a page.

Hydra reports an unknown key or an unparsable value with several lines of advice and
leaves a run folder behind; an interpolation error surfaces as a traceback mid-run.
:func:`check_overrides` composes the config the way Hydra will and turns any such problem
into a :class:`~train.core.errors.KalimatError` naming the override and the fix. The values
of a multirun sweep (``-m seed=1,2,3``) are left to Hydra, which expands them itself.
"""

import re

from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.errors import HydraException
from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from . import distributed, paths  # noqa: F401 (both register resolvers the configs use)
from .errors import KalimatError
from .settings import FOLDER_NAME

# Hydra's modes, of which a command line may name one.
HYDRA_MODES = {"-m": "-m", "--multirun": "-m", "-c": "--cfg", "--cfg": "--cfg", "-i": "--info", "--info": "--info",
               "-r": "--run", "--run": "--run", "-sc": "--shell-completion", "--shell-completion": "--shell-completion"}
# What Hydra says after its first line, where that names the cause or the fix.
HYDRA_HINTS = (("is not in struct", "no such key"), ("--multirun", "to sweep over it, add -m"))


def check_group_choices(overrides: list[str]) -> None:
    """Name an unknown config group option (``model=bert``) with the options there are."""
    groups = {p.name for p in paths.CONFIG_DIR.iterdir() if p.is_dir()}
    for override in overrides:
        key, sep, values = override.lstrip("+~").partition("=")
        if not sep or key not in groups:
            continue
        if not re.fullmatch(r"[\w.-]+(,[\w.-]+)*", values):
            continue  # sweep functions such as choice(...) are left to Hydra
        for value in values.split(","):
            if value != "null" and not (paths.CONFIG_DIR / key / f"{value}.yaml").is_file():
                hint = ", or model.name_or_path=<Hub id or folder> for any other model" if key == "model" else ""
                raise KalimatError(f"{key}={value}: no such {key} config; "
                                   f"use one of: {', '.join(paths.group_options(key))}{hint}")


def check_overrides(config_name: str, argv: list[str]) -> None:
    """Raise a one-line error for an override Hydra would reject or could not resolve.

    With ``-m`` the overrides that sweep (``seed=1,2``, ``choice(...)``) are left to Hydra,
    which expands them; the others are checked as in a single run, and so is the sweep's
    search space (:func:`check_sweeper_params`), before the sweep makes its folder.
    """
    modes = sorted({HYDRA_MODES[arg] for arg in argv if arg in HYDRA_MODES})
    if len(modes) > 1:  # Hydra's answer is a traceback
        raise KalimatError(f"{' and '.join(modes)} cannot be combined; use one of them "
                           "(the config of one job of a sweep: drop -m and give one value of each swept key)")
    overrides = [arg for arg in argv if not arg.startswith("-")]
    check_group_choices(overrides)
    flags = {arg for arg in argv if arg.startswith("-")}
    multirun = bool(flags) and flags <= {"-m", "--multirun"}
    if flags and not multirun:
        return  # --cfg, --help ...: Hydra's own business
    try:
        if multirun:
            overrides = [o.input_line for o in OverridesParser.create().parse_overrides(overrides)
                         if not o.is_sweep_override()]
        with initialize_config_dir(config_dir=str(paths.CONFIG_DIR), version_base="1.3"):
            cfg = compose(config_name, overrides=overrides, return_hydra_config=multirun)
        run_name = cfg.get("run_name")
        # hydra.* holds values only a running job has (its number, ...): the run's own keys are resolved
        OmegaConf.to_container(OmegaConf.masked_copy(cfg, [key for key in cfg if key != "hydra"]), resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        first_line = str(err).strip().splitlines()[0]
        told = f"{err}\n{err.__cause__ or ''}"  # Hydra keeps OmegaConf's own message as the cause
        hints = [hint for phrase, hint in HYDRA_HINTS if phrase in told]
        raise KalimatError(
            f"bad override ({'; '.join([first_line, *hints])}); check the key and value with: "
            f"python -m {_module(config_name)} --cfg job"
        ) from None
    if multirun:
        check_sweeper_params(cfg)
    if run_name is not None and not FOLDER_NAME.fullmatch(str(run_name)):  # a folder under runs/ and models/
        raise KalimatError(
            f"run_name={run_name}: must be a plain folder name (letters, digits, '.', '-', '_', spaces)"
        )


def check_sweeper_params(cfg: DictConfig) -> None:
    """Name a key the sweeper would search but the config has not, with the model configs that have it.

    ``hparams_search=mini_optuna`` searches the mini model's depth and dropout: with another
    model Hydra would fail at the first trial, with several lines, after making the sweep's folder.
    """
    for key in cfg.hydra.sweeper.get("params") or {}:
        if key.startswith("+") or OmegaConf.select(cfg, key, default=_ABSENT) is not _ABSENT:
            continue
        search = cfg.hydra.runtime.choices.get("hparams_search")
        swept_by = f"hparams_search={search}" if search else "the sweeper"
        fix = "add a config that has it"
        if key.startswith("model."):
            models = [m for m in paths.group_options("model")
                      if OmegaConf.select(_group_config("model", m), key.removeprefix("model."),
                                          default=_ABSENT) is not _ABSENT]
            presets = [e for e in paths.group_options("experiment")
                       if any({"override /model": m} in _group_config("experiment", e).get("defaults", [])
                              for m in models)]
            fix = "add " + " or ".join([f"experiment={e}" for e in presets] + [f"model={m}" for m in models])
        raise KalimatError(f"{swept_by} sweeps {key}, which model={cfg.hydra.runtime.choices.model} has not; {fix}")


_ABSENT = object()


def _group_config(group: str, option: str) -> DictConfig:
    return OmegaConf.load(paths.CONFIG_DIR / group / f"{option}.yaml")


def _module(config_name: str) -> str:
    return "train" if config_name == "train" else f"train.{config_name}"

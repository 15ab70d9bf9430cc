"""Command-line overrides checked before Hydra runs, so a bad one costs one line, not a page.

Hydra reports an unknown key or an unparsable value with several lines of advice and
leaves a run folder behind; an interpolation error surfaces as a traceback mid-run.
:func:`check_overrides` composes the config the way Hydra will and turns any such problem
into a :class:`~train.core.errors.KalimatError` naming the override and the fix. Multirun
sweeps (``-m seed=1,2,3``) are left to Hydra, which expands them itself.
"""

import re

from hydra import compose, initialize_config_dir
from hydra.errors import HydraException
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from . import paths  # noqa: F401 (both register resolvers the configs use)
from .errors import KalimatError
from .settings import FOLDER_NAME


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
                options = sorted(p.stem for p in (paths.CONFIG_DIR / key).glob("*.yaml"))
                hint = ", or model.name_or_path=<Hub id or folder> for any other model" if key == "model" else ""
                raise KalimatError(f"{key}={value}: no such {key} config; use one of: {', '.join(options)}{hint}")


def check_overrides(config_name: str, argv: list[str]) -> None:
    """Raise a one-line error for an override Hydra would reject or could not resolve."""
    overrides = [arg for arg in argv if not arg.startswith("-")]
    check_group_choices(overrides)
    if len(overrides) != len(argv):
        return  # -m sweeps, --cfg, --help ...: Hydra's own business
    try:
        with initialize_config_dir(config_dir=str(paths.CONFIG_DIR), version_base="1.3"):
            cfg = compose(config_name, overrides=overrides)
        run_name = cfg.get("run_name")
        OmegaConf.to_container(cfg, resolve=True)
    except (HydraException, OmegaConfBaseException) as err:
        first_line = str(err).strip().splitlines()[0]
        raise KalimatError(
            f"bad override ({first_line}); check the key and value with: python -m {_module(config_name)} --cfg job"
        ) from None
    if run_name is not None and not FOLDER_NAME.fullmatch(str(run_name)):  # a folder under runs/ and models/
        raise KalimatError(
            f"run_name={run_name}: must be a plain folder name (letters, digits, '.', '-', '_', spaces)"
        )


def _module(config_name: str) -> str:
    return "train" if config_name == "train" else f"train.{config_name}"

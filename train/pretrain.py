"""``python -m train.pretrain``: masked-language-model pretraining (see :mod:`train.modeling.pretraining`)."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf

from .core import paths
from .core.errors import KalimatError, exit_on_error
from .core.overrides import check_overrides
from .core.settings import check_settings
from .modeling.pretraining import pretrain
from .pipeline import _COUNT, MINI_SETTINGS, SETTINGS


@exit_on_error
def main() -> None:
    check_overrides("pretrain", sys.argv[1:])
    run()


@hydra.main(config_path=str(paths.CONFIG_DIR), config_name="pretrain", version_base="1.3")
@exit_on_error
def run(cfg: DictConfig) -> float:
    """Pretrain and export; return the held-out perplexity (a sweeper minimises it)."""
    check_config(cfg)
    return pretrain(cfg, Path(HydraConfig.get().runtime.output_dir))["held_out_perplexity"]


# The keys python -m train has too are checked by its rules.
SHARED_SETTINGS = ("seed", "trainer.learning_rate", "trainer.per_device_train_batch_size", "trainer.warmup_ratio",
                   "trainer.weight_decay", "trainer.max_grad_norm", "trainer.max_length", "trainer.logging_steps",
                   "trainer.precision")
PRETRAIN_SETTINGS = {
    "trainer.max_steps": _COUNT,
    "trainer.save_steps": _COUNT,
    "corpus.held_out": (lambda v: 0 < v < 1, "a fraction of the articles in (0, 1), e.g. 0.05"),
    "corpus.mlm_probability": (lambda v: 0 < v < 1, "a fraction of the tokens in (0, 1), e.g. 0.15"),
    "corpus.on_bad_file": (lambda v: v in ("fail", "skip"), "fail or skip"),
}


def check_config(cfg: DictConfig) -> None:
    """One line naming the key and a valid value for the first bad setting, before any data is read."""
    if OmegaConf.is_missing(cfg.model, "name_or_path"):
        raise KalimatError(f"model={cfg.model.name} needs model.name_or_path=<Hub id or folder>, "
                           "e.g. model.name_or_path=models/<run_name>")
    checks = {key: SETTINGS[key] for key in SHARED_SETTINGS} | PRETRAIN_SETTINGS
    mini = cfg.model.name_or_path is None
    if mini:
        checks.update({f"model.{key}": _COUNT for key in MINI_SETTINGS})
    check_settings(cfg, checks)
    if mini and cfg.model.hidden_size % cfg.model.num_attention_heads:
        raise KalimatError(
            f"model.hidden_size={cfg.model.hidden_size}: must be a multiple of model.num_attention_heads="
            f"{cfg.model.num_attention_heads}"
        )


if __name__ == "__main__":
    main()

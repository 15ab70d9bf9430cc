"""``python -m train.pretrain``: masked-language-model pretraining (see :mod:`train.modeling.pretraining`)."""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig

from .core import paths
from .core.errors import exit_on_error
from .core.overrides import check_overrides
from .core.run_folder import CHECKPOINTS, RunFolder
from .core.settings import COUNT, check_model_settings
from .modeling.pretraining import SUMMARY_FILE, pretrain
from .modeling.training import last_complete_checkpoint
from .pipeline import SETTINGS


@exit_on_error
def main() -> None:
    check_overrides("pretrain", sys.argv[1:])
    run()


@hydra.main(config_path=str(paths.CONFIG_DIR), config_name="pretrain", version_base="1.3")
@exit_on_error
def run(cfg: DictConfig) -> float:
    """Pretrain and export; return the held-out perplexity (a sweeper minimises it)."""
    folder = RunFolder("train.pretrain", _has_checkpoint, SUMMARY_FILE, cfg.paths.models_dir)
    with folder.stopping_cleanly():
        check_config(cfg)
        return pretrain(cfg, folder)["held_out_perplexity"]


def _has_checkpoint(run_dir: Path) -> bool:
    return last_complete_checkpoint(run_dir / CHECKPOINTS) is not None


# The keys python -m train has too are checked by its rules.
SHARED_SETTINGS = ("seed", "trainer.learning_rate", "trainer.per_device_train_batch_size", "trainer.warmup_ratio",
                   "trainer.weight_decay", "trainer.max_grad_norm", "trainer.max_length", "trainer.logging_steps",
                   "trainer.precision")
PRETRAIN_SETTINGS = {
    "trainer.max_steps": COUNT,
    "trainer.save_steps": COUNT,
    "corpus.held_out": (lambda v: 0 < v < 1, "a fraction of the articles in (0, 1), e.g. 0.05"),
    "corpus.mlm_probability": (lambda v: 0 < v < 1, "a fraction of the tokens in (0, 1), e.g. 0.15"),
    "corpus.on_bad_file": (lambda v: v in ("fail", "skip"), "fail or skip"),
    "corpus.packing": (lambda v: v in ("articles", "full"), "articles or full"),
}


def check_config(cfg: DictConfig) -> None:
    """One line naming the key and a valid value for the first bad setting, before any data is read."""
    check_model_settings(cfg, {key: SETTINGS[key] for key in SHARED_SETTINGS} | PRETRAIN_SETTINGS, "train.pretrain")


if __name__ == "__main__":
    main()

"""``python -m train.pretrain``: masked-language-model pretraining (see :mod:`train.modeling.pretraining`)."""

import shutil
import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .core import paths
from .core.errors import Interrupted, KalimatError, exit_on_error
from .core.overrides import check_overrides
from .core.settings import CONFIG_FILE, COUNT, check_model_settings
from .modeling.pretraining import CHECKPOINTS, pretrain
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
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        check_config(cfg)
        return pretrain(cfg, run_dir)["held_out_perplexity"]
    except KalimatError:
        discard_unstarted_run_dir(run_dir)
        raise
    except KeyboardInterrupt:
        print(file=sys.stderr)  # the progress bar was most likely drawing on the current line
        if last_complete_checkpoint(run_dir / CHECKPOINTS):
            overrides = " ".join(o for o in HydraConfig.get().overrides.task
                                 if not o.startswith(("train.resume", "run_name=")))
            raise Interrupted(
                f"interrupted; the checkpoints in {run_dir / CHECKPOINTS} are kept, continue with: "
                f"python -m train.pretrain {overrides} run_name={run_dir.name} train.resume=true"
            ) from None
        discard_unstarted_run_dir(run_dir)
        raise Interrupted("interrupted before the first checkpoint; nothing was kept") from None


def discard_unstarted_run_dir(run_dir: Path) -> None:
    """Remove the run folder of a pretraining that stopped before its first complete checkpoint.

    Only a folder holding nothing but Hydra's bookkeeping, the saved config, a TensorBoard log
    and no complete checkpoint goes: an earlier run's checkpoints or results in it keep it.
    """
    started = {".hydra", f"{HydraConfig.get().job.name}.log", CONFIG_FILE, "tensorboard", CHECKPOINTS}
    unstarted = last_complete_checkpoint(run_dir / CHECKPOINTS) is None
    if unstarted and run_dir.is_dir() and {p.name for p in run_dir.iterdir()} <= started:
        shutil.rmtree(run_dir, ignore_errors=True)


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
}


def check_config(cfg: DictConfig) -> None:
    """One line naming the key and a valid value for the first bad setting, before any data is read."""
    check_model_settings(cfg, {key: SETTINGS[key] for key in SHARED_SETTINGS} | PRETRAIN_SETTINGS, "train.pretrain")


if __name__ == "__main__":
    main()

"""``python -m train.pretrain``: masked-language-model pretraining (see :mod:`train.modeling.pretraining`)."""

import sys
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from .core import paths
from .core.errors import exit_on_error
from .core.overrides import check_overrides
from .modeling.pretraining import pretrain


@exit_on_error
def main() -> None:
    check_overrides("pretrain", sys.argv[1:])
    run()


@hydra.main(config_path=str(paths.CONFIG_DIR), config_name="pretrain", version_base="1.3")
@exit_on_error
def run(cfg: DictConfig) -> float:
    """Pretrain and export; return the held-out perplexity (a sweeper minimises it)."""
    return pretrain(cfg, Path(HydraConfig.get().runtime.output_dir))["held_out_perplexity"]


if __name__ == "__main__":
    main()

"""``python -m train.dataset``: build the labeled dataset into ``data.output_dir`` (see :mod:`train.data.store`)."""

from omegaconf import DictConfig

from .core.entry import hydra_command
from .core.errors import Interrupted
from .data.store import build_dataset


@hydra_command("dataset")
def main(cfg: DictConfig) -> None:
    try:
        build_dataset(cfg)
    except KeyboardInterrupt:
        # The folder is replaced only once the new dataset is complete (write_dataset): one line, no traceback.
        raise Interrupted("interrupted; no dataset was written, a previous one is left as it was") from None


if __name__ == "__main__":
    main()

"""This process's place in an ``accelerate launch``: one definition for every entry point."""

import functools
import os
from datetime import datetime

import torch
from accelerate import PartialState
from accelerate.utils import broadcast_object_list
from omegaconf import OmegaConf


def process_state() -> PartialState:
    """The launch state (rank, count), shared with the Trainer.

    Without a GPU the state must be created for CPU, or processes started by
    ``accelerate launch --multi_gpu`` / ``torchrun`` would each run alone, as process 0
    of 1, instead of together over gloo.
    """
    return PartialState(cpu=not torch.cuda.is_available())


@functools.cache
def launch_time() -> str:
    """The run's start time, the same in every process of one ``accelerate launch``.

    Default run names contain it (``${launch_time:}`` in ``configs/train.yaml``); if each
    process took its own clock reading, processes starting a second apart would write to
    different run folders.
    """
    stamp = [datetime.now().strftime("%Y%m%d-%H%M%S")]
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        process_state()  # joins the process group the launcher set up
        broadcast_object_list(stamp, from_process=0)
    return stamp[0]


def sweep_job_name(run_name: str, job_number: int) -> str:
    """A multirun job's name (its run folder and its export): ``<run_name>-<job number>``, unique per sweep.

    The job's export goes to ``models/<job name>``, outside the sweep's time-stamped folder,
    so a ``run_name`` fixed by the user or a preset (``experiment=quickstart``) gets the
    sweep's launch time too: otherwise a second sweep would be refused at its first job
    (the export is taken), or, running at the same time, would replace the first one's models.
    """
    stamp = launch_time()
    return f"{run_name}-{job_number}" if stamp in run_name else f"{run_name}-{stamp}-{job_number}"


OmegaConf.register_new_resolver("launch_time", launch_time, replace=True)
OmegaConf.register_new_resolver("sweep_job_name", sweep_job_name, replace=True)

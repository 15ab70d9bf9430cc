"""This process's place in an ``accelerate launch`` (rank, count): one definition for every entry point."""

import torch
from accelerate import PartialState


def process_state() -> PartialState:
    """The launch state, shared with the Trainer.

    Without a GPU the state must be created for CPU, or processes started by
    ``accelerate launch --multi_gpu`` / ``torchrun`` would each run alone, as process 0
    of 1, instead of together over gloo.
    """
    return PartialState(cpu=not torch.cuda.is_available())

"""The device and precision policy shared by training and inference."""

import pytest
import torch

from train.core import precision as precision_module
from train.core.errors import KalimatError
from train.core.precision import resolve_precision


@pytest.mark.parametrize("amx, x86, expected", [
    (True, True, "int8"),  # measured faster than bf16 on a Xeon with AMX, and batch-invariant
    (False, True, "int8"),
    (False, False, "fp32"),
])
def test_auto_precision_follows_the_cpu(monkeypatch, amx, x86, expected):
    monkeypatch.setattr(precision_module, "cpu_has_amx", lambda: amx)
    monkeypatch.setattr(precision_module, "cpu_is_x86", lambda: x86)
    assert resolve_precision("auto", torch.device("cpu"), training=False, option="--precision") == expected
    assert resolve_precision("fp32", torch.device("cpu"), training=False, option="--precision") == "fp32"
    # one policy, two stages: training on a CPU stays fp32 whatever the CPU has
    assert resolve_precision("auto", torch.device("cpu"), training=True, option="trainer.precision") == "fp32"


def test_precisions_the_device_cannot_run_are_refused_naming_the_option():
    with pytest.raises(KalimatError, match="^--precision=int8 runs on CPU only"):
        resolve_precision("int8", torch.device("cuda"), training=False, option="--precision")
    with pytest.raises(KalimatError, match="^trainer.precision=fp16 needs a CUDA GPU"):
        resolve_precision("fp16", torch.device("cpu"), training=True, option="trainer.precision")
    with pytest.raises(KalimatError, match="^trainer.precision=int8: unknown precision"):
        resolve_precision("int8", torch.device("cpu"), training=True, option="trainer.precision")

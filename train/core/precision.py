"""Which device and numeric precision a job runs with: one policy for training and inference.

``auto`` picks, by device:

* NVIDIA GPU: bf16 where the GPU supports it, else fp16 (training under autocast with loss
  scaling, inference with the model cast), for both stages;
* CPU, training: fp32. bf16 is an opt-in on CPUs with AMX tiles: there it pretrains mini
  1.26x faster and the IndoBERT-base shape about 2x, but the one fine-tuned comparison
  (README, the offline model) gave validation macro-F1 0.644 against 0.664, not the
  evidence a default needs; without AMX bf16 products are no faster than fp32;
* CPU, inference: the int8 engine (ONNX Runtime, activation scales fixed at export) on
  x86 CPUs, with AMX tiles or without (on a Xeon with AMX it outran the bf16 model, and
  unlike bf16 its results never depend on the batch); fp32 elsewhere (other CPU kinds were
  never measured). ``train.inference.predictor`` has the measurements behind this; a model
  folder without the int8 engine runs in bf16 with AMX (:func:`without_int8_engine`), else fp32.

Explicit choices are checked against the device: fp16 needs a GPU, int8 runs on CPU and
only for inference.
"""

import platform

import torch

from .errors import KalimatError
from .settings import TRAINING_PRECISIONS

DEVICES = ("auto", "cpu", "cuda")
INFERENCE_PRECISIONS = (*TRAINING_PRECISIONS, "int8")


def resolve_device(device: str = "auto") -> torch.device:
    if device not in DEVICES:
        raise KalimatError(f"unknown device {device!r}; use one of: {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        raise KalimatError("--device cuda: no CUDA GPU is available here; use --device cpu or auto")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(device)


def device_name(device: torch.device) -> str:
    """``cpu`` or ``cuda:<GPU name>``, as reports record it."""
    return f"cuda:{torch.cuda.get_device_name(device)}" if device.type == "cuda" else "cpu"


def cpu_has_amx() -> bool:
    """Whether this CPU has AMX tiles, which run bf16 matrix products several times faster than AVX-512."""
    return getattr(torch.cpu, "_is_amx_tile_supported", lambda: False)()


def cpu_is_x86() -> bool:
    """x86-64, where the int8 engine was measured to pay off (AVX-512 VNNI on Intel and AMD)."""
    return platform.machine().lower() in ("x86_64", "amd64")


def without_int8_engine() -> str:
    """What ``auto`` runs on a CPU when the model folder has no int8 engine: the next fastest."""
    return "bf16" if cpu_has_amx() else "fp32"


def resolve_precision(setting: str, device: torch.device, training: bool, option: str) -> str:
    """The concrete precision for ``setting`` on ``device``; ``option`` names the setting in errors."""
    allowed = TRAINING_PRECISIONS if training else INFERENCE_PRECISIONS
    if setting not in allowed:
        raise KalimatError(f"{option}={setting}: unknown precision; use one of: {', '.join(allowed)}")
    if setting == "auto":
        if device.type == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp16"
        if training:
            return "fp32"
        return "int8" if cpu_is_x86() else "fp32"
    if setting == "fp16" and device.type != "cuda":
        raise KalimatError(f"{option}=fp16 needs a CUDA GPU; use fp32 or bf16 on CPU")
    if setting == "int8" and device.type != "cpu":
        raise KalimatError(f"{option}=int8 runs on CPU only; use bf16, fp16 or fp32 on a GPU")
    return setting

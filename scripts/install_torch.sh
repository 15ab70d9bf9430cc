#!/usr/bin/env bash
# Install the right torch build into a Python environment *before* the project itself.
#
# The project asks only for `torch>=2.1`, so whatever this script installs satisfies it and
# `pip install -e .` pulls no second build. Left to itself, pip would take PyPI's default
# Linux wheel, which drags in several GB of CUDA packages even on machines without a GPU.
#
# Order of choice:
#   1. torch already importable         -> keep it.
#   2. TORCH_INDEX set                  -> that index (e.g. https://download.pytorch.org/whl/cu126).
#   3. an NVIDIA driver (nvidia-smi)    -> PyPI's default build, which bundles CUDA.
#   4. a local wheel of TORCH_VERSION   -> it (pip's find-links: an offline wheelhouse).
#   5. otherwise                        -> PyTorch's CPU-only index: no CUDA packages.
set -euo pipefail
python=${1:?usage: install_torch.sh PYTHON}
version=${TORCH_VERSION:-2.13.0}
pip=("$python" -m pip install --quiet)

if "$python" -c "import torch" 2>/dev/null; then
    echo "torch $("$python" -c 'import torch; print(torch.__version__)') already installed"
elif [ -n "${TORCH_INDEX:-}" ]; then
    "${pip[@]}" "torch==$version" --extra-index-url "$TORCH_INDEX"
elif command -v nvidia-smi >/dev/null 2>&1; then
    "${pip[@]}" "torch==$version"
elif "$python" -m pip install --quiet --dry-run --no-index --no-deps "torch==$version" >/dev/null 2>&1; then
    "${pip[@]}" "torch==$version"
else
    "${pip[@]}" "torch==$version" --extra-index-url https://download.pytorch.org/whl/cpu
fi

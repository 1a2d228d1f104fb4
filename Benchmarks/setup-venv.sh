#!/usr/bin/env bash
# Creates the Python environment for `make bench-compare` in Benchmarks/.venv (git-ignored) and
# installs the anchors' packages into it. Does nothing when they are already there.
# VENV=path puts it elsewhere; PYTHON=python3.x picks the interpreter.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
venv=${VENV:-$here/.venv}
python=${PYTHON:-python3}
packages=(numpy opencv-python-headless onnxruntime onnx onnxscript watchdog Pillow)
modules="numpy cv2 onnxruntime onnx onnxscript watchdog PIL torch"

# torchvision is looked for, not imported: see below.
has_torchvision="import importlib.util as u; assert u.find_spec('torchvision')"
if [[ -x "$venv/bin/python" ]] && "$venv/bin/python" -c "import $(echo $modules | tr ' ' ',')" 2>/dev/null \
    && "$venv/bin/python" -c "$has_torchvision" 2>/dev/null; then
    exit 0
fi
echo "setup-venv: creating $venv (the first time downloads several hundred MB)" >&2
# Debian's own python3 needs python3-venv for `-m venv` (ensurepip).
if ! "$python" -c "import ensurepip" 2>/dev/null && [[ "$(command -v "$python")" == /usr/bin/* ]]; then
    sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null \
        || { $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
             $sudo apt-get install -y -qq --no-install-recommends python3-venv >/dev/null; }
fi
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet)
"${pip[@]}" --upgrade pip >/dev/null || true
"${pip[@]}" "${packages[@]}"

# torch: PyTorch's CPU wheel index when it answers; else a torch wheel that pip's own
# configuration already offers locally (find-links), with its dependencies from PyPI; else
# PyPI's wheel (large, with CUDA libraries it does not need here: fine for a benchmark).
cpu_index=https://download.pytorch.org/whl/cpu
if "$venv/bin/python" -c "import torch" 2>/dev/null; then
    :
elif "$venv/bin/python" - "$cpu_index" <<'PY' 2>/dev/null
import sys, urllib.request
urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=5)
PY
then
    "${pip[@]}" torch --index-url "$cpu_index"
elif "${pip[@]}" --no-index --no-deps torch 2>/dev/null; then
    version=$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('torch'))")
    "${pip[@]}" "torch==$version"
else
    "${pip[@]}" torch
fi
# torchvision (the models of scripts/onnx-fixtures.py): the release made for the torch above, which
# pip finds by pinning torch's version. PyPI's wheel is built against CUDA torch, so with the CPU
# torch its C++ ops do not load and `import torchvision` fails; the fixture script then loads only
# its Python model definitions, which is all it needs.
torch_version=$("$venv/bin/python" -c "import importlib.metadata as m; print(m.version('torch').split('+')[0])")
"${pip[@]}" torchvision onnxscript "torch==$torch_version"
"$venv/bin/python" -c "import $(echo $modules | tr ' ' ',')"
"$venv/bin/python" -c "$has_torchvision"

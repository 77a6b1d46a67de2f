#!/usr/bin/env bash
# Everything resnet8 needs before its tools can run, idempotent (a second run only checks):
#   1. build tools and Debian packages (cmake, g++, libfmt-dev, libcxxopts-dev, doctest-dev, nlohmann-json3-dev,
#      libonnx-dev + libprotobuf-dev for resnet8-ptq --onnx, flatbuffers-compiler + libflatbuffers-dev for --tflite,
#      npm; clang-format-14, clang-tidy-14 for scripts/lint.sh; graphviz for the playground's graph view);
#   2. the Python side of scripts/ (torch==2.13.0 CPU, whose LibTorch the C++ code links; numpy, h5py, pillow;
#      onnxruntime, which the tests run the exported ONNX file in; tflite-micro and ai-edge-litert, which run the
#      exported .tflite; marimo, altair and pandas for the playground; ruff, the Python lint),
#      into the project's own virtual environment .venv/ (never into the user's Python) unless PYTHON is set;
#   3. CIFAR-10 and the Keras model into data/, checksum-verified, and the fp32 TorchScript export;
#   4. a Release build in build/ (or $RESNET8_BUILD_DIR).
# Environment: PYTHON (an interpreter of your choice, used as it is; default: .venv/bin/python, created
# from python3), RESNET8_BUILD_DIR (default build), CMAKE_ARGS (extra -D flags).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

step() { printf '\n== %s\n' "$*"; }

step "system packages"
declare -A provides=([cmake]=cmake [g++]=g++ [make]=make [libfmt-dev]= [libcxxopts-dev]= [doctest-dev]= [nlohmann-json3-dev]= [libonnx-dev]= [libprotobuf-dev]= [flatbuffers-compiler]=flatc [libflatbuffers-dev]= [npm]=npm
                     [clang-format-14]=clang-format-14 [clang-tidy-14]=clang-tidy-14 [graphviz]=dot)
missing=()
for pkg in "${!provides[@]}"; do
  cmd=${provides[$pkg]}
  if [[ -n $cmd ]]; then command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
  else dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); fi
done
install_packages "${missing[@]}"

step "python packages ($PYTHON)"
if [[ $PYTHON == "$RESNET8_VENV/bin/python" && ! -x $PYTHON ]]; then
  echo "creating the project's virtual environment $RESNET8_VENV/"
  python3 -m venv "$RESNET8_VENV" || { echo "setup.sh: error: 'python3 -m venv $RESNET8_VENV' failed (Debian: apt-get install python3-venv), or set PYTHON to an interpreter to use" >&2; exit 1; }
fi
if "$PYTHON" -c 'import torch, numpy, h5py, PIL, onnxruntime, ruff, ai_edge_litert, marimo, altair, pandas, sys; from tflite_micro.python.tflite_micro import runtime; sys.exit(torch.__version__.split("+")[0] != "2.13.0")' 2>/dev/null; then
  echo "all present (torch $("$PYTHON" -c 'import torch; print(torch.__version__)'))"
else
  "$PYTHON" -m pip install -q --disable-pip-version-check -r scripts/requirements.txt
fi

step "data"
"$PYTHON" scripts/fetch_data.py
"$PYTHON" scripts/fetch_model.py
"$PYTHON" scripts/export_torchscript.py

step "build ($BUILD_DIR)"
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE="$(command -v "$PYTHON")" ${CMAKE_ARGS:-} >/dev/null
cmake --build "$BUILD_DIR" -j2

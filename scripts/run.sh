#!/usr/bin/env bash
# The main job: set everything up (scripts/setup.sh), then evaluate the fp32 ResNet8 on the 10,000
# CIFAR-10 test images through TorchScript and through the native C++ module, with JSON reports.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${RESNET8_BUILD_DIR:-build}
scripts/setup.sh
mkdir -p "$BUILD_DIR/reports"
for path in torchscript native; do
  printf '\n== fp32 %s\n' "$path"
  flag=; [[ $path == native ]] && flag=--native
  "$BUILD_DIR/resnet8-eval" --model data/resnet8_fp32.pt $flag --threads 2 --json "$BUILD_DIR/reports/fp32_$path.json"
done

#!/usr/bin/env bash
# The main job: set everything up (scripts/setup.sh), then evaluate the fp32 ResNet8 on the 10,000
# CIFAR-10 test images through TorchScript and natively (our direct float kernels), with JSON reports;
# then quantize it to int8 (resnet8-ptq) and compare int8 with fp32. What ships is left in data/, ready
# for the playground (scripts/playground.sh opens on it): the int8 file resnet8_int8.pt, the same plan as
# resnet8_int8.tflite (TensorFlow Lite Micro) and the report with every layer's weights, resnet8_int8.json.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
mkdir -p "$BUILD_DIR/reports"
for path in torchscript native; do
  printf '\n== fp32 %s\n' "$path"
  flag=; [[ $path == native ]] && flag=--native
  "$BUILD_DIR/resnet8-eval" --model data/resnet8_fp32.pt $flag --threads 2 --json "$BUILD_DIR/reports/fp32_$path.json"
done

printf '\n== int8 post-training quantization\n'
"$BUILD_DIR/resnet8-ptq" --threads 2 --output data/resnet8_int8.pt --tflite data/resnet8_int8.tflite \
  --json data/resnet8_int8.json --json-weights

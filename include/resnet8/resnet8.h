#pragma once
// resnet8: the common API in one include. The library's folders follow the pipeline
//
//   data/     CIFAR-10 batches, the calibration sample, the data-only TorchScript reader
//   model/    the network: its architecture (one graph description), the fp32 torch::nn::Module,
//             the folded network quantization works on
//   quant/    calibrate -> plan -> refine: observers, ranges, the plan, its stages, the simulation
//   formats/  every file written or read: int8 TorchScript, JSON (ONNX is its own target)
//   run/      classifiers, evaluation, benchmarks, the native int8 runner
//   support/  errors, atomic outputs, progress
//
// A consumer links resnet8::resnet8 (find_package(resnet8)) and includes this header, or the stage
// headers it needs (<resnet8/quant/planner.h>, ...). The ONNX writer (<resnet8/formats/onnx.h>) lives
// in the tools' own resnet8_onnx target and is not part of the installed library.
#include <resnet8/data/calibration.h>
#include <resnet8/data/cifar10.h>
#include <resnet8/data/weights.h>
#include <resnet8/engine/float_kernels.h>
#include <resnet8/formats/int8_file.h>
#include <resnet8/model/folded.h>
#include <resnet8/model/model.h>
#include <resnet8/pipeline/json.h>
#include <resnet8/pipeline/quantize.h>
#include <resnet8/quant/simulate.h>
#include <resnet8/run/benchmark.h>
#include <resnet8/run/classifier.h>
#include <resnet8/run/evaluate.h>
#include <resnet8/run/int8_native.h>
#include <resnet8/run/report.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>

// An IntegerProgram as C99 for microcontrollers (c_source.h).
#include <resnet8/formats/c_source.h>
#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>
#include <resnet8/support/output_guard.h>

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <set>
#include <string_view>

#include "formats/micro_sources.h"

namespace fs = std::filesystem;

namespace resnet8 {
namespace {

const char* const kHeader = "resnet8_model.h";
const char* const kModel = "resnet8_model.c";

// An int32 as a C constant expression (-2147483648 is not one: 2147483648 does not fit an int).
std::string c_int(int64_t v) {
  return v == std::numeric_limits<int32_t>::min() ? std::string("(-2147483647 - 1)") : std::to_string(v);
}

template <typename T>
std::string c_array(const char* type, const std::string& name, const T* values, int64_t n) {
  std::string out = fmt::format("static const {} {}[{}] = {{", type, name, n);
  for (int64_t i = 0; i < n; ++i) out += fmt::format("{}{}", i % 16 ? " " : "\n  ", c_int(values[i]) + ",");
  return out + "\n};\n";
}

std::string shape(const r8_shape& s) { return fmt::format("{{{}, {}, {}}}", s.height, s.width, s.channels); }

// Text for a comment: letters, digits, spaces and _ . , ; : / - ( ) only (others become '_'). Tensor names
// come from the file and descriptions from paths: nothing in them may end the comment (neither "*/" nor a
// trigraph that splices lines) or otherwise reach the C.
std::string comment_text(std::string text, size_t max_size) {
  if (text.size() > max_size) text = text.substr(0, max_size - 3) + "...";
  for (char& c : text) {
    if (!std::isalnum(static_cast<unsigned char>(c)) &&
        std::string_view(" _.,;:/-()").find(c) == std::string_view::npos)
      c = '_';
  }
  return text;
}

std::string comment_name(const IntegerProgram& p, int32_t t) {
  return comment_text(t >= 0 ? p.model.tensors[static_cast<size_t>(t)].name : "", 60);
}

int64_t weight_bytes(int32_t rows, int32_t per_row, int32_t int4) {
  return int64_t{rows} * r8_filter_stride(per_row) / (int4 ? 2 : 1);
}

std::string add_params(const std::string& name, const r8_add_params& a) {
  return fmt::format(
      "static const r8_add_params {} = {{.size = {}, .input1_offset = {}, .input2_offset = {}, .output_offset = {}, "
      ".left_shift = {}, .input1_multiplier = {}, .input1_shift = {}, .input2_multiplier = {}, .input2_shift = {}, "
      ".output_multiplier = {}, .output_shift = {}, .act_min = {}, .act_max = {}}};\n",
      name, a.size, a.input1_offset, a.input2_offset, a.output_offset, a.left_shift, a.input1_multiplier,
      a.input1_shift, a.input2_multiplier, a.input2_shift, a.output_multiplier, a.output_shift, a.act_min, a.act_max);
}

std::string conv_params(const std::string& n, const r8_conv_params& c) {
  std::string out;
  const int32_t per_channel = c.kernel_h * c.kernel_w * c.input.channels, channels = c.output.channels;
  out += c_array("int8_t", n + "_weights", c.weights, weight_bytes(channels, per_channel, c.weights_int4));
  out += c_array("int32_t", n + "_bias", c.bias, channels);
  out += c_array("int32_t", n + "_multiplier", c.multiplier, channels);
  out += c_array("int32_t", n + "_shift", c.shift, channels);
  if (c.add) out += add_params(n + "_add", *c.add);
  out += fmt::format(
      "static const r8_conv_params {} = {{.input = {}, .output = {}, .kernel_h = {}, .kernel_w = {}, .stride_h = {}, "
      ".stride_w = {}, .pad_top = {}, .pad_left = {}, .input_offset = {}, .output_offset = {}, .act_min = {}, "
      ".act_max = {}, .weights = {}_weights, .weights_int4 = {}, .bias = {}_bias, .multiplier = {}_multiplier, "
      ".shift = {}_shift, .add = {}, .add_input = {}}};\n",
      n, shape(c.input), shape(c.output), c.kernel_h, c.kernel_w, c.stride_h, c.stride_w, c.pad_top, c.pad_left,
      c.input_offset, c.output_offset, c.act_min, c.act_max, n, c.weights_int4, n, n, n, c.add ? "&" + n + "_add" : "0",
      c.add_input);
  return out;
}

std::string fully_connected_params(const std::string& n, const r8_fully_connected_params& f) {
  const int32_t k = f.per_channel ? f.output_depth : 1;
  std::string out =
      c_array("int8_t", n + "_weights", f.weights, weight_bytes(f.output_depth, f.input_depth, f.weights_int4));
  out += c_array("int32_t", n + "_bias", f.bias, f.output_depth);
  out += c_array("int32_t", n + "_multiplier", f.multiplier, k);
  out += c_array("int32_t", n + "_shift", f.shift, k);
  out += fmt::format(
      "static const r8_fully_connected_params {} = {{.input_depth = {}, .output_depth = {}, .input_offset = {}, "
      ".output_offset = {}, .act_min = {}, .act_max = {}, .weights = {}_weights, .weights_int4 = {}, "
      ".bias = {}_bias, .multiplier = {}_multiplier, .shift = {}_shift, .per_channel = {}}};\n",
      n, f.input_depth, f.output_depth, f.input_offset, f.output_offset, f.act_min, f.act_max, n, f.weights_int4, n, n,
      n, f.per_channel);
  return out;
}

// Operator `o`'s constant data and parameters, named `n`.
std::string op_params(const std::string& n, const ProgramOp& o) {
  switch (o.op) {
    case TfliteOp::kConv2d: return conv_params(n, o.conv);
    case TfliteOp::kAdd: return add_params(n, o.add);
    case TfliteOp::kAveragePool2d: {
      const r8_avgpool_params& a = o.avgpool;
      return fmt::format(
          "static const r8_avgpool_params {} = {{.input = {}, .output = {}, .filter_h = {}, .filter_w = {}, "
          ".stride_h = {}, .stride_w = {}, .pad_top = {}, .pad_left = {}, .act_min = {}, .act_max = {}}};\n",
          n, shape(a.input), shape(a.output), a.filter_h, a.filter_w, a.stride_h, a.stride_w, a.pad_top, a.pad_left,
          a.act_min, a.act_max);
    }
    case TfliteOp::kMean: {
      const r8_mean_params& m = o.mean;
      return fmt::format(
          "static const r8_mean_params {} = {{.input = {}, .input_zero_point = {}, .output_zero_point = {}, "
          ".multiplier = {}, .shift = {}}};\n",
          n, shape(m.input), m.input_zero_point, m.output_zero_point, m.multiplier, m.shift);
    }
    case TfliteOp::kFullyConnected: return fully_connected_params(n, o.fully_connected);
    case TfliteOp::kSoftmax: {
      const r8_softmax_params& s = o.softmax;
      return fmt::format(
          "static const r8_softmax_params {} = {{.depth = {}, .input_multiplier = {}, .input_left_shift = {}, "
          ".diff_min = {}}};\n",
          n, s.depth, s.input_multiplier, s.input_left_shift, s.diff_min);
    }
    case TfliteOp::kReshape: break;
  }
  throw Error("c_source: a RESHAPE left in a planned program");
}

// The kernel call of operator `o`, named `n`, on the arena.
std::string op_call(const std::string& n, const ProgramOp& o) {
  switch (o.op) {
    case TfliteOp::kConv2d:
      return fmt::format("  r8_conv(&{}, arena + {}, arena + {}, arena + {});", n, o.input_at, o.output_at,
                         o.scratch_at);
    case TfliteOp::kAdd:
      return fmt::format("  r8_add(&{}, arena + {}, arena + {}, arena + {});", n, o.input_at, o.input2_at, o.output_at);
    case TfliteOp::kAveragePool2d:
      return fmt::format("  r8_avgpool(&{}, arena + {}, arena + {});", n, o.input_at, o.output_at);
    case TfliteOp::kMean: return fmt::format("  r8_mean(&{}, arena + {}, arena + {});", n, o.input_at, o.output_at);
    case TfliteOp::kFullyConnected:
      return fmt::format("  r8_fully_connected(&{}, arena + {}, arena + {});", n, o.input_at, o.output_at);
    case TfliteOp::kSoftmax:
      return fmt::format("  r8_softmax(&{}, arena + {}, arena + {});", n, o.input_at, o.output_at);
    case TfliteOp::kReshape: break;
  }
  throw Error("c_source: a RESHAPE left in a planned program");
}

const char* kernel_file(TfliteOp op) {
  switch (op) {
    case TfliteOp::kConv2d: return "r8_conv.c";
    case TfliteOp::kAdd: return "r8_add.c";
    case TfliteOp::kAveragePool2d: return "r8_average_pool.c";
    case TfliteOp::kMean: return "r8_mean.c";
    case TfliteOp::kFullyConnected: return "r8_fully_connected.c";
    case TfliteOp::kSoftmax: return "r8_softmax.c";
    case TfliteOp::kReshape: break;
  }
  return "";
}

std::string header_text(const IntegerProgram& p, const std::string& description) {
  const CSourceSummary s = c_source_summary(p);
  return fmt::format(R"(/* resnet8_model.h: a CIFAR-10 ResNet8, generated by {description}.
 * Do not edit: generate it again. Plain C99: no operating system, malloc or floating point.
 *
 *   uint8_t image[32 * 32 * 3];   HWC, RGB, pixels 0..255
 *   int8_t scores[10];
 *   int label = resnet8_classify(image, scores);
 *
 * scores are the model's int8 output tensor, the values TensorFlow Lite Micro gives for the same .tflite:
 * (score - RESNET8_SCORE_ZERO_POINT) x {scale:g} is the class's probability. The call returns the index of
 * the first largest score. Weights and parameters are const (arrays: {constant} bytes); {macs} multiply-accumulates
 * per image in {calls} kernel calls. Activations live in one arena of RESNET8_ARENA_BYTES, planned at
 * export: a static one (resnet8_classify; not reentrant), or the caller's (resnet8_classify_in; 4-byte
 * aligned). Define RESNET8_NO_STATIC_ARENA to leave the static arena out. */
#ifndef RESNET8_MODEL_H
#define RESNET8_MODEL_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {{
#endif

#define RESNET8_INPUT_BYTES (32 * 32 * 3)
#define RESNET8_CLASSES 10
#define RESNET8_ARENA_BYTES {arena}
#define RESNET8_SCORE_ZERO_POINT ({zero_point})

int resnet8_classify_in(const uint8_t image[32 * 32 * 3], int8_t scores[10], void* arena);
#ifndef RESNET8_NO_STATIC_ARENA
int resnet8_classify(const uint8_t image[32 * 32 * 3], int8_t scores[10]);
#endif

#ifdef __cplusplus
}}
#endif

#endif /* RESNET8_MODEL_H */
)",
                     fmt::arg("description", description), fmt::arg("scale", p.output_scale),
                     fmt::arg("constant", s.array_bytes), fmt::arg("macs", s.multiply_accumulates),
                     fmt::arg("calls", s.kernel_calls), fmt::arg("arena", p.arena_bytes),
                     fmt::arg("zero_point", p.output_zero_point));
}

std::string model_text(const IntegerProgram& p, const std::string& description) {
  std::string params, calls;
  for (size_t i = 0; i < p.ops.size(); ++i) {
    const ProgramOp& o = p.ops[i];
    const std::string n = fmt::format("op{}", i);
    params += fmt::format("\n/* {}: {} -> '{}'{} */\n", n, tflite_op_name(o.op), comment_name(p, o.output),
                          o.op == TfliteOp::kConv2d && o.conv.add ? ", the ADD after it fused" : "");
    params += op_params(n, o);
    calls += op_call(n, o) + "\n";
  }
  const int64_t in = p.bytes[static_cast<size_t>(p.input)], out = p.bytes[static_cast<size_t>(p.output)];
  return fmt::format(R"(/* resnet8_model.c: generated by {description}. Do not edit: generate it again. */
#include "resnet8_model.h"
#include "r8_kernels.h"
{params}
int resnet8_classify_in(const uint8_t image[32 * 32 * 3], int8_t scores[10], void* arena_memory) {{
  int8_t* const arena = (int8_t*)arena_memory;
  int32_t i, best = 0;
  for (i = 0; i < {in}; ++i) arena[{input_at} + i] = (int8_t)((int32_t)image[i] - 128); /* the input's zero point */
{calls}  for (i = 0; i < {out}; ++i) scores[i] = arena[{output_at} + i];
  for (i = 1; i < {out}; ++i) best = scores[i] > scores[best] ? i : best;
  return (int)best;
}}

#ifndef RESNET8_NO_STATIC_ARENA
static int32_t resnet8_arena[(RESNET8_ARENA_BYTES + 3) / 4];

int resnet8_classify(const uint8_t image[32 * 32 * 3], int8_t scores[10]) {{
  return resnet8_classify_in(image, scores, resnet8_arena);
}}
#endif
)",
                     fmt::arg("description", description), fmt::arg("params", params), fmt::arg("calls", calls),
                     fmt::arg("in", in), fmt::arg("input_at", p.input_at), fmt::arg("out", out),
                     fmt::arg("output_at", p.output_at));
}

}  // namespace

CSourceSummary c_source_summary(const IntegerProgram& p) {
  CSourceSummary s;
  s.arena_bytes = p.arena_bytes;
  s.multiply_accumulates = p.multiply_accumulates();
  s.kernel_calls = static_cast<int>(p.ops.size());
  for (const ProgramOp& o : p.ops) {
    if (o.op == TfliteOp::kConv2d) {
      const r8_conv_params& c = o.conv;
      const int64_t w = weight_bytes(c.output.channels, c.kernel_h * c.kernel_w * c.input.channels, c.weights_int4);
      s.weight_bytes += w;
      s.array_bytes += w + int64_t{12} * c.output.channels;  // bias, multiplier, shift: int32 each
    } else if (o.op == TfliteOp::kFullyConnected) {
      const r8_fully_connected_params& f = o.fully_connected;
      const int64_t w = weight_bytes(f.output_depth, f.input_depth, f.weights_int4);
      s.weight_bytes += w;
      s.array_bytes += w + 4 * (f.output_depth + 2 * int64_t{f.per_channel ? f.output_depth : 1});
    }
  }
  return s;
}

std::vector<CSourceFile> c_source(const IntegerProgram& p, const std::string& description) {
  if (p.input_scale != 1.0f || p.input_zero_point != -128) {
    throw Error(
        fmt::format("the C code takes 0..255 pixels as the int8 input pixel - 128 (the MLPerf Tiny "
                    "interface: scale 1, zero point -128); this model's input has scale {:g}, zero point {}",
                    p.input_scale, p.input_zero_point));
  }
  std::set<std::string> kernels = {"r8_kernels.h", "r8_fixedpoint.h"};
  for (const ProgramOp& o : p.ops) kernels.insert(kernel_file(o.op));
  const std::string about = comment_text(description, 200);
  std::vector<CSourceFile> files = {{kHeader, header_text(p, about)}, {kModel, model_text(p, about)}};
  for (size_t i = 0; i < detail::kMicroSourceCount; ++i) {
    const detail::EmbeddedFile& f = detail::kMicroSources[i];
    if (kernels.count(f.name)) files.push_back({f.name, std::string(f.text)});
  }
  return files;
}

void check_c_source_dir(const fs::path& dir, const std::string& flag) {
  if (dir.empty()) throw Error(fmt::format("{}: expected a directory, got an empty path", flag));
  std::error_code ec;
  const fs::file_status st = fs::status(dir, ec);
  if (fs::exists(st) && !fs::is_directory(st)) {
    throw Error(fmt::format("{} {}: exists and is not a directory", flag, dir.string()));
  }
  if (!fs::exists(st)) {
    const fs::path parent = fs::absolute(dir).parent_path();
    if (!fs::is_directory(parent, ec)) {
      throw Error(fmt::format("{} {}: its parent directory {} does not exist", flag, dir.string(), parent.string()));
    }
    if (access(parent.c_str(), W_OK | X_OK) != 0) {
      throw Error(
          fmt::format("{} {}: cannot create it in {} ({})", flag, dir.string(), parent.string(), std::strerror(errno)));
    }
    return;
  }
  for (const fs::path& f : c_source_paths(dir)) check_writable(f, flag);
}

std::vector<fs::path> c_source_paths(const fs::path& dir) {
  std::vector<fs::path> paths = {dir / kHeader, dir / kModel};
  for (size_t i = 0; i < detail::kMicroSourceCount; ++i) paths.push_back(dir / detail::kMicroSources[i].name);
  return paths;
}

void write_c_source(const fs::path& dir, const std::vector<CSourceFile>& files) {
  if (!fs::exists(dir)) {
    if (mkdir(dir.c_str(), 0777) != 0) {  // 0777 less the umask, as for any new directory
      throw Error(fmt::format("{}: cannot create the directory ({})", dir.string(), std::strerror(errno)));
    }
    detail::directory_created(dir);
  }
  for (const CSourceFile& f : files) write_file_atomic(dir / f.name, f.text);
}

}  // namespace resnet8

#pragma once
// What every operator's Prepare (src/program/ops/) shares: the model, the checks of its tensors, TFLM's
// multipliers and activation ranges, and the one-line errors naming the operator.
#include <resnet8/program/prepared.h>
#include <resnet8/support/error.h>

#include <string>
#include <vector>

namespace resnet8 {

inline constexpr int kMaxLeftShift = 30;

class PrepareContext {
 public:
  PrepareContext(const TfliteModel& model, std::string what) : model_(model), what_(std::move(what)) {}

  const TfliteModel& model() const { return model_; }
  const TfliteOperator& op(size_t index) const { return model_.operators[index]; }
  const TfliteTensor& tensor(int32_t t) const { return model_.tensors[static_cast<size_t>(t)]; }
  // An error naming the model and operator `index`.
  Error bad(size_t index, const std::string& why) const;
  // The activation tensor `t`: int8, per-tensor quantized, of rank `rank` (0: any).
  const TfliteTensor& activation(size_t index, int32_t t, size_t rank) const;
  // The constant tensor `t` of `type` (INT8 also accepts INT4), named `what` in errors.
  const TfliteTensor& constant(size_t index, int32_t t, TfliteType type, const char* what) const;
  // The weights of `t` as `rows` rows, one int8 a weight.
  PreparedWeights weights(const TfliteTensor& t, int32_t rows) const;
  // The int32 values of a constant.
  static std::vector<int32_t> ints(const TfliteTensor& t);
  // The largest magnitude row `row`'s accumulator (bias + weights x (input + input_offset)) can reach.
  static int64_t accumulator_bound(const std::vector<int32_t>& bias, const PreparedWeights& w, int32_t input_offset,
                                   int32_t row);
  // Refuses a bias and weights whose int32 accumulator could overflow (undefined in C).
  void check_accumulator(size_t index, const std::vector<int32_t>& bias, const PreparedWeights& w,
                         int32_t input_offset) const;
  // TFLM's per-channel multipliers of input scale x filter scale / output scale, `channels` of them.
  void requant(size_t index, const TfliteTensor& in, const TfliteTensor& filter, const TfliteTensor& out,
               int32_t channels, std::vector<int32_t>* multiplier, std::vector<int32_t>* shift) const;
  // Refuses a multiplier's left shift above kMaxLeftShift: TFLM computes x * (1 << shift) in int32, undefined
  // from 31 on (and the C kernels' shift with it), so such a file has no defined result to match.
  void check_shift(size_t index, int shift, const std::string& what) const;
  // TFLM's CalculateActivationRangeQuantized for int8.
  void activation_range(size_t index, TfliteActivation a, const TfliteTensor& out, int32_t* lo, int32_t* hi) const;

 private:
  const TfliteModel& model_;
  std::string what_;
};

// TFLM's ComputePaddingHeightWidth for one dimension: the output size and the padding before.
std::pair<int32_t, int32_t> out_and_pad(bool same, int32_t in, int32_t filter, int32_t stride);

inline r8_shape hwc(const TfliteTensor& t) { return {t.shape[1], t.shape[2], t.shape[3]}; }

}  // namespace resnet8

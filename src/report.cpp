#include <resnet8/report.h>

#include <resnet8/cifar10.h>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <numeric>

namespace resnet8 {

std::string json_quote(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

namespace {

double ratio(int64_t a, int64_t b) { return b ? double(a) / double(b) : 0.0; }

}  // namespace

int64_t EvalReport::class_total(int c) const {
  return std::accumulate(confusion[c].begin(), confusion[c].end(), int64_t{0});
}

std::string to_table(const EvalReport& r) {
  std::string out;
  out += fmt::format("model      {} ({}{}, {:.1f} KB)\n", r.model_path, r.model_kind,
                     r.quantized_engine.empty() ? "" : ", int8 on " + r.quantized_engine, r.model_bytes / 1024.0);
  out += fmt::format("libtorch   {}, {} thread{}, batch size {}\n", r.libtorch_version, r.threads,
                     r.threads == 1 ? "" : "s", r.batch_size);
  out += fmt::format("{:<12} {:>9} {:>9}\n", "class", "correct", "accuracy");
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    out += fmt::format("{:<12} {:>4}/{:<4} {:>8.2f}%\n", cifar10::kClassNames[c], r.class_correct(c),
                       r.class_total(c), 100.0 * ratio(r.class_correct(c), r.class_total(c)));
  }
  out += fmt::format("accuracy   {:.2f}% ({}/{})\n", 100.0 * r.accuracy(), r.correct, r.images);
  out += fmt::format("speed      {:.0f} images/s ({:.3f} s)\n", r.images_per_second(), r.seconds);
  return out;
}

std::string to_json(const EvalReport& r) {
  std::string per_class, confusion;
  for (int c = 0; c < cifar10::kNumClasses; ++c) {
    per_class += fmt::format("{}    {{\"class\": {}, \"name\": {}, \"correct\": {}, \"total\": {}, \"accuracy\": {:.6f}}}",
                             c ? ",\n" : "", c, json_quote(cifar10::kClassNames[c]), r.class_correct(c),
                             r.class_total(c), ratio(r.class_correct(c), r.class_total(c)));
    confusion += fmt::format("{}    [{}]", c ? ",\n" : "", fmt::join(r.confusion[c], ", "));
  }
  return fmt::format(
      "{{\n"
      "  \"model\": {{\"path\": {}, \"kind\": {}, \"bytes\": {}, \"quantized_engine\": {}}},\n"
      "  \"data\": {},\n"
      "  \"libtorch_version\": {},\n"
      "  \"threads\": {},\n"
      "  \"batch_size\": {},\n"
      "  \"images\": {},\n"
      "  \"correct\": {},\n"
      "  \"accuracy\": {:.6f},\n"
      "  \"seconds\": {:.6f},\n"
      "  \"images_per_second\": {:.1f},\n"
      "  \"per_class\": [\n{}\n  ],\n"
      "  \"confusion_matrix\": [\n{}\n  ]\n"
      "}}\n",
      json_quote(r.model_path), json_quote(r.model_kind), r.model_bytes, json_quote(r.quantized_engine),
      json_quote(r.data_dir),
      json_quote(r.libtorch_version), r.threads, r.batch_size, r.images, r.correct, r.accuracy(), r.seconds,
      r.images_per_second(), per_class, confusion);
}

}  // namespace resnet8

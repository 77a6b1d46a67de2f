#include "engine/script_resolver.h"

#include <torch/csrc/jit/frontend/sugared_value.h>
#include <torch/csrc/jit/ir/ir.h>

#include <map>

namespace resnet8::detail {
namespace {

using torch::jit::GraphFunction;
using torch::jit::SourceRange;
using torch::jit::SugaredValue;

// `ops`: ops.<ns> is the builtin operator namespace <ns>.
struct OpsNamespaces : SugaredValue {
  std::string kind() const override { return "ops"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange&, GraphFunction&, const std::string& ns) override {
    return std::make_shared<torch::jit::BuiltinModule>(ns);
  }
};

// `torch`: dtype names are constants, everything else is an aten operator.
struct TorchNamespace : SugaredValue {
  std::string kind() const override { return "torch"; }
  std::shared_ptr<SugaredValue> attr(const SourceRange& loc, GraphFunction& m, const std::string& field) override {
    static const std::map<std::string, at::ScalarType> dtypes = {
        {"quint8", at::kQUInt8}, {"qint8", at::kQInt8},   {"qint32", at::kQInt32},
        {"float", at::kFloat},   {"float32", at::kFloat}, {"uint8", at::kByte},
        {"long", at::kLong},     {"int64", at::kLong},    {"int8", at::kChar}};
    if (const auto it = dtypes.find(field); it != dtypes.end()) {
      return std::make_shared<torch::jit::SimpleValue>(m.graph()->insertConstant(it->second, loc));
    }
    return torch::jit::BuiltinModule("aten").attr(loc, m, field);
  }
};

struct QuantizedOpsResolver : torch::jit::Resolver {
  std::shared_ptr<SugaredValue> resolveValue(const std::string& name, GraphFunction&, const SourceRange&) override {
    if (name == "torch") return std::make_shared<TorchNamespace>();
    if (name == "ops") return std::make_shared<OpsNamespaces>();
    if (name == "Exception") return std::make_shared<torch::jit::ExceptionValue>(name);
    return nullptr;
  }
  c10::TypePtr resolveType(const std::string&, const SourceRange&) override { return nullptr; }
};

}  // namespace

std::shared_ptr<torch::jit::Resolver> quantized_ops_resolver() { return std::make_shared<QuantizedOpsResolver>(); }

}  // namespace resnet8::detail

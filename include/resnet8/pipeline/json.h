#pragma once
// Every JSON document the tools write, through nlohmann::json: to_json() overloads for the plain data
// the stages return (found by argument-dependent lookup, so `nlohmann::json j = plan;` works).
#include <nlohmann/json.hpp>

namespace resnet8 {

struct Node;
struct ActivationPlan;
struct LayerPlan;
struct QuantPlan;
struct QuantizedResNet8;
struct EvalReport;
struct BenchResult;
struct BenchReport;
struct OpProfile;
struct BitWidths;
struct SweepPoint;
struct LayerSensitivity;
struct MixedPrecisionStep;
struct MixedPrecision;
struct MethodComparison;
struct WhatIf;
struct EqualizedPair;
struct LayerRefinement;
struct RefineReport;

void to_json(nlohmann::json& j, const Node& n);  // a graph node: name, kind, inputs, activation point, relu
void to_json(nlohmann::json& j, const ActivationPlan& a);
void to_json(nlohmann::json& j, const LayerPlan& l);  // parameters and ranges, not the weight values
void to_json(nlohmann::json& j, const QuantPlan& plan);
void to_json(nlohmann::json& j, const WhatIf& w);
// Per layer of q's plan, the values behind it: "weights" (the plan's integers, row-major [out, in, kh, kw]
// or [out, in]; the fp32 values for a layer kept in fp32) and "fp32_weights" (the float weights the plan
// was made from: batch norm folded, equalized if it was). For views of the weights (the playground).
nlohmann::json weights_json(const QuantizedResNet8& q);
void to_json(nlohmann::json& j, const EqualizedPair& p);
void to_json(nlohmann::json& j, const LayerRefinement& r);
void to_json(nlohmann::json& j, const RefineReport& r);
void to_json(nlohmann::json& j, const EvalReport& r);  // predictions are not included
void to_json(nlohmann::json& j, const BenchResult& r);
void to_json(nlohmann::json& j, const BenchReport& r);
void to_json(nlohmann::json& j, const OpProfile& p);
void to_json(nlohmann::json& j, const SweepPoint& p);
void to_json(nlohmann::json& j, const LayerSensitivity& s);
void to_json(nlohmann::json& j, const MixedPrecisionStep& s);
void to_json(nlohmann::json& j, const MixedPrecision& m);
void to_json(nlohmann::json& j, const MethodComparison& m);  // accuracies by method name

// `j` as the files hold it: indented by 2, ending with a newline.
std::string json_text(const nlohmann::json& j);

}  // namespace resnet8

#pragma once
// Every JSON document the tools write, through nlohmann::json: to_json() overloads for the plain data
// the stages return (found by argument-dependent lookup, so `nlohmann::json j = plan;` works).
#include <nlohmann/json.hpp>

namespace resnet8 {

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
struct EqualizedPair;
struct LayerRefinement;
struct RefineReport;

void to_json(nlohmann::json& j, const ActivationPlan& a);
void to_json(nlohmann::json& j, const LayerPlan& l);  // parameters and ranges, not the weight values
void to_json(nlohmann::json& j, const QuantPlan& plan);
// What produced an int8 file: tool, LibTorch, engine, scheme, observer, weights, fp32 layers, calibration.
nlohmann::json ptq_metadata(const QuantizedResNet8& q);
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
void to_json(nlohmann::json& j, const MethodComparison& m);  // accuracies by plan_methods() name

// `j` as the files hold it: indented by 2, ending with a newline.
std::string json_text(const nlohmann::json& j);

}  // namespace resnet8

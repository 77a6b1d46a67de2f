#include "testing.h"

#include <resnet8/data/weights.h>
#include <resnet8/model/model.h>
#include <resnet8/support/error.h>

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <fstream>

using resnet8::NamedTensors;
using resnet8::testing::error_of;
using resnet8::testing::TempDir;

namespace {

NamedTensors state_of(const torch::nn::Module& module) {
  NamedTensors out;
  for (const auto& p : module.named_parameters()) out[p.key()] = p.value().detach().clone();
  for (const auto& b : module.named_buffers()) out[b.key()] = b.value().detach().clone();
  return out;
}

// Saves `tensors` as a TorchScript module tree, as torch.jit.save would lay it out.
torch::jit::Module script_module(const NamedTensors& tensors, const std::string& cls) {
  torch::jit::Module module("__torch__." + cls);
  std::map<std::string, NamedTensors> children;
  for (const auto& [name, t] : tensors) {
    const auto dot = name.find('.');
    if (dot != std::string::npos) {
      children[name.substr(0, dot)][name.substr(dot + 1)] = t;
    } else if (t.is_floating_point()) {
      module.register_parameter(name, t, /*is_buffer=*/false);
    } else {
      module.register_buffer(name, t);
    }
  }
  for (const auto& [child, sub] : children) module.register_module(child, script_module(sub, cls + "_" + child));
  return module;
}

std::filesystem::path save(const NamedTensors& tensors, const std::filesystem::path& file) {
  script_module(tensors, "ResNet8").save(file.string());
  return file;
}

std::string load_error(const NamedTensors& tensors, const TempDir& dir) {
  const auto file = save(tensors, dir / "model.pt");
  resnet8::ResNet8 model;
  return error_of([&] { resnet8::load_weights(*model, resnet8::read_torchscript_tensors(file), file.string()); });
}

}  // namespace

TEST_CASE("weights round-trip through a TorchScript file into a fresh ResNet8") {
  TempDir dir;
  torch::manual_seed(1);
  resnet8::ResNet8 source;
  const NamedTensors expected = state_of(*source);
  const auto file = save(expected, dir / "model.pt");

  const resnet8::ResNet8 loaded = resnet8::load_resnet8(file);
  const NamedTensors got = state_of(*loaded);
  REQUIRE(got.size() == expected.size());
  for (const auto& [name, t] : expected) {
    INFO(name);
    CHECK(torch::equal(got.at(name), t));
  }
  CHECK_FALSE(loaded->is_training());
}

TEST_CASE("reading weights neither compiles nor runs the file's TorchScript code") {
  TempDir dir;
  resnet8::ResNet8 source;
  const auto good = save(state_of(*source), dir / "good.pt");

  // Same archive, but every code/ record replaced by text that is not TorchScript.
  const auto doctored = dir / "doctored.pt";
  {
    caffe2::serialize::PyTorchStreamReader reader(good.string());
    caffe2::serialize::PyTorchStreamWriter writer(doctored.string());
    const std::string garbage = "this is not TorchScript (\n";
    int replaced = 0;
    for (const auto& name : reader.getAllRecords()) {
      if (name == "version" || name == ".data/version") continue;  // the writer adds its own
      if (name.rfind("code/", 0) == 0) {
        writer.writeRecord(name, garbage.data(), garbage.size());
        ++replaced;
      } else {
        const auto [data, size] = reader.getRecord(name);
        writer.writeRecord(name, data.get(), size);
      }
    }
    writer.writeEndOfFile();
    REQUIRE(replaced > 0);
  }
  CHECK_THROWS(torch::jit::load(doctored.string()));  // the code path does compile it
  const NamedTensors tensors = resnet8::read_torchscript_tensors(doctored);
  CHECK(tensors.size() == state_of(*source).size());
  CHECK(torch::equal(tensors.at("fc.weight"), source->fc->weight));
}

TEST_CASE("a missing tensor is named with the shape that was expected") {
  TempDir dir;
  resnet8::ResNet8 source;
  NamedTensors tensors = state_of(*source);
  tensors.erase("stack2.bn1.running_var");
  const std::string msg = load_error(tensors, dir);
  CHECK(msg.find("model.pt") != std::string::npos);
  CHECK(msg.find("missing tensor 'stack2.bn1.running_var' (expected Float [32])") != std::string::npos);
}

TEST_CASE("a wrong shape is reported with expected and found shapes") {
  TempDir dir;
  resnet8::ResNet8 source;
  NamedTensors tensors = state_of(*source);
  tensors["fc.weight"] = torch::zeros({10, 32});
  const std::string msg = load_error(tensors, dir);
  CHECK(msg.find("tensor 'fc.weight': expected Float [10, 64], found Float [10, 32]") != std::string::npos);
}

TEST_CASE("a wrong dtype is reported") {
  TempDir dir;
  resnet8::ResNet8 source;
  NamedTensors tensors = state_of(*source);
  tensors["stem.conv.bias"] = tensors["stem.conv.bias"].to(torch::kDouble);
  const std::string msg = load_error(tensors, dir);
  CHECK(msg.find("tensor 'stem.conv.bias': expected Float [16], found Double [16]") != std::string::npos);
}

TEST_CASE("NaN or infinite weights are refused and nothing is copied") {
  TempDir dir;
  resnet8::ResNet8 source;
  NamedTensors tensors = state_of(*source);
  tensors["stack3.conv2.weight"][0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  const auto file = save(tensors, dir / "model.pt");

  resnet8::ResNet8 target;
  const NamedTensors before = state_of(*target);
  const std::string msg =
      error_of([&] { resnet8::load_weights(*target, resnet8::read_torchscript_tensors(file), "model.pt"); });
  CHECK(msg.find("tensor 'stack3.conv2.weight': contains NaN or infinite values") != std::string::npos);
  CHECK(torch::equal(state_of(*target).at("stem.conv.weight"), before.at("stem.conv.weight")));
}

TEST_CASE("an unexpected tensor is refused") {
  TempDir dir;
  resnet8::ResNet8 source;
  NamedTensors tensors = state_of(*source);
  tensors["stack1.shortcut.weight"] = torch::zeros({16, 16, 1, 1});
  CHECK(load_error(tensors, dir).find("unexpected tensor 'stack1.shortcut.weight'") != std::string::npos);
}

TEST_CASE("files that are not TorchScript archives get a clear error") {
  TempDir dir;
  CHECK(error_of([&] {
          resnet8::read_torchscript_tensors(dir / "absent.pt");
        }).find("absent.pt: model file not found") != std::string::npos);
  const auto junk = dir / "junk.pt";
  std::ofstream(junk) << "not a zip archive";
  CHECK(error_of([&] { resnet8::read_torchscript_tensors(junk); }).find("junk.pt: not a TorchScript file") !=
        std::string::npos);
}

#pragma once
// A TorchScript file (a PyTorch zip archive), opened once and read as data: its records, and its tensors
// unpickled with a type resolver that knows no TorchScript code (classes become plain attribute bags and no
// method of the file, not even __setstate__, is compiled or run). The int8 file reader takes its metadata,
// record checks and state from one archive, and torch::jit::load can read the same open file (adapter()).
#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace caffe2::serialize {
class PyTorchStreamReader;
class ReadAdapterInterface;
}  // namespace caffe2::serialize

namespace resnet8 {

// Every tensor attribute of the saved module tree, by dotted path ("stack2.bn1.running_var").
using NamedTensors = std::map<std::string, at::Tensor>;

class TorchScriptArchive {
 public:
  // Opens `file` (a regular file that exists). Throws resnet8::Error naming it when it is not a zip archive.
  explicit TorchScriptArchive(const std::filesystem::path& file);
  ~TorchScriptArchive();
  TorchScriptArchive(const TorchScriptArchive&) = delete;
  TorchScriptArchive& operator=(const TorchScriptArchive&) = delete;

  const std::filesystem::path& file() const { return file_; }
  // The record `name` inside the archive's folder ("extra/resnet8_ptq.json"), or nothing when absent.
  std::optional<std::string> record(const std::string& name) const;
  // Every record's name inside the archive's folder.
  std::vector<std::string> records() const;
  // Every tensor of data.pkl, checked: record count and total size, data.pkl present, a valid pickle of at
  // most 256 kB, nested at most 64 deep, every tensor inside its storage record. With `tuple_state`, an
  // object whose custom state is a tuple (an int8 file's, int8_torchscript.h) is read too: its tensors are
  // "state0", "state1", ... (still as data: no __setstate__ runs); otherwise such an object is refused.
  NamedTensors tensors(bool tuple_state = false) const;
  // The open file, for torch::jit::load(adapter()) to read the same bytes.
  std::shared_ptr<caffe2::serialize::ReadAdapterInterface> adapter() const { return adapter_; }

 private:
  std::filesystem::path file_;
  std::shared_ptr<caffe2::serialize::ReadAdapterInterface> adapter_;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader_;
};

}  // namespace resnet8

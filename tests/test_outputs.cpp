// Writing outputs (atomic_file.h, output_guard.h): whole or not at all, permissions kept, a run's outputs
// committed together.
#include "testing.h"

#include <resnet8/support/atomic_file.h>
#include <resnet8/support/error.h>
#include <resnet8/support/output_guard.h>

#include <sys/resource.h>
#include <sys/stat.h>

#include <csignal>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;
using resnet8::testing::error_of;
using resnet8::testing::TempDir;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(stat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// Every entry of `dir`, to see that no temporary directory is left behind.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("write_file_atomic: the bytes in place, nothing else left; a new file is 0644 less the umask") {
  TempDir dir;
  const mode_t old_mask = umask(027);
  resnet8::write_file_atomic(dir / "out.json", "{}\n");
  umask(old_mask);
  CHECK(read(dir / "out.json") == "{}\n");
  CHECK(mode_of(dir / "out.json") == 0640);
  CHECK(entries(dir.path()) == std::vector<std::string>{"out.json"});
}

TEST_CASE("a replaced output keeps its permission bits: a private report stays private, a read-only file read-only") {
  TempDir dir;
  for (const mode_t mode : {mode_t{0600}, mode_t{0444}, mode_t{0664}}) {
    INFO(mode);
    const fs::path p = dir / "report.json";
    fs::remove(p);
    std::ofstream(p) << "old";
    REQUIRE(chmod(p.c_str(), mode) == 0);
    resnet8::write_file_atomic(p, "new");
    CHECK(read(p) == "new");
    CHECK(mode_of(p) == mode);
  }
}

TEST_CASE("under an OutputGuard nothing is in place before commit(); without commit() the old files stay") {
  TempDir dir;
  std::ofstream(dir / "a.pt") << "old a";
  {
    resnet8::OutputGuard guard;
    resnet8::write_file_atomic(dir / "a.pt", "new a");
    resnet8::write_file_atomic(dir / "b.json", "new b");
    CHECK(read(dir / "a.pt") == "old a");
    CHECK_FALSE(fs::exists(dir / "b.json"));
    // The run reads back what it wrote where it is staged.
    CHECK(resnet8::written_path(dir / "a.pt") != dir / "a.pt");
    CHECK(read(resnet8::written_path(dir / "a.pt")) == "new a");
  }  // no commit: a failed run
  CHECK(read(dir / "a.pt") == "old a");
  CHECK(entries(dir.path()) == std::vector<std::string>{"a.pt"});
  {
    resnet8::OutputGuard guard;
    resnet8::write_file_atomic(dir / "a.pt", "new a");
    resnet8::write_file_atomic(dir / "b.json", "new b");
    guard.commit();
  }
  CHECK(read(dir / "a.pt") == "new a");
  CHECK(read(dir / "b.json") == "new b");
  CHECK(entries(dir.path()) == std::vector<std::string>{"a.pt", "b.json"});
  CHECK(resnet8::written_path(dir / "a.pt") == dir / "a.pt");
}

TEST_CASE(
    "a full disk (a file-size limit here) is one error naming the file; the old file and the directory stay as they "
    "were") {
  TempDir dir;
  std::ofstream(dir / "q.pt") << "old";
  struct rlimit before {};
  REQUIRE(getrlimit(RLIMIT_FSIZE, &before) == 0);
  const auto previous = std::signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG instead of killing us
  struct rlimit small = before;
  small.rlim_cur = 1000;
  REQUIRE(setrlimit(RLIMIT_FSIZE, &small) == 0);
  const std::string msg = error_of([&] { resnet8::write_file_atomic(dir / "q.pt", std::string(5000, 'x')); });
  setrlimit(RLIMIT_FSIZE, &before);
  std::signal(SIGXFSZ, previous);
  CHECK(msg.find("q.pt: cannot write (File too large)") != std::string::npos);
  CHECK(read(dir / "q.pt") == "old");
  CHECK(entries(dir.path()) == std::vector<std::string>{"q.pt"});
}

TEST_CASE("an empty or missing output path is refused before any work, naming the flag") {
  TempDir dir;
  CHECK(error_of([&] { resnet8::check_writable("", "--output"); }) == "--output: an empty path; expected a file name");
  CHECK(error_of([&] { resnet8::check_writable(dir / "no" / "x.pt", "--onnx"); }).find("does not exist") !=
        std::string::npos);
  CHECK_THROWS_AS(resnet8::write_file_atomic("", "x"), resnet8::Error);
}

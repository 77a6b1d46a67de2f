#pragma once
// All or nothing for a tool's outputs. While an OutputGuard lives, every write_file_atomic() is staged:
// written and fsync'd in its private temporary directory, but not yet renamed into place. commit() puts
// them all in place at once; without it the guard's destructor removes them, and the outputs that were
// there before stay untouched. install_signal_cleanup() makes SIGINT, SIGTERM and SIGHUP remove what was
// staged (and a file half-written) before the process dies of the signal, and ignores SIGXFSZ, so that a
// file-size limit makes the write fail (EFBIG) and the run end through its usual error and clean-up.
//
// Concurrent runs: commit() takes an exclusive advisory lock (flock) on each output directory, then
// renames; signals are held off meanwhile. Two runs writing the same outputs therefore never mix: the one
// that commits last leaves its whole set, and a run that is stopped has put nothing in place, so it can
// never restore an older file over a newer one. Readers that do not lock see each file change
// atomically, but may see a new model beside the old report for the instant between two renames.
#include <filesystem>

namespace resnet8 {

class OutputGuard {
 public:
  OutputGuard();
  ~OutputGuard();  // removes whatever is still staged
  OutputGuard(const OutputGuard&) = delete;
  OutputGuard& operator=(const OutputGuard&) = delete;
  // Puts every staged output in place, under the directories' locks. Throws resnet8::Error if a rename
  // fails; the outputs already renamed are then put back as they were.
  void commit();
};

void install_signal_cleanup();

namespace detail {
// Used by write_file_atomic (atomic_file.cpp).
bool output_guard_active();
void writing_started(const std::filesystem::path& dir, const std::filesystem::path& file);
void writing_finished();
// An output directory this run created: removed again (if empty) unless the guard commits.
void directory_created(const std::filesystem::path& dir);
// A written temporary `file` (in its directory `dir`) waiting to become `target`.
void stage(const std::filesystem::path& target, const std::filesystem::path& file, const std::filesystem::path& dir);
std::filesystem::path staged_file(const std::filesystem::path& target);  // empty if `target` is not staged
// Renames one written temporary file into place now, under the directory's lock.
void commit_one(const std::filesystem::path& target, const std::filesystem::path& file,
                const std::filesystem::path& dir);
}  // namespace detail

}  // namespace resnet8

// The C kernels' faster variants against the portable reference on the same inputs (tests/micro/variants_check.c):
// on the host, the arm_dsp variant runs as C with its instructions emulated (r8_arm_dsp.h); scripts/mcu.sh runs the
// same checks on a Cortex-M4 in QEMU, where the variant is its assembly.
#include <string>
#include <vector>

#include "testing.h"

extern "C" {
#include "micro/variants_check.h"
}

namespace {
std::vector<std::string> mismatches;
void keep(const char* line) { mismatches.emplace_back(line); }
}  // namespace

TEST_CASE("r8_requant_fast, the short ADD and the arm_dsp CONV_2D give the reference's integers") {
  mismatches.clear();
  // 2,000,000 random requantizations, 4 ADDs over all 65,536 input pairs, 600 random layers.
  const int failures = r8_variants_check(20261205u, 2000000, 4, 600, keep);
  for (const std::string& m : mismatches) MESSAGE(m);
  CHECK(failures == 0);
}

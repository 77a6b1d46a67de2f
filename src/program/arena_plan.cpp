// Fusion, schedule and placement of a prepared model's activations (arena_plan.h).
#include <resnet8/program/arena_plan.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace resnet8 {
namespace {

constexpr int64_t kAlign = 4;
constexpr int64_t kMaxArenaBytes = 64000000;

bool reads(const ArenaStep& s, int32_t t) { return s.input == t || s.input2 == t; }

int producer(const std::vector<ArenaStep>& steps, int32_t t) {
  for (size_t i = 0; i < steps.size(); ++i) {
    if (steps[i].output == t) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> readers(const std::vector<ArenaStep>& steps, int32_t t) {
  std::vector<int> r;
  for (size_t i = 0; i < steps.size(); ++i) {
    if (reads(steps[i], t)) r.push_back(static_cast<int>(i));
  }
  return r;
}

// Moves step k to position c (k > c), if every tensor it reads is written before c. Returns whether it did.
bool move_before(std::vector<ArenaStep>& steps, int k, int c) {
  for (const int32_t t : {steps[static_cast<size_t>(k)].input, steps[static_cast<size_t>(k)].input2}) {
    if (t >= 0 && producer(steps, t) >= c) return false;
  }
  std::rotate(steps.begin() + c, steps.begin() + k, steps.begin() + k + 1);
  return true;
}

class Planner {
 public:
  Planner(const PreparedModel& m, const ArenaOptions& options, std::string what)
      : m_(m), options_(options), what_(std::move(what)), alias_(m.model.tensors.size()) {
    std::iota(alias_.begin(), alias_.end(), 0);
    for (size_t i = 0; i < m.ops.size(); ++i) {
      const PreparedOp& o = m.ops[i];
      plan_.steps.push_back({static_cast<int32_t>(i), -1, 0, o.input, o.input2, o.output});
    }
  }
  void fuse_adds();
  void drop_reshapes();
  void place();
  ArenaPlan take() { return std::move(plan_); }

 private:
  const PreparedOp& op(const ArenaStep& s) const { return m_.ops[static_cast<size_t>(s.op)]; }
  bool fuse(size_t j, int side);
  std::vector<int32_t> sharing(int32_t t) const;
  void fuse_each(unsigned sides);
  int32_t buffer(int32_t t) const { return t < 0 ? -1 : alias_[static_cast<size_t>(t)]; }
  void share(int32_t t, int32_t with) {  // t's bytes are with's
    const int32_t b = buffer(with);
    for (auto& a : alias_) a = a == t ? b : a;
    alias_[static_cast<size_t>(t)] = b;
  }

  const PreparedModel& m_;
  const ArenaOptions& options_;
  std::string what_;
  std::vector<int32_t> alias_;  // per tensor: the tensor whose buffer holds it
  ArenaPlan plan_;
};

// Every tensor whose bytes are `t`'s: through the ADDs fused so far (an ADD's output is its other input's
// bytes) and the RESHAPEs still in the plan (a view of its input), in both directions.
std::vector<int32_t> Planner::sharing(int32_t t) const {
  std::vector<int32_t> group(alias_.size());
  for (size_t i = 0; i < group.size(); ++i) group[i] = alias_[i];
  auto root = [&](int32_t x) {
    while (group[static_cast<size_t>(x)] != x) x = group[static_cast<size_t>(x)];
    return x;
  };
  for (const ArenaStep& s : plan_.steps) {
    if (op(s).op == TfliteOp::kReshape) group[static_cast<size_t>(root(s.output))] = root(s.input);
  }
  std::vector<int32_t> out;
  for (size_t i = 0; i < group.size(); ++i) {
    if (root(static_cast<int32_t>(i)) == root(t)) out.push_back(static_cast<int32_t>(i));
  }
  return out;
}

// Fuses the ADD of steps[j] into the convolution that writes its input `side` (1 or 2), if that is legal: the
// convolution carries no fused ADD yet, its output is read by this ADD only, and the bytes it would overwrite
// in place (the other input's, and every view of them) are neither the graph's output, nor the convolution's
// own input, nor read after the convolution by any step but this ADD.
bool Planner::fuse(size_t j, int side) {
  auto& steps = plan_.steps;
  const ArenaStep add = steps[j];
  const int32_t from_conv = side == 1 ? add.input : add.input2, other = side == 1 ? add.input2 : add.input;
  int c = producer(steps, from_conv);
  const int k = producer(steps, other);
  if (c < 0 || k < 0 || op(steps[static_cast<size_t>(c)]).op != TfliteOp::kConv2d || from_conv == other) return false;
  if (steps[static_cast<size_t>(c)].fused_add >= 0) return false;  // one ADD per convolution
  if (readers(steps, from_conv) != std::vector<int>{static_cast<int>(j)}) return false;
  const std::vector<int32_t> overwritten = sharing(other);
  const auto in = [&](int32_t t) { return std::find(overwritten.begin(), overwritten.end(), t) != overwritten.end(); };
  if (in(m_.output) || in(steps[static_cast<size_t>(c)].input)) return false;
  if (k > c && !move_before(steps, k, c)) return false;
  c = producer(steps, from_conv);
  for (const int32_t t : overwritten) {
    for (const int r : readers(steps, t)) {
      if (r != static_cast<int>(j) && r > c) return false;  // read after the convolution would have replaced it
    }
  }
  ArenaStep& conv = steps[static_cast<size_t>(c)];
  conv.fused_add = add.op;
  conv.add_input = side;
  conv.output = add.output;
  share(add.output, other);
  steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(j));
  return true;
}

// Fuses every ADD it can, the k-th trying first the side given by bit k of `sides`.
void Planner::fuse_each(unsigned sides) {
  for (size_t j = 0, k = 0; j < plan_.steps.size(); ++j) {
    if (op(plan_.steps[j]).op != TfliteOp::kAdd) continue;
    const int first = (sides >> std::min<size_t>(k++, 31)) & 1u ? 2 : 1;
    if (fuse(j, first) || fuse(j, 3 - first)) --j;  // the steps moved; look at position j again
  }
}

// Which side of each ADD to fuse into is a choice (a residual ADD can take either convolution when
// both qualify, and one side can free a larger input sooner): every choice is planned for up
// to 8 ADDs, and the smallest arena kept.
void Planner::fuse_adds() {
  const std::vector<ArenaStep> steps = plan_.steps;
  const std::vector<int32_t> alias = alias_;
  const auto adds =
      std::count_if(m_.ops.begin(), m_.ops.end(), [](const PreparedOp& o) { return o.op == TfliteOp::kAdd; });
  const unsigned choices = adds <= 8 ? 1u << adds : 1u;
  unsigned best = 0;
  int64_t best_bytes = -1;
  for (unsigned sides = 0; sides < choices && choices > 1; ++sides) {
    fuse_each(sides);
    drop_reshapes();
    place();
    if (best_bytes < 0 || plan_.arena_bytes < best_bytes) best = sides, best_bytes = plan_.arena_bytes;
    plan_.steps = steps;
    alias_ = alias;
  }
  fuse_each(best);
}

void Planner::drop_reshapes() {
  auto& steps = plan_.steps;
  for (size_t i = 0; i < steps.size();) {
    if (op(steps[i]).op != TfliteOp::kReshape) {
      ++i;
      continue;
    }
    share(steps[i].output, steps[i].input);
    steps.erase(steps.begin() + static_cast<std::ptrdiff_t>(i));
  }
}

struct Buffer {
  int64_t bytes = 0, offset = -1;
  int first = -1, last = -1;  // the steps it is live in
  void use(int step) {
    first = first < 0 ? step : std::min(first, step);
    last = std::max(last, step);
  }
};

// The lowest aligned offset where `b` overlaps no placed buffer live at the same time.
int64_t lowest_free(const Buffer& b, const std::vector<Buffer>& placed) {
  std::vector<const Buffer*> live;
  for (const Buffer& x : placed) {
    if (x.offset >= 0 && x.first <= b.last && b.first <= x.last) live.push_back(&x);
  }
  std::sort(live.begin(), live.end(), [](const Buffer* x, const Buffer* y) { return x->offset < y->offset; });
  int64_t at = 0;
  for (const Buffer* x : live) {
    if (x->offset >= at + b.bytes) break;
    at = std::max(at, (x->offset + x->bytes + kAlign - 1) / kAlign * kAlign);
  }
  return at;
}

void Planner::place() {
  auto& steps = plan_.steps;
  const int n = static_cast<int>(steps.size());
  const size_t tensors = m_.model.tensors.size();
  std::vector<Buffer> buffers(tensors + steps.size());  // tensors', then each step's scratch
  auto use = [&](int32_t t, int step) {
    if (t < 0) return;
    Buffer& b = buffers[static_cast<size_t>(buffer(t))];
    b.bytes = std::max(b.bytes, m_.bytes[static_cast<size_t>(t)]);
    b.use(step);
  };
  use(m_.input, 0);
  use(m_.output, std::max(n - 1, 0));
  for (int i = 0; i < n; ++i) {
    const ArenaStep& s = steps[static_cast<size_t>(i)];
    use(s.input, i);
    use(s.input2, i);
    use(s.output, i);
    if (op(s).op == TfliteOp::kConv2d && options_.conv_scratch) {
      Buffer& scratch = buffers[tensors + static_cast<size_t>(i)];
      scratch.bytes = options_.conv_scratch(op(s));
      scratch.use(i);
    }
  }
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  plan_.arena_bytes = 0;
  for (const size_t i : order) {
    if (buffers[i].first < 0 || buffers[i].bytes == 0) continue;
    buffers[i].offset = lowest_free(buffers[i], buffers);
    plan_.arena_bytes = std::max(plan_.arena_bytes, buffers[i].offset + buffers[i].bytes);
  }
  if (plan_.arena_bytes > kMaxArenaBytes) {
    throw Error(fmt::format("{}: its arena would take {} bytes (limit {} MB)", what_, plan_.arena_bytes,
                            kMaxArenaBytes / 1000000));
  }
  auto at = [&](int32_t t) { return t < 0 ? 0 : buffers[static_cast<size_t>(buffer(t))].offset; };
  for (int i = 0; i < n; ++i) {
    ArenaStep& s = steps[static_cast<size_t>(i)];
    s.input_at = at(s.input);
    s.input2_at = at(s.input2);
    s.output_at = at(s.output);
    s.scratch_at =
        op(s).op == TfliteOp::kConv2d ? std::max<int64_t>(buffers[tensors + static_cast<size_t>(i)].offset, 0) : 0;
  }
  plan_.input_at = at(m_.input);
  plan_.output_at = at(m_.output);
}

}  // namespace

ArenaPlan plan_arena(const PreparedModel& model, const ArenaOptions& options, const std::string& what) {
  Planner planner(model, options, what);
  if (options.fuse_adds) planner.fuse_adds();
  planner.drop_reshapes();
  planner.place();
  return planner.take();
}

}  // namespace resnet8

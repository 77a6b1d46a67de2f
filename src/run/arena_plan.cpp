// Fusion, schedule and placement of an IntegerProgram's activations (arena_plan.h).
#include <resnet8/run/arena_plan.h>
#include <resnet8/support/error.h>

#include <fmt/format.h>

#include <algorithm>
#include <numeric>

namespace resnet8 {
namespace {

constexpr int64_t kAlign = 4;
constexpr int64_t kMaxArenaBytes = int64_t{64} << 20;

bool reads(const ProgramOp& o, int32_t t) { return o.input == t || o.input2 == t; }

int producer(const std::vector<ProgramOp>& ops, int32_t t) {
  for (size_t i = 0; i < ops.size(); ++i) {
    if (ops[i].output == t) return static_cast<int>(i);
  }
  return -1;
}

std::vector<int> readers(const std::vector<ProgramOp>& ops, int32_t t) {
  std::vector<int> r;
  for (size_t i = 0; i < ops.size(); ++i) {
    if (reads(ops[i], t)) r.push_back(static_cast<int>(i));
  }
  return r;
}

// Moves op k to position c (k > c), if every tensor it reads is written before c. Returns whether it did.
bool move_before(std::vector<ProgramOp>& ops, int k, int c) {
  for (const int32_t t : {ops[static_cast<size_t>(k)].input, ops[static_cast<size_t>(k)].input2}) {
    if (t >= 0 && producer(ops, t) >= c) return false;
  }
  std::rotate(ops.begin() + c, ops.begin() + k, ops.begin() + k + 1);
  return true;
}

class Planner {
 public:
  Planner(IntegerProgram& p, std::string what) : p_(p), what_(std::move(what)), alias_(p.model.tensors.size()) {
    std::iota(alias_.begin(), alias_.end(), 0);
  }
  void fuse_adds();
  void drop_reshapes();
  void place();
  void link_fused_adds();

 private:
  bool fuse(size_t j, int side);
  void fuse_each(unsigned sides);
  int32_t buffer(int32_t t) const { return t < 0 ? -1 : alias_[static_cast<size_t>(t)]; }
  void share(int32_t t, int32_t with) {  // t's bytes are with's
    const int32_t b = buffer(with);
    for (auto& a : alias_) a = a == t ? b : a;
    alias_[static_cast<size_t>(t)] = b;
  }

  IntegerProgram& p_;
  std::string what_;
  std::vector<int32_t> alias_;  // per tensor: the tensor whose buffer holds it
};

// Fuses ADD ops[j] into the convolution that writes its input `side` (1 or 2), if the rules allow.
bool Planner::fuse(size_t j, int side) {
  auto& ops = p_.ops;
  const ProgramOp add = ops[j];
  const int32_t from_conv = side == 1 ? add.input : add.input2, other = side == 1 ? add.input2 : add.input;
  int c = producer(ops, from_conv);
  const int k = producer(ops, other);
  if (c < 0 || k < 0 || ops[static_cast<size_t>(c)].op != TfliteOp::kConv2d || from_conv == other) return false;
  if (readers(ops, from_conv) != std::vector<int>{static_cast<int>(j)}) return false;
  if (ops[static_cast<size_t>(c)].input == other) return false;  // the convolution would overwrite its own input
  if (k > c && !move_before(ops, k, c)) return false;
  c = producer(ops, from_conv);
  for (const int r : readers(ops, other)) {
    if (r != static_cast<int>(j) && r > c) return false;  // read after the convolution would have replaced it
  }
  ProgramOp& conv = ops[static_cast<size_t>(c)];
  conv.add = add.add;  // the pointer to it is set once the plan is final (link_fused_adds)
  conv.conv.add_input = side;
  conv.output = add.output;
  share(add.output, other);
  ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(j));
  return true;
}

// Fuses every ADD it can, the k-th trying first the side given by bit k of `sides`.
void Planner::fuse_each(unsigned sides) {
  for (size_t j = 0, k = 0; j < p_.ops.size(); ++j) {
    if (p_.ops[j].op != TfliteOp::kAdd) continue;
    const int first = (sides >> std::min<size_t>(k++, 31)) & 1u ? 2 : 1;
    if (fuse(j, first) || fuse(j, 3 - first)) --j;  // the ops moved; look at position j again
  }
}

// Which side of each ADD to fuse into is a choice (a residual ADD can take either convolution when
// both qualify, and one side can free a larger input sooner): every choice is planned for up
// to 8 ADDs, and the smallest arena kept.
void Planner::fuse_adds() {
  const std::vector<ProgramOp> ops = p_.ops;
  const std::vector<int32_t> alias = alias_;
  const auto adds = std::count_if(ops.begin(), ops.end(), [](const ProgramOp& o) { return o.op == TfliteOp::kAdd; });
  const unsigned choices = adds <= 8 ? 1u << adds : 1u;
  unsigned best = 0;
  int64_t best_bytes = -1;
  for (unsigned sides = 0; sides < choices && choices > 1; ++sides) {
    fuse_each(sides);
    drop_reshapes();
    place();
    if (best_bytes < 0 || p_.arena_bytes < best_bytes) best = sides, best_bytes = p_.arena_bytes;
    p_.ops = ops;
    alias_ = alias;
  }
  fuse_each(best);
}

void Planner::drop_reshapes() {
  auto& ops = p_.ops;
  for (size_t i = 0; i < ops.size();) {
    if (ops[i].op != TfliteOp::kReshape) {
      ++i;
      continue;
    }
    share(ops[i].output, ops[i].input);
    ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
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
  auto& ops = p_.ops;
  const int steps = static_cast<int>(ops.size());
  std::vector<Buffer> buffers(p_.model.tensors.size() + ops.size());  // tensors', then each step's scratch
  auto use = [&](int32_t t, int step) {
    if (t < 0) return;
    Buffer& b = buffers[static_cast<size_t>(buffer(t))];
    b.bytes = std::max(b.bytes, p_.bytes[static_cast<size_t>(t)]);
    b.use(step);
  };
  use(p_.input, 0);
  use(p_.output, std::max(steps - 1, 0));
  for (int i = 0; i < steps; ++i) {
    const ProgramOp& o = ops[static_cast<size_t>(i)];
    use(o.input, i);
    use(o.input2, i);
    use(o.output, i);
    if (o.op == TfliteOp::kConv2d) {
      Buffer& s = buffers[p_.model.tensors.size() + static_cast<size_t>(i)];
      s.bytes = r8_conv_scratch_bytes(&o.conv);
      s.use(i);
    }
  }
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return buffers[a].bytes > buffers[b].bytes; });
  p_.arena_bytes = 0;
  for (const size_t i : order) {
    if (buffers[i].first < 0 || buffers[i].bytes == 0) continue;
    buffers[i].offset = lowest_free(buffers[i], buffers);
    p_.arena_bytes = std::max(p_.arena_bytes, buffers[i].offset + buffers[i].bytes);
  }
  if (p_.arena_bytes > kMaxArenaBytes) {
    throw Error(
        fmt::format("{}: its arena would take {} bytes (limit {} MiB)", what_, p_.arena_bytes, kMaxArenaBytes >> 20));
  }
  auto at = [&](int32_t t) { return t < 0 ? 0 : buffers[static_cast<size_t>(buffer(t))].offset; };
  for (int i = 0; i < steps; ++i) {
    ProgramOp& o = ops[static_cast<size_t>(i)];
    o.input_at = at(o.input);
    o.input2_at = at(o.input2);
    o.output_at = at(o.output);
    o.scratch_at = o.op == TfliteOp::kConv2d ? buffers[p_.model.tensors.size() + static_cast<size_t>(i)].offset : 0;
  }
  p_.input_at = at(p_.input);
  p_.output_at = at(p_.output);
}

void Planner::link_fused_adds() {
  for (ProgramOp& o : p_.ops) {
    if (o.op == TfliteOp::kConv2d && o.conv.add_input != 0) o.conv.add = &p_.fused_adds.emplace_back(o.add);
  }
}

}  // namespace

void plan_arena(IntegerProgram& program, bool fuse_adds, const std::string& what) {
  Planner planner(program, what);
  if (fuse_adds) planner.fuse_adds();
  planner.drop_reshapes();
  planner.place();
  planner.link_fused_adds();
}

}  // namespace resnet8

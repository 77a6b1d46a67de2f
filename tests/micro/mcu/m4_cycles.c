/* A QEMU TCG plugin (qemu-system-arm -plugin libm4_cycles.so,...): estimated Cortex-M4 cycles of the code run
 * between two markers, per image, per kernel call and per function. Used by scripts/mcu.sh.
 *
 * Every executed instruction is weighted with the Cortex-M4 Technical Reference Manual's timings (the model,
 * and its limits, are in docs/MICRO.md):
 *   1 cycle           data processing, MUL, MLA, MLS, SMLAD & co., SMULL, SMLAL, SXTB16, IT, NOP, ...
 *   2 cycles          a single load or store (LDR, LDRB, LDRH, LDRSB, LDRSH, STR, STRB, STRH)
 *   1 cycle           ... when it directly follows another single load or store (pipelined)
 *   3 cycles          LDRD, STRD (1 + 2 words)
 *   1 + N             LDM, STM, PUSH, POP of N registers
 *   12                SDIV, UDIV (the manual's worst case)
 *   + P = 2           a branch that is taken (B, Bcc, BL, BX, BLX, CBZ, CBNZ), and a load into PC (POP {.., pc},
 *                     LDR pc): the pipeline refill; TBB and TBH 2 + P. Not taken: 1.
 * Memory has no wait states. Whether a branch was taken is read from the next block QEMU executes: one that does
 * not start where the branch's block falls through means it was.
 *
 * model=m55 adds a coarse Cortex-M55 rule for Helium (MVE) instructions, recognised by their encoding (QEMU's
 * disassembler does not know them): 2 cycles each, a 128-bit instruction's 4 beats on the M55's dual-beat
 * datapath; 1 less when it directly follows a vector instruction of the other kind (a memory access after an
 * arithmetic one, or the reverse), the beat-wise overlap Armv8.1-M allows between them; byte and halfword
 * gathers and scatters 1 cycle an element (16 or 8). No stalls for dependencies, no wait states. Every other
 * instruction keeps the Cortex-M4 rule above; the low-overhead loop instructions (WLS, DLS, LE, LETP, which the
 * disassembler does not name as branches) cost 1 and no refill, as the M55's loop buffer makes them. Checked on
 * loops of known length (cycle_loops_m55.c).
 *
 * Arguments: out=FILE (the report), begin=ADDR and end=ADDR (the entries of the harness's markers: counting
 * starts after the block at begin and stops at the block at end), and kernel=NAME@ADDR for each kernel entry
 * (a block starting there starts a new kernel call).
 *
 * The plugin API is QEMU's (include/qemu/qemu-plugin.h, API version 1): the few functions used here are
 * declared below. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct {
  const char* target_name;
  struct {
    int min, cur;
  } version;
  int system_emulation; /* a C bool in QEMU's declaration; unused here */
} qemu_info_t;
struct qemu_plugin_tb;
struct qemu_plugin_insn;
typedef void (*tb_trans_cb)(qemu_plugin_id_t id, struct qemu_plugin_tb* tb);
typedef void (*vcpu_udata_cb)(unsigned int vcpu_index, void* userdata);
typedef void (*udata_cb)(qemu_plugin_id_t id, void* userdata);
enum { kCbNoRegs = 0 };
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, tb_trans_cb cb);
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb* tb, vcpu_udata_cb cb, int flags, void* userdata);
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, udata_cb cb, void* userdata);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb* tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb* tb);
struct qemu_plugin_insn* qemu_plugin_tb_get_insn(const struct qemu_plugin_tb* tb, size_t idx);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn* insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn* insn);
char* qemu_plugin_insn_disas(const struct qemu_plugin_insn* insn);
const void* qemu_plugin_insn_data(const struct qemu_plugin_insn* insn);
const char* qemu_plugin_insn_symbol(const struct qemu_plugin_insn* insn);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

enum { kRefill = 2, kDivide = 12, kMaxKernels = 16, kMaxCalls = 256, kMaxFunctions = 256 };

/* What an instruction costs: its cycles if it does not branch, the extra if it branches, and whether it is a
 * single load or store (for pipelining). */
typedef struct {
  int cycles, taken_extra, single_ls, branch;
} cost_t;

/* A translated block, with everything the execution callback needs. */
typedef struct {
  uint32_t start, fallthrough;
  int instructions, cycles, taken_extra;
  int first_ls, last_ls, ends_in_branch;
  int first_vector, last_vector; /* M55 model: 1 memory, 2 arithmetic, 0 not a vector instruction */
  int function;                  /* index into functions[] */
  int kernel;                    /* >= 0 if it starts at a kernel's entry */
  int marker;                    /* 1 begin, 2 end, 0 neither */
} block_t;

typedef struct {
  char name[64];
  uint64_t cycles, instructions;
} counter_t;

static FILE* out;
static int m55_model;
static uint32_t begin_at, end_at;
static uint32_t kernel_at[kMaxKernels];
static char kernel_name[kMaxKernels][48];
static int kernels;
static counter_t functions[kMaxFunctions];
static int function_count;
static counter_t calls[kMaxCalls]; /* per kernel call of an image, summed over the images */
static int call, images, active, prev_call = -1;
static uint64_t total_cycles, total_instructions;
static const block_t* prev;

/* The condition codes a branch mnemonic may end in. */
static int is_condition(const char* s) {
  static const char* const codes[] = {"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs",
                                      "vc", "hi", "ls", "ge", "lt", "gt", "le", "al"};
  size_t i;
  for (i = 0; i < sizeof codes / sizeof codes[0]; ++i) {
    if (strcmp(s, codes[i]) == 0) return 1;
  }
  return 0;
}

/* The registers of a {..} list, ranges counted as they span. */
static int registers_in_list(const char* ops, int* has_pc) {
  const char* p = strchr(ops, '{');
  int n = 0;
  *has_pc = strstr(ops, "pc") != NULL;
  if (!p) return 1;
  for (++p; *p && *p != '}'; ++p) {
    if (*p == 'r' || *p == 'l' || *p == 's' || *p == 'p' || *p == 'f' || *p == 'i') {
      int a = -1, b = -1;
      if (*p == 'r' && sscanf(p, "r%d-r%d", &a, &b) == 2) {
        n += b - a + 1;
      } else {
        ++n;
      }
      while (*p && *p != ',' && *p != '}') ++p;
      if (*p == '}') break;
    }
  }
  return n;
}

static int starts_with(const char* s, const char* prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

/* The M55 model's cycles for an MVE instruction (the T32 coprocessor and vector space, 0xEC00-0xEFFF and
 * 0xFC00-0xFFFF, less the VMRS / VMSR moves of P0 and the FP system registers), before any overlap, or 0 for any
 * other; `*kind` 1 for a memory access (the load/store space, 0xEC00-0xEDFF and 0xFC00-0xFDFF), 2 otherwise. */
static int mve_cycles(const uint8_t* bytes, size_t size, int* kind) {
  uint32_t hw1, hw2;
  *kind = 0;
  if (size != 4) return 0;
  hw1 = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8, hw2 = (uint32_t)bytes[2] | (uint32_t)bytes[3] << 8;
  if ((hw1 & 0xEC00u) != 0xEC00u) return 0;
  if ((hw1 & 0xFFE0u) == 0xEEE0u && (hw2 & 0x0F10u) == 0x0A10u) return 0;
  *kind = (hw1 & 0xEE00u) == 0xEC00u ? 1 : 2;
  if ((hw1 & 0xEFE0u) == 0xEC80u && (hw2 & 0x0F00u) == 0x0E00u) return (hw2 & 0x30u) == 0 ? 16 : 8; /* gather */
  return 2;
}

/* Whether an instruction of vector kind `kind` overlaps the one before it, of kind `before`. */
static int overlaps(int before, int kind) { return before && kind && before != kind; }

/* The cost of one instruction from its disassembly ("mnemonic operands"). */
static cost_t instruction_cost(const char* disas) {
  cost_t c = {1, 0, 0, 0};
  char m[32] = {0};
  const char* ops = disas;
  int n = 0, has_pc = 0;
  while (*ops && *ops != ' ' && n < 31) m[n++] = *ops++;
  if (strchr(m, '.')) *strchr(m, '.') = '\0'; /* .w / .n */
  if (strcmp(m, "b") == 0 || (m[0] == 'b' && strlen(m) == 3 && is_condition(m + 1)) || strcmp(m, "bl") == 0 ||
      strcmp(m, "blx") == 0 || strcmp(m, "bx") == 0 || strcmp(m, "cbz") == 0 || strcmp(m, "cbnz") == 0) {
    c.branch = 1, c.taken_extra = kRefill;
  } else if (strcmp(m, "tbb") == 0 || strcmp(m, "tbh") == 0) {
    c.cycles = 2, c.branch = 1, c.taken_extra = kRefill;
  } else if (strcmp(m, "ldrd") == 0 || strcmp(m, "strd") == 0) {
    c.cycles = 3;
  } else if (starts_with(m, "ldm") || starts_with(m, "stm") || strcmp(m, "push") == 0 || strcmp(m, "pop") == 0) {
    c.cycles = 1 + registers_in_list(ops, &has_pc);
    if (has_pc && (m[0] == 'l' || m[0] == 'p')) c.branch = 1, c.taken_extra = kRefill;
  } else if (starts_with(m, "ldr") || starts_with(m, "str")) {
    c.cycles = 2, c.single_ls = 1;
    if (m[0] == 'l' && strstr(ops, " pc,") == ops) c.branch = 1, c.taken_extra = kRefill;
  } else if (strcmp(m, "sdiv") == 0 || strcmp(m, "udiv") == 0) {
    c.cycles = kDivide;
  }
  return c;
}

static int function_index(const char* name) {
  int i;
  if (!name) name = "?";
  for (i = 0; i < function_count; ++i) {
    if (strcmp(functions[i].name, name) == 0) return i;
  }
  if (function_count == kMaxFunctions) return kMaxFunctions - 1;
  snprintf(functions[function_count].name, sizeof functions[0].name, "%s", name);
  return function_count++;
}

static void on_block(unsigned int vcpu, void* data) {
  const block_t* b = (const block_t*)data;
  (void)vcpu;
  if (active && prev) {
    uint64_t extra = 0;
    if (prev->ends_in_branch && b->start != prev->fallthrough) extra = (uint64_t)prev->taken_extra;
    total_cycles += extra;
    functions[prev->function].cycles += extra;
    if (prev_call >= 0) calls[prev_call].cycles += extra;
  }
  if (b->marker == 2) active = 0;
  if (active) {
    uint64_t cycles = (uint64_t)b->cycles - (prev && prev->last_ls && b->first_ls ? 1 : 0) -
                      (prev && overlaps(prev->last_vector, b->first_vector) ? 1 : 0);
    if (b->kernel >= 0 && call + 1 < kMaxCalls) {
      ++call;
      if (!calls[call].name[0]) snprintf(calls[call].name, sizeof calls[0].name, "%s", kernel_name[b->kernel]);
    }
    total_cycles += cycles;
    total_instructions += (uint64_t)b->instructions;
    functions[b->function].cycles += cycles;
    functions[b->function].instructions += (uint64_t)b->instructions;
    if (call >= 0) calls[call].cycles += cycles, calls[call].instructions += (uint64_t)b->instructions;
  }
  prev_call = active ? call : -1;
  if (b->marker == 1) active = 1, call = -1, ++images;
  prev = active ? b : NULL;
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb* tb) {
  block_t* b = (block_t*)calloc(1, sizeof *b);
  size_t i, n = qemu_plugin_tb_n_insns(tb);
  (void)id;
  b->start = (uint32_t)qemu_plugin_tb_vaddr(tb);
  b->kernel = -1;
  for (i = 0; i < (size_t)kernels; ++i) {
    if (kernel_at[i] == b->start) b->kernel = (int)i;
  }
  b->marker = b->start == begin_at ? 1 : b->start == end_at ? 2 : 0;
  for (i = 0; i < n; ++i) {
    const struct qemu_plugin_insn* insn = qemu_plugin_tb_get_insn(tb, i);
    char* text = qemu_plugin_insn_disas(insn);
    cost_t c = instruction_cost(text);
    int kind = 0, vector = 0, pipelined;
    if (m55_model) vector = mve_cycles((const uint8_t*)qemu_plugin_insn_data(insn), qemu_plugin_insn_size(insn), &kind);
    if (vector) c.cycles = vector, c.single_ls = 0, c.branch = 0, c.taken_extra = 0;
    pipelined = i > 0 && ((c.single_ls && b->last_ls) || overlaps(b->last_vector, kind));
    free(text);
    if (i == 0) {
      b->first_ls = c.single_ls, b->first_vector = kind;
      b->function = function_index(qemu_plugin_insn_symbol(insn));
    }
    b->cycles += c.cycles - pipelined;
    b->last_ls = c.single_ls, b->last_vector = kind;
    b->ends_in_branch = c.branch, b->taken_extra = c.taken_extra;
    b->fallthrough = (uint32_t)(qemu_plugin_insn_vaddr(insn) + qemu_plugin_insn_size(insn));
  }
  b->instructions = (int)n;
  qemu_plugin_register_vcpu_tb_exec_cb(tb, on_block, kCbNoRegs, b);
}

static void report(qemu_plugin_id_t id, void* data) {
  int i;
  const double n = images > 0 ? images : 1;
  (void)id, (void)data;
  if (!out) return;
  fprintf(out, "images %d\ncycles %.0f\ninstructions %.0f\n", images, (double)total_cycles / n,
          (double)total_instructions / n);
  for (i = 0; i <= call && i < kMaxCalls; ++i) {
    fprintf(out, "call %d %s %.0f %.0f\n", i, calls[i].name, (double)calls[i].cycles / n,
            (double)calls[i].instructions / n);
  }
  for (i = 0; i < function_count; ++i) {
    if (functions[i].cycles) {
      fprintf(out, "function %s %.0f %.0f\n", functions[i].name, (double)functions[i].cycles / n,
              (double)functions[i].instructions / n);
    }
  }
  fclose(out);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t* info, int argc,
                                                               char** argv) {
  int i;
  (void)info;
  for (i = 0; i < argc; ++i) {
    const char* a = argv[i];
    if (starts_with(a, "out=")) out = fopen(a + 4, "w");
    if (strcmp(a, "model=m55") == 0) m55_model = 1;
    if (starts_with(a, "begin=")) begin_at = (uint32_t)strtoul(a + 6, NULL, 0);
    if (starts_with(a, "end=")) end_at = (uint32_t)strtoul(a + 4, NULL, 0);
    if (starts_with(a, "kernel=") && kernels < kMaxKernels && strchr(a, '@')) {
      snprintf(kernel_name[kernels], sizeof kernel_name[0], "%.*s", (int)(strchr(a, '@') - a - 7), a + 7);
      kernel_at[kernels++] = (uint32_t)strtoul(strchr(a, '@') + 1, NULL, 0);
    }
  }
  if (!out || !begin_at || !end_at) {
    fprintf(stderr, "m4_cycles: expected out=FILE, begin=ADDR and end=ADDR\n");
    return 1;
  }
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, report, NULL);
  return 0;
}

// The contract between the V8 GC shim (gc_shim.cc) and Rust (src/gc_record.rs, src/shim.rs).
// Plain C types only; Rust mirrors these with #[repr(C)]. Bump LW_SHIM_ABI on any change.
#pragma once
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LW_SHIM_ABI 3

// leakwatch's own GC kinds: stable numbers, mapped from V8's enum *names* in the shim,
// because V8's numbers moved between versions.
enum lw_gc_kind {
  LW_GC_SCAVENGE = 0,
  LW_GC_MINOR_MARK_SWEEP = 1,
  LW_GC_MARK_SWEEP_COMPACT = 2,
  LW_GC_INCREMENTAL_MARKING = 3,
  LW_GC_WEAK_CALLBACKS = 4,
  LW_GC_KIND_COUNT = 5
};

// One GC, written by the epilogue. Heap figures are 0 unless `has_heap` (full GCs only:
// reading heap statistics costs ~1,400 instructions, too much for every scavenge).
typedef struct lw_gc_record {
  uint64_t start_ns;     // CLOCK_MONOTONIC
  uint64_t duration_ns;
  uint64_t heap_before;  // used_heap_size before the GC
  uint64_t heap_after;   // used_heap_size after the GC
  uint64_t heap_total;   // total_heap_size after the GC
  uint32_t session;      // who installed the hooks (one per isolate)
  uint8_t kind;          // lw_gc_kind
  uint8_t has_heap;
  uint8_t forced;        // kGCCallbackFlagForced (gc(), heap snapshots, tests)
  uint8_t reserved;
} lw_gc_record;

// Called from the GC epilogue on the isolate's thread: must not block, allocate or panic.
typedef void (*lw_gc_sink)(const lw_gc_record* record);

typedef struct lw_shim_info {
  uint32_t abi;
  uint32_t node_module_version;  // NODE_MODULE_VERSION of the headers built against
  uint32_t v8_major;
  uint32_t v8_minor;
} lw_shim_info;

typedef struct lw_gc_hooks lw_gc_hooks;  // opaque: one per isolate

// What the shim was built for. The struct keeps its size in every release (new facts get new
// functions, and a new LW_SHIM_ABI), so an addon and a shim of different releases never
// write past each other's memory: the addon reads `abi` first and calls nothing else on a
// mismatch.
void lw_shim_info_get(lw_shim_info* out);
// The Node version (major, minor, patch) of the headers built against, for messages.
void lw_shim_node_version_get(uint32_t out[3]);
// The same as data (optional): read without calling into a shim that does not bind.
extern const lw_shim_info lw_shim_build_info;
extern const uint32_t lw_shim_build_node[3];

// These run on the isolate's own thread (the JS thread that calls start()/stop()).
lw_gc_hooks* lw_shim_install(lw_gc_sink sink, uint32_t session);
void lw_shim_uninstall(lw_gc_hooks* hooks);
// heap_size_limit of the calling thread's isolate (0 without one).
uint64_t lw_shim_heap_limit(void);
// A moderate memory-pressure notification to the calling thread's isolate: a full GC soon.
// Looked up as optional by the addon (a shim without it sends no hints).
void lw_shim_memory_pressure(void);

// V8's sampling heap profiler on the calling thread's isolate (all optional symbols, as above).
// One node of its profile: a function on a sampled allocation's stack, with the live bytes
// sampled while it was the innermost frame. Strings are UTF-8, valid during the visit only.
typedef struct lw_profile_node {
  uint32_t id;
  uint32_t parent;  // 0 for the root
  const char* name;
  uint32_t name_len;
  const char* script;
  uint32_t script_len;
  int32_t line;    // 1-based line of the function's start, or 0
  int32_t column;  // 1-based
  uint64_t self_bytes;  // V8's estimate of the live bytes it allocated (samples, scaled)
} lw_profile_node;
typedef void (*lw_profile_visit)(void* ctx, const lw_profile_node* node);
// One live sample: V8's time-ordered id for it (ids grow with allocation), and the bytes it
// stands for (its size times V8's scaled count).
typedef struct lw_profile_sample {
  uint64_t id;
  uint64_t bytes;
} lw_profile_sample;
typedef void (*lw_sample_visit)(void* ctx, const lw_profile_sample* sample);

// 1 if this call started the profiler, 0 if it was running already (another profiler's) or
// cannot run.
int lw_shim_sampling_start(uint64_t interval_bytes, uint32_t stack_depth);
void lw_shim_sampling_stop(void);
// Visits the live profile's nodes, parents before children, at most `max_nodes` of them, then
// its live samples. Returns the number of nodes in the profile (visited or not), or -1 without
// a profile.
int64_t lw_shim_sampling_read(lw_profile_visit visit, lw_sample_visit visit_sample, void* ctx, uint32_t max_nodes);

#ifdef __cplusplus
}
#endif

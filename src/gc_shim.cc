// V8 GC callbacks for leakwatch. Built by build.rs against the running Node's headers into a
// shared object that the addon dlopen()s. Each callback does a clock read, a few stores and,
// for full GCs only, a heap-statistics read, then hands one fixed-size record to Rust.
#include "gc_shim.h"

#include <node_version.h>
#include <time.h>
#include <v8-profiler.h>
#include <v8.h>

#include <memory>
#include <new>
#include <utility>
#include <vector>

#define LW_EXPORT extern "C" __attribute__((visibility("default")))

struct lw_gc_hooks {
  v8::Isolate* isolate;
  lw_gc_sink sink;
  uint32_t session;
  // Written by the prologue, read by the matching epilogue, one slot per kind: V8 does not
  // nest GC callbacks, but incremental-marking and full-GC pairs can interleave.
  uint64_t start_ns[LW_GC_KIND_COUNT];
  uint64_t heap_before[LW_GC_KIND_COUNT];
};

namespace {

uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Map V8's GCType by name. V8 10 inserted minor mark-compact and shifted the other bits;
// V8 12 renamed it minor mark-sweep. Unknown future kinds are ignored, not misfiled.
int kind_of(v8::GCType type) {
  switch (type) {
    case v8::kGCTypeScavenge:
      return LW_GC_SCAVENGE;
#if V8_MAJOR_VERSION >= 12
    case v8::kGCTypeMinorMarkSweep:
#else
    case v8::kGCTypeMinorMarkCompact:
#endif
      return LW_GC_MINOR_MARK_SWEEP;
    case v8::kGCTypeMarkSweepCompact:
      return LW_GC_MARK_SWEEP_COMPACT;
    case v8::kGCTypeIncrementalMarking:
      return LW_GC_INCREMENTAL_MARKING;
    case v8::kGCTypeProcessWeakCallbacks:
      return LW_GC_WEAK_CALLBACKS;
    default:
      return -1;
  }
}

uint64_t heap_used(v8::Isolate* isolate, uint64_t* total) {
  v8::HeapStatistics stats;
  isolate->GetHeapStatistics(&stats);
  if (total != nullptr) *total = stats.total_heap_size();
  return stats.used_heap_size();
}

void on_prologue(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags, void* data) {
  auto* hooks = static_cast<lw_gc_hooks*>(data);
  int kind = kind_of(type);
  if (kind < 0) return;
  if (kind == LW_GC_MARK_SWEEP_COMPACT) hooks->heap_before[kind] = heap_used(isolate, nullptr);
  hooks->start_ns[kind] = now_ns();
}

void on_epilogue(v8::Isolate* isolate, v8::GCType type, v8::GCCallbackFlags flags, void* data) {
  auto* hooks = static_cast<lw_gc_hooks*>(data);
  int kind = kind_of(type);
  if (kind < 0 || hooks->start_ns[kind] == 0) return;  // installed mid-GC: no start time
  lw_gc_record record = {};
  record.start_ns = hooks->start_ns[kind];
  record.duration_ns = now_ns() - record.start_ns;
  record.session = hooks->session;
  record.kind = static_cast<uint8_t>(kind);
  record.forced = (flags & v8::kGCCallbackFlagForced) != 0;
  if (kind == LW_GC_MARK_SWEEP_COMPACT) {
    record.has_heap = 1;
    record.heap_before = hooks->heap_before[kind];
    record.heap_after = heap_used(isolate, &record.heap_total);
  }
  hooks->start_ns[kind] = 0;
  hooks->sink(&record);
}

}  // namespace

// The same facts as data, readable without running any of the shim's code: when the shim does
// not bind here (built against another V8), the addon still reads what it was built for.
LW_EXPORT const lw_shim_info lw_shim_build_info = {LW_SHIM_ABI, NODE_MODULE_VERSION, V8_MAJOR_VERSION,
                                                   V8_MINOR_VERSION};
LW_EXPORT const uint32_t lw_shim_build_node[3] = {NODE_MAJOR_VERSION, NODE_MINOR_VERSION, NODE_PATCH_VERSION};

LW_EXPORT void lw_shim_info_get(lw_shim_info* out) {
  out->abi = LW_SHIM_ABI;
  out->node_module_version = NODE_MODULE_VERSION;
  out->v8_major = V8_MAJOR_VERSION;
  out->v8_minor = V8_MINOR_VERSION;
}

LW_EXPORT void lw_shim_node_version_get(uint32_t out[3]) {
  out[0] = NODE_MAJOR_VERSION;
  out[1] = NODE_MINOR_VERSION;
  out[2] = NODE_PATCH_VERSION;
}

LW_EXPORT lw_gc_hooks* lw_shim_install(lw_gc_sink sink, uint32_t session) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr || sink == nullptr) return nullptr;
  auto* hooks = new (std::nothrow) lw_gc_hooks();
  if (hooks == nullptr) return nullptr;
  hooks->isolate = isolate;
  hooks->sink = sink;
  hooks->session = session;
  isolate->AddGCPrologueCallback(on_prologue, hooks, v8::kGCTypeAll);
  isolate->AddGCEpilogueCallback(on_epilogue, hooks, v8::kGCTypeAll);
  return hooks;
}

LW_EXPORT uint64_t lw_shim_heap_limit(void) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return 0;
  v8::HeapStatistics stats;
  isolate->GetHeapStatistics(&stats);
  return stats.heap_size_limit();
}

// Asks the calling thread's isolate for a full GC the way an embedder under memory pressure
// does: kModerate starts incremental (mostly concurrent) marking unless it already runs; V8
// resets the level to kNone itself once it has acted on it.
LW_EXPORT void lw_shim_memory_pressure(void) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return;
  isolate->MemoryPressureNotification(v8::MemoryPressureLevel::kModerate);
}

// The sampling heap profiler keeps a sample of live allocations (about one per
// `interval_bytes` allocated) with their stacks; V8 drops a sample when its object dies.
LW_EXPORT int lw_shim_sampling_start(uint64_t interval_bytes, uint32_t stack_depth) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return 0;
  return isolate->GetHeapProfiler()->StartSamplingHeapProfiler(interval_bytes, static_cast<int>(stack_depth)) ? 1 : 0;
}

LW_EXPORT void lw_shim_sampling_stop(void) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr) return;
  isolate->GetHeapProfiler()->StopSamplingHeapProfiler();
}

LW_EXPORT int64_t lw_shim_sampling_read(lw_profile_visit visit, lw_sample_visit visit_sample, void* ctx,
                                        uint32_t max_nodes) {
  v8::Isolate* isolate = v8::Isolate::GetCurrent();
  if (isolate == nullptr || visit == nullptr || visit_sample == nullptr) return -1;
  v8::HandleScope scope(isolate);
  std::unique_ptr<v8::AllocationProfile> profile(isolate->GetHeapProfiler()->GetAllocationProfile());
  if (!profile) return -1;
  // Depth first with an explicit stack: parents are visited before their children.
  std::vector<std::pair<v8::AllocationProfile::Node*, uint32_t>> pending;
  pending.emplace_back(profile->GetRootNode(), 0);
  int64_t seen = 0;
  while (!pending.empty()) {
    auto [node, parent] = pending.back();
    pending.pop_back();
    seen++;
    for (auto* child : node->children) pending.emplace_back(child, node->node_id);
    if (static_cast<uint64_t>(seen) > max_nodes) continue;
    uint64_t bytes = 0;
    for (const auto& a : node->allocations) bytes += static_cast<uint64_t>(a.size) * a.count;
    v8::String::Utf8Value name(isolate, node->name);
    v8::String::Utf8Value script(isolate, node->script_name);
    lw_profile_node out = {};
    out.id = node->node_id;
    out.parent = parent;
    out.name = *name != nullptr ? *name : "";
    out.name_len = *name != nullptr ? static_cast<uint32_t>(name.length()) : 0;
    out.script = *script != nullptr ? *script : "";
    out.script_len = *script != nullptr ? static_cast<uint32_t>(script.length()) : 0;
    out.line = node->line_number > 0 ? node->line_number : 0;
    out.column = node->column_number > 0 ? node->column_number : 0;
    out.self_bytes = bytes;
    visit(ctx, &out);
  }
  for (const auto& sample : profile->GetSamples()) {
    lw_profile_sample out = {sample.sample_id, static_cast<uint64_t>(sample.size) * sample.count};
    visit_sample(ctx, &out);
  }
  return seen;
}

// Removes the callbacks before freeing what they use: in a worker's teardown a GC can still
// run after the env cleanup hook if something allocates late.
LW_EXPORT void lw_shim_uninstall(lw_gc_hooks* hooks) {
  if (hooks == nullptr) return;
  hooks->isolate->RemoveGCPrologueCallback(on_prologue, hooks);
  hooks->isolate->RemoveGCEpilogueCallback(on_epilogue, hooks);
  delete hooks;
}

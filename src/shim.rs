//! Loads the V8 GC shim (a shared object built beside the addon) and installs its hooks.
//!
//! The shim is compiled against one Node's headers. Before trusting it we check that it was
//! built for the running Node (NODE_MODULE_VERSION and V8 major.minor): V8's C++ ABI changes
//! between majors. Any mismatch or load failure is a reason to fall back to perf_hooks, never
//! a crash, and the reason names both Node versions.

use crate::alloc_sites::{LiveSample, ProfileNode};
use crate::gc_queue;
use crate::gc_record::GcRecord;
use libloading::os::unix::{Library, Symbol, RTLD_LAZY, RTLD_LOCAL, RTLD_NOW};
use once_cell::sync::OnceCell;
use std::ffi::c_void;

const SHIM_ABI: u32 = 3;

#[repr(C)]
#[derive(Default)]
struct ShimInfo {
    abi: u32,
    node_module_version: u32,
    v8_major: u32,
    v8_minor: u32,
}

type Sink = unsafe extern "C" fn(*const GcRecord);
type InfoFn = unsafe extern "C" fn(*mut ShimInfo);
type NodeVersionFn = unsafe extern "C" fn(*mut [u32; 3]);
type InstallFn = unsafe extern "C" fn(Sink, u32) -> *mut c_void;
type UninstallFn = unsafe extern "C" fn(*mut c_void);
type HeapLimitFn = unsafe extern "C" fn() -> u64;
type MemoryPressureFn = unsafe extern "C" fn();
type SamplingStartFn = unsafe extern "C" fn(u64, u32) -> i32;
type SamplingStopFn = unsafe extern "C" fn();
type Visit = unsafe extern "C" fn(*mut c_void, *const RawProfileNode);
type VisitSample = unsafe extern "C" fn(*mut c_void, *const LiveSample);
type SamplingReadFn = unsafe extern "C" fn(Visit, VisitSample, *mut c_void, u32) -> i64;

/// `lw_profile_node` (gc_shim.h).
#[repr(C)]
struct RawProfileNode {
    id: u32,
    parent: u32,
    name: *const u8,
    name_len: u32,
    script: *const u8,
    script_len: u32,
    line: i32,
    column: i32,
    self_bytes: u64,
}

/// The sampling heap profiler's three calls; a shim has all or none of them.
struct Sampling {
    start: Symbol<SamplingStartFn>,
    stop: Symbol<SamplingStopFn>,
    read: Symbol<SamplingReadFn>,
}

pub struct Shim {
    /// The Node whose headers it was compiled against.
    pub built_for: NodeVersions,
    install: Symbol<InstallFn>,
    uninstall: Symbol<UninstallFn>,
    heap_limit: Symbol<HeapLimitFn>,
    memory_pressure: Option<Symbol<MemoryPressureFn>>,
    sampling: Option<Sampling>,
    // Never unloaded: V8 may hold pointers into it until the isolate dies.
    _library: Library,
}

/// What the running Node is, as JS sees it (`process.versions`).
#[derive(Clone, Debug)]
pub struct RuntimeVersions {
    pub node: String,
    pub node_module_version: u32,
    pub v8: String,
}

/// A Node as the safety check compares them: the one a shim was compiled for, or the one running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeVersions {
    pub node: String,
    pub node_module_version: u32,
    /// V8 major.minor: the part of V8's version that its C++ API follows.
    pub v8: String,
}

impl NodeVersions {
    fn from_info(info: &ShimInfo, node: [u32; 3]) -> NodeVersions {
        NodeVersions {
            node: format!("{}.{}.{}", node[0], node[1], node[2]),
            node_module_version: info.node_module_version,
            v8: format!("{}.{}", info.v8_major, info.v8_minor),
        }
    }

    fn running(runtime: &RuntimeVersions) -> NodeVersions {
        NodeVersions {
            node: runtime.node.clone(),
            node_module_version: runtime.node_module_version,
            v8: runtime.v8.split('.').take(2).collect::<Vec<_>>().join("."),
        }
    }

    /// `{node, nodeModuleVersion, v8}`, as `stats().gcShim` shows it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"node": self.node, "nodeModuleVersion": self.node_module_version, "v8": self.v8})
    }

    /// `Node 20.20.2 (NODE_MODULE_VERSION 115, V8 11.3)`
    fn describe(&self) -> String {
        format!("Node {} (NODE_MODULE_VERSION {}, V8 {})", self.node, self.node_module_version, self.v8)
    }
}

/// An installed set of hooks on one isolate. Must be uninstalled on that isolate's thread.
pub struct Hooks(*mut c_void);

// The pointer is only ever used on the isolate's thread; the handle itself can move.
unsafe impl Send for Hooks {}

static SHIM: OnceCell<Result<Shim, String>> = OnceCell::new();

/// Loads the shim once per process. Errors are kept so every isolate gets the same reason.
pub fn load(path: &str, runtime: &RuntimeVersions) -> Result<&'static Shim, String> {
    SHIM.get_or_init(|| open(path, runtime)).as_ref().map_err(Clone::clone)
}

/// The shim, if an earlier `load` succeeded.
pub fn loaded() -> Option<&'static Shim> {
    SHIM.get().and_then(|r| r.as_ref().ok())
}

fn open(path: &str, runtime: &RuntimeVersions) -> Result<Shim, String> {
    if !std::path::Path::new(path).is_file() {
        return Err(missing(path, runtime));
    }
    // RTLD_NOW: a V8 symbol that this Node lacks fails here, cleanly, not at the first GC.
    let library = match unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) } {
        Ok(library) => library,
        Err(e) => return Err(built_for_another(path, runtime).unwrap_or_else(|| not_loadable(&e, runtime))),
    };
    let info_fn: Symbol<InfoFn> = unsafe { library.get(b"lw_shim_info_get\0") }.map_err(|e| e.to_string())?;
    let mut info = ShimInfo::default();
    unsafe { info_fn(&mut info) };
    if info.abi != SHIM_ABI {
        return Err(format!(
            "the V8 GC shim has ABI {}, expected {SHIM_ABI}; rebuild leakwatch (`npx leakwatch build`)",
            info.abi
        ));
    }
    let node_version_fn: Symbol<NodeVersionFn> =
        unsafe { library.get(b"lw_shim_node_version_get\0") }.map_err(|e| e.to_string())?;
    let mut node = [0u32; 3];
    unsafe { node_version_fn(&mut node) };
    let built_for = NodeVersions::from_info(&info, node);
    check_versions(&built_for, runtime)?;
    let install = unsafe { library.get(b"lw_shim_install\0") }.map_err(|e| e.to_string())?;
    let uninstall = unsafe { library.get(b"lw_shim_uninstall\0") }.map_err(|e| e.to_string())?;
    let heap_limit = unsafe { library.get(b"lw_shim_heap_limit\0") }.map_err(|e| e.to_string())?;
    let memory_pressure = unsafe { library.get(b"lw_shim_memory_pressure\0") }.ok();
    let sampling = (|| {
        Some(Sampling {
            start: unsafe { library.get(b"lw_shim_sampling_start\0") }.ok()?,
            stop: unsafe { library.get(b"lw_shim_sampling_stop\0") }.ok()?,
            read: unsafe { library.get(b"lw_shim_sampling_read\0") }.ok()?,
        })
    })();
    Ok(Shim { built_for, install, uninstall, heap_limit, memory_pressure, sampling, _library: library })
}

/// When a shim does not bind here, why: if its data says it was built for another Node, the
/// reason names both. Read lazily and as data only: nothing of the shim's code runs (a lazily
/// bound call to a missing V8 function would end the process).
fn built_for_another(path: &str, runtime: &RuntimeVersions) -> Option<String> {
    let probe = unsafe { Library::open(Some(path), RTLD_LAZY | RTLD_LOCAL) }.ok()?;
    let info: Symbol<*const ShimInfo> = unsafe { probe.get(b"lw_shim_build_info\0") }.ok()?;
    let node: Symbol<*const [u32; 3]> = unsafe { probe.get(b"lw_shim_build_node\0") }.ok()?;
    let (info, node) = unsafe { (info.as_ref()?, *node.as_ref()?) };
    if info.abi != SHIM_ABI {
        return None;
    }
    check_versions(&NodeVersions::from_info(info, node), runtime).err()
}

fn not_loadable(e: &libloading::Error, runtime: &RuntimeVersions) -> String {
    format!(
        "the V8 GC shim does not load in {}: {e}; build leakwatch under this Node \
         (`npx leakwatch build`) for V8 GC callbacks",
        NodeVersions::running(runtime).describe()
    )
}

/// Why there is no shim at `path`: the usual case is a Node newer than the prebuilt shims, so
/// the reason says which Nodes the folder has shims for and how to build one for this Node.
fn missing(path: &str, runtime: &RuntimeVersions) -> String {
    let path = std::path::Path::new(path);
    let mut abis: Vec<u32> = std::fs::read_dir(path.parent().unwrap_or(path))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| shim_abi(&entry.file_name().to_string_lossy()))
        .collect();
    abis.sort_unstable();
    let built = match &abis[..] {
        [] => "there are none in that folder".to_string(),
        abis => format!(
            "shims there are for NODE_MODULE_VERSION {}",
            abis.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
        ),
    };
    format!(
        "no V8 GC shim for {} ({} is missing; {built}); build one under this Node with `npx leakwatch build` \
         (needs Rust's cargo and a C++ compiler) for V8 GC callbacks",
        NodeVersions::running(runtime).describe(),
        path.display()
    )
}

/// `leakwatch_gc_shim.abi115.so` → 115 (build.rs names the shims so).
fn shim_abi(file_name: &str) -> Option<u32> {
    file_name.strip_prefix("leakwatch_gc_shim.abi")?.strip_suffix(".so")?.parse().ok()
}

/// The shim's V8 C++ calls are only safe under the V8 it was compiled for.
fn check_versions(built: &NodeVersions, runtime: &RuntimeVersions) -> Result<(), String> {
    let running = NodeVersions::running(runtime);
    if built.node_module_version != running.node_module_version || built.v8 != running.v8 {
        return Err(format!(
            "the V8 GC shim was built for {} but this is {}; build leakwatch under this Node \
             (`npx leakwatch build`) for V8 GC callbacks",
            built.describe(),
            running.describe()
        ));
    }
    Ok(())
}

impl Shim {
    /// Installs GC callbacks on the calling thread's isolate. Call on the JS thread.
    pub fn install(&self, session: u32) -> Option<Hooks> {
        gc_queue::init();
        let ptr = unsafe { (self.install)(gc_queue::push_from_shim, session) };
        (!ptr.is_null()).then_some(Hooks(ptr))
    }

    /// The calling thread's isolate's heap size limit. Call on a JS thread.
    pub fn heap_limit(&self) -> u64 {
        unsafe { (self.heap_limit)() }
    }

    /// Sends the calling thread's isolate a moderate memory-pressure notification (a full GC
    /// soon); false if this shim cannot. Call on a JS thread.
    pub fn memory_pressure(&self) -> bool {
        match &self.memory_pressure {
            Some(f) => {
                unsafe { f() };
                true
            }
            None => false,
        }
    }

    /// Whether this shim has the sampling heap profiler's calls.
    pub fn can_sample(&self) -> bool {
        self.sampling.is_some()
    }

    /// Starts V8's sampling heap profiler on the calling thread's isolate; false if it ran
    /// already (another profiler owns it) or this shim cannot. Call on a JS thread.
    pub fn start_sampling(&self, interval_bytes: u64, stack_depth: u32) -> bool {
        self.sampling.as_ref().is_some_and(|s| unsafe { (s.start)(interval_bytes, stack_depth) } == 1)
    }

    /// Stops the profiler this session started. Call on the isolate's thread.
    pub fn stop_sampling(&self) {
        if let Some(s) = &self.sampling {
            unsafe { (s.stop)() };
        }
    }

    /// The live profile: its nodes (parents first, at most `max_nodes`) and its samples; None
    /// without a running profiler. Call on the isolate's thread.
    pub fn read_sampling(&self, max_nodes: u32) -> Option<SamplingRead> {
        let s = self.sampling.as_ref()?;
        let mut read = SamplingRead::default();
        let ctx = (&mut read as *mut SamplingRead).cast();
        let total = unsafe { (s.read)(collect_node, collect_sample, ctx, max_nodes) };
        (total >= 0).then_some(read)
    }

    /// Removes the callbacks. Call on the same isolate's thread.
    pub fn uninstall(&self, hooks: Hooks) {
        unsafe { (self.uninstall)(hooks.0) };
    }
}

/// One read of the sampling heap profile.
#[derive(Default)]
pub struct SamplingRead {
    pub nodes: Vec<ProfileNode>,
    pub samples: Vec<LiveSample>,
}

/// The shim's visitor: copies one node out (its strings live only during the call). A panic
/// must not unwind into C++: it is caught and the node dropped.
unsafe extern "C" fn collect_node(ctx: *mut c_void, raw: *const RawProfileNode) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (Some(read), Some(raw)) = (unsafe { ctx.cast::<SamplingRead>().as_mut() }, unsafe { raw.as_ref() }) else {
            return;
        };
        let nodes = &mut read.nodes;
        let text = |ptr: *const u8, len: u32| {
            if ptr.is_null() || len == 0 {
                return String::new();
            }
            String::from_utf8_lossy(unsafe { std::slice::from_raw_parts(ptr, len as usize) }).into_owned()
        };
        nodes.push(ProfileNode {
            id: raw.id,
            parent: raw.parent,
            name: text(raw.name, raw.name_len),
            script: text(raw.script, raw.script_len),
            line: raw.line,
            column: raw.column,
            self_bytes: raw.self_bytes,
        });
    }));
}

/// The shim's visitor for samples (plain data, copied).
unsafe extern "C" fn collect_sample(ctx: *mut c_void, raw: *const LiveSample) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        if let (Some(read), Some(raw)) = (unsafe { ctx.cast::<SamplingRead>().as_mut() }, unsafe { raw.as_ref() }) {
            read.samples.push(*raw);
        }
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node20() -> NodeVersions {
        let info = ShimInfo { abi: SHIM_ABI, node_module_version: 115, v8_major: 11, v8_minor: 3 };
        NodeVersions::from_info(&info, [20, 20, 2])
    }

    fn runtime(node: &str, nmv: u32, v8: &str) -> RuntimeVersions {
        RuntimeVersions { node: node.into(), node_module_version: nmv, v8: v8.into() }
    }

    #[test]
    fn matching_versions_pass() {
        // Another patch release of the same major: same NODE_MODULE_VERSION, same V8 major.minor.
        assert!(check_versions(&node20(), &runtime("20.11.1", 115, "11.3.244.8-node.17")).is_ok());
    }

    #[test]
    fn a_different_node_is_refused_with_a_reason_naming_both() {
        let err = check_versions(&node20(), &runtime("24.21.0", 137, "13.6.233.17-node.53")).unwrap_err();
        assert_eq!(
            err,
            "the V8 GC shim was built for Node 20.20.2 (NODE_MODULE_VERSION 115, V8 11.3) but this is \
             Node 24.21.0 (NODE_MODULE_VERSION 137, V8 13.6); build leakwatch under this Node \
             (`npx leakwatch build`) for V8 GC callbacks"
        );
    }

    #[test]
    fn another_v8_under_the_same_module_version_is_refused() {
        let err = check_versions(&node20(), &runtime("20.99.0", 115, "11.4.1")).unwrap_err();
        assert!(err.contains("V8 11.3") && err.contains("V8 11.4"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_crash() {
        let rt = runtime("20.20.2", 115, "11.3");
        let err = open("/nonexistent/shim.so", &rt).err().expect("an error");
        assert!(err.contains("missing") && err.contains("there are none"), "{err}");
    }

    #[test]
    fn a_missing_shim_names_the_nodes_the_folder_has_shims_for() {
        let dir = std::env::temp_dir().join(format!("leakwatch-shim-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for name in ["leakwatch_gc_shim.abi137.so", "leakwatch_gc_shim.abi115.so", "leakwatch.linux-x64-gnu.node"] {
            std::fs::write(dir.join(name), b"").unwrap();
        }
        let path = dir.join("leakwatch_gc_shim.abi141.so");
        let err = open(path.to_str().unwrap(), &runtime("25.2.0", 141, "14.1.146.11-node.14")).err().expect("an error");
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.starts_with("no V8 GC shim for Node 25.2.0 (NODE_MODULE_VERSION 141, V8 14.1)"), "{err}");
        assert!(err.contains("shims there are for NODE_MODULE_VERSION 115, 137"), "{err}");
        assert!(err.contains("npx leakwatch build"), "{err}");
    }
}

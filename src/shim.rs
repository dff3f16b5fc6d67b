//! Loads the V8 GC shim (a shared object built beside the addon) and installs its hooks.
//!
//! The shim is compiled against one Node's headers. Before trusting it we check that it was
//! built for the running Node (NODE_MODULE_VERSION and V8 major.minor): V8's C++ ABI changes
//! between majors. Any mismatch or load failure is a reason to fall back to perf_hooks, never
//! a crash.

use crate::gc_queue;
use crate::gc_record::GcRecord;
use libloading::os::unix::{Library, Symbol, RTLD_LOCAL, RTLD_NOW};
use once_cell::sync::OnceCell;
use std::ffi::c_void;

const SHIM_ABI: u32 = 1;

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
type InstallFn = unsafe extern "C" fn(Sink, u32) -> *mut c_void;
type UninstallFn = unsafe extern "C" fn(*mut c_void);
type HeapLimitFn = unsafe extern "C" fn() -> u64;

pub struct Shim {
    install: Symbol<InstallFn>,
    uninstall: Symbol<UninstallFn>,
    heap_limit: Symbol<HeapLimitFn>,
    // Never unloaded: V8 may hold pointers into it until the isolate dies.
    _library: Library,
}

/// What the running Node is, as JS sees it (`process.versions`).
#[derive(Clone, Debug)]
pub struct RuntimeVersions {
    pub node_module_version: u32,
    pub v8: String,
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
        return Err(format!("the V8 GC shim was not built ({path} is missing)"));
    }
    // RTLD_NOW: a V8 symbol that this Node lacks fails here, cleanly, not at the first GC.
    let library = unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }
        .map_err(|e| format!("the V8 GC shim does not load in this Node: {e}"))?;
    let info_fn: Symbol<InfoFn> = unsafe { library.get(b"lw_shim_info_get\0") }.map_err(|e| e.to_string())?;
    let mut info = ShimInfo::default();
    unsafe { info_fn(&mut info) };
    check_versions(&info, runtime)?;
    let install = unsafe { library.get(b"lw_shim_install\0") }.map_err(|e| e.to_string())?;
    let uninstall = unsafe { library.get(b"lw_shim_uninstall\0") }.map_err(|e| e.to_string())?;
    let heap_limit = unsafe { library.get(b"lw_shim_heap_limit\0") }.map_err(|e| e.to_string())?;
    Ok(Shim { install, uninstall, heap_limit, _library: library })
}

fn check_versions(info: &ShimInfo, runtime: &RuntimeVersions) -> Result<(), String> {
    if info.abi != SHIM_ABI {
        return Err(format!("the V8 GC shim has ABI {}, expected {SHIM_ABI}", info.abi));
    }
    let built_v8 = format!("{}.{}", info.v8_major, info.v8_minor);
    let running_v8: String = runtime.v8.split('.').take(2).collect::<Vec<_>>().join(".");
    if info.node_module_version != runtime.node_module_version || built_v8 != running_v8 {
        return Err(format!(
            "the V8 GC shim was built for NODE_MODULE_VERSION {} (V8 {built_v8}) but this Node is {} (V8 {running_v8}); \
             rebuild leakwatch (npm rebuild leakwatch) for V8 GC callbacks",
            info.node_module_version, runtime.node_module_version
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

    /// Removes the callbacks. Call on the same isolate's thread.
    pub fn uninstall(&self, hooks: Hooks) {
        unsafe { (self.uninstall)(hooks.0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(nmv: u32, major: u32, minor: u32) -> ShimInfo {
        ShimInfo { abi: SHIM_ABI, node_module_version: nmv, v8_major: major, v8_minor: minor }
    }

    #[test]
    fn matching_versions_pass() {
        let rt = RuntimeVersions { node_module_version: 115, v8: "11.3.244.8-node.33".into() };
        assert!(check_versions(&info(115, 11, 3), &rt).is_ok());
    }

    #[test]
    fn a_different_node_is_refused_with_a_reason() {
        let rt = RuntimeVersions { node_module_version: 127, v8: "12.4.254.21-node.33".into() };
        let err = check_versions(&info(115, 11, 3), &rt).unwrap_err();
        assert!(err.contains("115") && err.contains("127") && err.contains("rebuild"), "{err}");
    }

    #[test]
    fn a_missing_file_is_an_error_not_a_crash() {
        let rt = RuntimeVersions { node_module_version: 115, v8: "11.3".into() };
        let err = open("/nonexistent/shim.so", &rt).err().expect("an error");
        assert!(err.contains("missing"), "{err}");
    }
}

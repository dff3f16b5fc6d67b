//! Builds two things:
//! 1. the napi glue (`napi_build::setup`) for the Rust addon itself;
//! 2. the V8 GC shim, a small C++ shared object compiled against the headers of the Node
//!    that runs the build. It is a separate file that the addon `dlopen`s at run time, so a
//!    shim that does not match the running Node (missing V8 symbols under BIND_NOW) fails
//!    alone and leakwatch falls back to perf_hooks, instead of the whole addon failing to load.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const SHIM_SOURCE: &str = "src/gc_shim.cc";
const SHIM_FILE: &str = "leakwatch_gc_shim.so";

fn main() {
    // Every path must print these, or cargo silently reuses a stale shim.
    for var in ["LEAKWATCH_NODE_INCLUDE", "LEAKWATCH_NO_SHIM", "npm_config_nodedir", "NODE"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed={SHIM_SOURCE}");
    println!("cargo:rerun-if-changed=src/gc_shim.h");
    println!("cargo:rerun-if-changed=build.rs");
    // Rebuild the shim when it was deleted (a clean `native/`), not only when its source changed.
    println!("cargo:rerun-if-changed=native/{SHIM_FILE}");

    if env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }

    let out = shim_output_path();
    // A stale shim from another Node must never be picked up by mistake.
    let _ = std::fs::remove_file(&out);
    if env::var_os("LEAKWATCH_NO_SHIM").is_some() {
        println!("cargo:warning=LEAKWATCH_NO_SHIM set: building without the V8 GC shim (perf_hooks fallback)");
        return;
    }
    match find_node_include() {
        Some(include) => build_shim(&include, &out),
        None => println!(
            "cargo:warning=Node headers not found (set LEAKWATCH_NODE_INCLUDE to the folder holding v8.h): \
             leakwatch will use perf_hooks for GC events"
        ),
    }
}

/// The shim sits in `native/`, beside the addon that `napi build --output-dir native` writes,
/// so the package finds it wherever cargo's target dir is.
fn shim_output_path() -> PathBuf {
    let dir = Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("native");
    let _ = std::fs::create_dir_all(&dir);
    dir.join(SHIM_FILE)
}

/// Headers of the Node that runs the build: an explicit override, npm's `nodedir`, or
/// `<execPath>/../include/node` of the `node` on PATH.
fn find_node_include() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(dir) = env::var_os("LEAKWATCH_NODE_INCLUDE") {
        candidates.push(PathBuf::from(dir));
    }
    if let Some(dir) = env::var_os("npm_config_nodedir") {
        candidates.push(PathBuf::from(dir).join("include/node"));
    }
    let node = env::var("NODE").unwrap_or_else(|_| "node".into());
    if let Ok(out) = Command::new(node).args(["-p", "process.execPath"]).output() {
        let exec = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if let Some(prefix) = exec.parent().and_then(Path::parent) {
            candidates.push(prefix.join("include/node"));
        }
    }
    candidates.into_iter().find(|dir| dir.join("v8.h").is_file())
}

fn build_shim(include: &Path, out: &Path) {
    // cc compiles with the right flags for the target; we then link the object ourselves as a
    // shared object, leaving V8's symbols undefined to be resolved against the node binary.
    let objects = match cc::Build::new()
        .cpp(true)
        .file(SHIM_SOURCE)
        .include(include)
        // C++20: Node 24's V8 headers require it; older headers accept it.
        .flag("-std=c++20")
        .flag("-fvisibility=hidden")
        .flag("-fno-exceptions")
        .flag("-fno-rtti")
        .flag("-Wall")
        .pic(true)
        .warnings(false)
        .cargo_metadata(false)
        .try_compile_intermediates()
    {
        Ok(objects) => objects,
        Err(e) => {
            println!("cargo:warning=compiling the V8 GC shim failed ({e}): perf_hooks fallback");
            return;
        }
    };
    let compiler = cc::Build::new().cpp(true).get_compiler();
    let status = compiler.to_command().args(["-shared", "-o"]).arg(out).args(&objects).status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            let _ = std::fs::remove_file(out);
            println!("cargo:warning=linking the V8 GC shim failed ({other:?}): perf_hooks fallback");
        }
    }
}

//! Builds two things:
//! 1. the napi glue (`napi_build::setup`) for the Rust addon itself;
//! 2. the V8 GC shim, a small C++ shared object compiled against one Node's headers: by default
//!    those of the Node that runs the build, or one shim per folder listed in
//!    `LEAKWATCH_NODE_INCLUDE` (the prebuilt package carries one per supported Node ABI). It is
//!    a separate file, `leakwatch_gc_shim.abi<NODE_MODULE_VERSION>.so`, that the addon
//!    `dlopen`s at run time, so a shim that does not match the running Node (missing V8 symbols
//!    under BIND_NOW) fails alone and leakwatch falls back to perf_hooks, instead of the whole
//!    addon failing to load.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const SHIM_SOURCE: &str = "src/gc_shim.cc";
/// `leakwatch_gc_shim.abi<N>.so`: js/platform.js builds the same name to find the shim.
const SHIM_PREFIX: &str = "leakwatch_gc_shim.abi";

fn main() {
    // Every path must print these, or cargo silently reuses a stale shim.
    for var in ["LEAKWATCH_NODE_INCLUDE", "LEAKWATCH_NO_SHIM", "LEAKWATCH_NATIVE_DIR", "npm_config_nodedir", "NODE"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed={SHIM_SOURCE}");
    println!("cargo:rerun-if-changed=src/gc_shim.h");
    println!("cargo:rerun-if-changed=build.rs");
    // `cargo test` builds the logic without Node: no addon, so no shim either (and native/'s
    // shims, perhaps built for several Nodes, stay as they are).
    if env::var_os("CARGO_FEATURE_NODE").is_none() {
        return;
    }
    napi_build::setup();

    let dir = shim_output_dir();
    // A stale shim (older source, another Node) must never be picked up by mistake.
    remove_old_shims(&dir);
    if env::var_os("LEAKWATCH_NO_SHIM").is_some() {
        println!("cargo:warning=LEAKWATCH_NO_SHIM set: building without the V8 GC shim (perf_hooks fallback)");
        return;
    }
    let includes = node_includes();
    if includes.is_empty() {
        println!(
            "cargo:warning=Node headers not found (set LEAKWATCH_NODE_INCLUDE to the folder holding v8.h): \
             leakwatch will use perf_hooks for GC events"
        );
    }
    for include in includes {
        match header_abi(&include) {
            Some((modules, _)) => {
                let out = dir.join(format!("{SHIM_PREFIX}{modules}.so"));
                build_shim(&include, &out);
                // Rebuild when a shim was deleted (a clean `native/`), not only when its source changed.
                println!("cargo:rerun-if-changed={}", out.display());
            }
            None => println!("cargo:warning=no NODE_MODULE_VERSION in {}: no shim built from it", include.display()),
        }
    }
}

/// The shims sit in `native/`, beside the addon that `napi build --output-dir native` writes,
/// so the package finds them wherever cargo's target dir is. `LEAKWATCH_NATIVE_DIR` builds into
/// another folder (`npx leakwatch build`, the tests), which leakwatch then loads from the same
/// variable.
fn shim_output_dir() -> PathBuf {
    let dir = match env::var_os("LEAKWATCH_NATIVE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("native"),
    };
    let _ = std::fs::create_dir_all(&dir);
    dir
}

fn remove_old_shims(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("leakwatch_gc_shim") && name.ends_with(".so") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// The header folders to build shims from: every folder listed in `LEAKWATCH_NODE_INCLUDE`
/// (separated as PATH is), taken as given, or else the running Node's.
fn node_includes() -> Vec<PathBuf> {
    match env::var_os("LEAKWATCH_NODE_INCLUDE") {
        Some(list) => env::split_paths(&list)
            .filter(|dir| {
                let found = dir.join("v8.h").is_file();
                if !found {
                    println!("cargo:warning=LEAKWATCH_NODE_INCLUDE: no v8.h in {}", dir.display());
                }
                found
            })
            .collect(),
        None => find_node_include().into_iter().collect(),
    }
}

/// Headers of the Node that runs the build (`NODE`, as npm sets it, or the `node` on PATH):
/// npm's `nodedir` and
/// `<execPath>/../include/node` are candidates, and the one whose NODE_MODULE_VERSION and V8
/// version match the running Node wins: a `nodedir` from a global npm config can name another
/// Node than the one doing the install, and a shim built from it would only be refused later.
fn find_node_include() -> Option<PathBuf> {
    let running = running_node();
    let mut candidates = Vec::new();
    if let Some(dir) = env::var_os("npm_config_nodedir") {
        candidates.push(PathBuf::from(dir).join("include/node"));
    }
    if let Some(prefix) = running.as_ref().and_then(|r| r.exec_path.parent()?.parent()) {
        candidates.push(prefix.join("include/node"));
    }
    candidates.retain(|dir| dir.join("v8.h").is_file());
    let Some(running) = running else { return candidates.into_iter().next() };
    if let Some(dir) = candidates.iter().find(|dir| header_abi(dir).as_ref() == Some(&running.abi)) {
        return Some(dir.clone());
    }
    let first = candidates.into_iter().next()?;
    println!(
        "cargo:warning=the Node headers in {} are not those of the Node running this build \
         (NODE_MODULE_VERSION {}, V8 {}): that Node will refuse the shim and use perf_hooks",
        first.display(),
        running.abi.0,
        running.abi.1
    );
    Some(first)
}

/// What the shim's safety check compares: NODE_MODULE_VERSION and V8 `major.minor`.
type Abi = (String, String);

struct RunningNode {
    exec_path: PathBuf,
    abi: Abi,
}

fn running_node() -> Option<RunningNode> {
    let node = env::var("NODE").unwrap_or_else(|_| "node".into());
    let script =
        "console.log(process.execPath); console.log(process.versions.modules); console.log(process.versions.v8)";
    let out = Command::new(node).args(["-e", script]).output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let mut lines = text.lines();
    let exec_path = PathBuf::from(lines.next()?);
    let modules = lines.next()?.to_string();
    let v8 = lines.next()?.split('.').take(2).collect::<Vec<_>>().join(".");
    Some(RunningNode { exec_path, abi: (modules, v8) })
}

/// NODE_MODULE_VERSION and V8 `major.minor` as the headers in `dir` define them.
fn header_abi(dir: &Path) -> Option<Abi> {
    let node_version = std::fs::read_to_string(dir.join("node_version.h")).ok()?;
    let v8_version = std::fs::read_to_string(dir.join("v8-version.h")).ok()?;
    let modules = define(&node_version, "NODE_MODULE_VERSION")?;
    let v8 = format!("{}.{}", define(&v8_version, "V8_MAJOR_VERSION")?, define(&v8_version, "V8_MINOR_VERSION")?);
    Some((modules, v8))
}

/// The number in `#define NAME number` in a header's text (node_version.h also defines
/// NODE_MODULE_VERSION as an embedder's override first, which is skipped).
fn define(text: &str, name: &str) -> Option<String> {
    text.lines().find_map(|line| match line.split_whitespace().collect::<Vec<_>>()[..] {
        ["#define", n, value] if n == name && value.bytes().all(|b| b.is_ascii_digit()) => Some(value.to_string()),
        _ => None,
    })
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
    let mut link = compiler.to_command();
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("macos") {
        // macOS links shared objects with every symbol resolved unless told otherwise.
        link.args(["-undefined", "dynamic_lookup"]);
    }
    let status = link.args(["-shared", "-o"]).arg(out).args(&objects).status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            let _ = std::fs::remove_file(out);
            println!("cargo:warning=linking the V8 GC shim failed ({other:?}): perf_hooks fallback");
        }
    }
}

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
    for var in ["LEAKWATCH_NODE_INCLUDE", "LEAKWATCH_NO_SHIM", "LEAKWATCH_NATIVE_DIR", "npm_config_nodedir", "NODE"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed={SHIM_SOURCE}");
    println!("cargo:rerun-if-changed=src/gc_shim.h");
    println!("cargo:rerun-if-changed=build.rs");
    let out = shim_output_path();
    // Rebuild the shim when it was deleted (a clean `native/`), not only when its source changed.
    println!("cargo:rerun-if-changed={}", out.display());

    if env::var_os("CARGO_FEATURE_NODE").is_some() {
        napi_build::setup();
    }

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
/// so the package finds it wherever cargo's target dir is. `LEAKWATCH_NATIVE_DIR` builds into
/// another folder (the per-Node test builds), which leakwatch then loads from the same variable.
fn shim_output_path() -> PathBuf {
    let dir = match env::var_os("LEAKWATCH_NATIVE_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(&env::var("CARGO_MANIFEST_DIR").unwrap()).join("native"),
    };
    let _ = std::fs::create_dir_all(&dir);
    dir.join(SHIM_FILE)
}

/// Headers of the Node that runs the build (`NODE`, as npm sets it, or the `node` on PATH).
/// `LEAKWATCH_NODE_INCLUDE` is taken as given. Otherwise npm's `nodedir` and
/// `<execPath>/../include/node` are candidates, and the one whose NODE_MODULE_VERSION and V8
/// version match the running Node wins: a `nodedir` from a global npm config can name another
/// Node than the one doing the install, and a shim built from it would only be refused later.
fn find_node_include() -> Option<PathBuf> {
    if let Some(dir) = env::var_os("LEAKWATCH_NODE_INCLUDE") {
        return Some(PathBuf::from(dir)).filter(|dir| dir.join("v8.h").is_file());
    }
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
    let status = compiler.to_command().args(["-shared", "-o"]).arg(out).args(&objects).status();
    match status {
        Ok(s) if s.success() => {}
        other => {
            let _ = std::fs::remove_file(out);
            println!("cargo:warning=linking the V8 GC shim failed ({other:?}): perf_hooks fallback");
        }
    }
}

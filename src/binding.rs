//! The napi surface: with weak_markers.rs, the only file that knows about Node-API. Called from
//! js/native.js a handful of times per session (start/stop, once-a-second samples, stats),
//! never per event.

use crate::alloc_sites::{self, AllocSites, SiteBytes};
use crate::collector::{self, lock, EventSink, SharedRef};
use crate::config::{Config, ConfigInput};
use crate::gc_record::GcKind;
use crate::gc_stats::GcEvent;
use crate::session::{JsSample, Shared};
use crate::shim::{self, Hooks, RuntimeVersions};
use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{CleanupEnvHook, Env, Status};
use napi_derive::napi;
use serde_json::{json, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

/// Weak: a pending event never keeps the process alive. Bounded: a busy JS thread drops
/// events instead of letting them pile up.
type EventFn = ThreadsafeFunction<String, (), String, Status, false, true, 256>;

struct JsEvents(EventFn);

impl EventSink for JsEvents {
    fn send(&self, payload: String) -> bool {
        self.0.call(payload, ThreadsafeFunctionCallMode::NonBlocking) == Status::Ok
    }
}

/// What a session keeps on its own JS thread: hooks must be removed on the isolate's thread.
struct Native {
    shared: SharedRef,
    hooks: Option<Hooks>,
    cleanup: Option<CleanupEnvHook<u32>>,
    /// This session started V8's sampling heap profiler (and so stops it).
    sampling: bool,
}

thread_local! {
    static SESSIONS: RefCell<HashMap<u32, Native>> = RefCell::new(HashMap::new());
}

static NEXT_ID: AtomicU32 = AtomicU32::new(1);
/// An automatic fall back to perf_hooks is announced once per process, not per isolate or start.
static FALLBACK_ANNOUNCED: AtomicBool = AtomicBool::new(false);

fn err(message: impl Into<String>) -> Error {
    Error::new(Status::InvalidArg, message.into())
}

/// What `start` is handed: the session's settings, and what finds and checks the V8 shim.
#[napi(object)]
pub struct StartConfig {
    pub session: ConfigInput,
    /// `auto`, `v8` or `perf_hooks`.
    pub gc_source: String,
    pub shim_path: String,
    /// leakwatch's own js/ folder: its allocations are not the app's growth.
    pub own_scripts: String,
    pub node_version: String,
    pub node_module_version: u32,
    pub v8_version: String,
}

/// What `start` returns. `announce_fallback` is true the first time in the process that the
/// shim could not be used though nobody asked for perf_hooks.
#[napi(object)]
pub struct Started {
    pub id: u32,
    pub gc_source: String,
    pub gc_fallback_reason: Option<String>,
    pub announce_fallback: bool,
}

/// Starts a session on the calling isolate.
#[napi(catch_unwind)]
pub fn start(env: Env, start: StartConfig, on_event: Function<String, ()>) -> Result<Started> {
    let config = Config::from_input(&start.session).map_err(err)?;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    let (hooks, fallback) = install_hooks(&start, id)?;
    let gc_source = if hooks.is_some() { "v8" } else { "perf_hooks" };
    let automatic_fallback = hooks.is_none() && start.gc_source != "perf_hooks";
    let announce = automatic_fallback && !FALLBACK_ANNOUNCED.swap(true, Ordering::Relaxed);
    let sampling = config.heap_profile && hooks.is_some() && start_sampling(config.heap_profile_interval);
    let mut session = Shared::new(config, gc_source, fallback.clone());
    session.gc_shim = hooks.as_ref().and(shim::loaded()).map(|s| s.built_for.to_json());
    session.heap_profile = heap_profile_state(&session, hooks.is_some(), sampling);
    if sampling {
        let interval = session.config.heap_profile_interval;
        session.alloc_sites = Some(AllocSites::new(interval, &start.own_scripts, &session.config.trend));
    }
    let shared = Arc::new(Mutex::new(session));
    let events = on_event
        .build_threadsafe_function::<String>()
        .callee_handled::<false>()
        .weak::<true>()
        .max_queue_size::<256>()
        .build()?;
    if let Err(e) = collector::add(id, shared.clone(), Box::new(JsEvents(events))) {
        uninstall(hooks, sampling);
        return Err(err(e));
    }
    let cleanup = env.add_env_cleanup_hook(id, on_env_cleanup).ok();
    SESSIONS.with(|s| s.borrow_mut().insert(id, Native { shared, hooks, cleanup, sampling }));
    Ok(Started { id, gc_source: gc_source.into(), gc_fallback_reason: fallback, announce_fallback: announce })
}

/// The shim's hooks, or the reason there are none. Only an explicit `gcSource: "v8"` that
/// cannot be honoured is an error.
fn install_hooks(start: &StartConfig, id: u32) -> Result<(Option<Hooks>, Option<String>)> {
    let wanted = start.gc_source.as_str();
    if wanted == "perf_hooks" {
        return Ok((None, Some("perf_hooks was requested (gcSource option)".into())));
    }
    let runtime = RuntimeVersions {
        node: start.node_version.clone(),
        node_module_version: start.node_module_version,
        v8: start.v8_version.clone(),
    };
    let outcome = shim::load(&start.shim_path, &runtime)
        .and_then(|shim| shim.install(id).ok_or_else(|| "the V8 GC shim found no isolate".to_string()));
    match outcome {
        Ok(hooks) => Ok((Some(hooks), None)),
        Err(reason) if wanted == "v8" => Err(err(format!("gcSource \"v8\" is unavailable: {reason}"))),
        Err(reason) => Ok((None, Some(reason))),
    }
}

/// Starts V8's sampling heap profiler on this isolate, unless something else runs it.
fn start_sampling(interval_bytes: u64) -> bool {
    shim::loaded().is_some_and(|shim| shim.start_sampling(interval_bytes, alloc_sites::STACK_DEPTH))
}

/// `stats().heapProfile.state`: why a session has allocation sites or not.
fn heap_profile_state(session: &Shared, hooks: bool, sampling: bool) -> &'static str {
    match (session.config.heap_profile, hooks, sampling) {
        (false, _, _) => "off",
        (true, false, _) => "unavailable",
        (true, true, true) => "on",
        (true, true, false) if shim::loaded().is_some_and(|s| s.can_sample()) => "in use by another profiler",
        _ => "unavailable",
    }
}

fn uninstall(hooks: Option<Hooks>, sampling: bool) {
    // Hooks exist only if the shim loaded.
    if let (Some(hooks), Some(shim)) = (hooks, shim::loaded()) {
        shim.uninstall(hooks);
        if sampling {
            shim.stop_sampling();
        }
    }
}

/// The env is going away (a worker ends, or the main thread after 'exit'): remove the GC
/// callbacks first, then end the session without waiting on anything.
fn on_env_cleanup(id: u32) {
    let _ = std::panic::catch_unwind(|| {
        if let Some(native) = SESSIONS.with(|s| s.borrow_mut().remove(&id)) {
            uninstall(native.hooks, native.sampling);
            collector::stop(id, false, true);
        }
    });
}

/// Ends a session: hooks removed and, with `write_final`, a final line written and returned.
#[napi(catch_unwind)]
pub fn stop(env: Env, id: u32, sample: Vec<f64>, write_final: bool) -> Option<String> {
    let native = SESSIONS.with(|s| s.borrow_mut().remove(&id))?;
    uninstall(native.hooks, native.sampling);
    if let Some(hook) = native.cleanup {
        let _ = env.remove_env_cleanup_hook(hook);
    }
    set_sample(&native.shared, &sample);
    collector::stop(id, true, write_final)
}

/// `[time, heapUsed, heapTotal, heapLimit, external, arrayBuffers]` from the JS sampler, and
/// active resources by type as JSON (`{"TCPSocketWrap": 3, …}`).
#[napi(catch_unwind)]
pub fn sample(id: u32, sample: Vec<f64>, handles_json: Option<String>) {
    // GCs still queued first: a full GC that just happened makes a hint unneeded.
    collector::drain_gcs();
    with_shared(id, |shared| {
        set_sample(shared, &sample);
        send_gc_hint(shared);
        read_alloc_sites(shared);
        if let Some(Ok(Value::Object(by_type))) = handles_json.map(|j| serde_json::from_str(&j)) {
            lock(shared).handles = Some(by_type);
        }
    });
}

/// A memory-pressure hint to this thread's isolate when the session's policy says a baseline
/// is overdue (`gc_hint`), counted only if the shim could send it (one built before hints
/// cannot). Only sessions with V8 hooks have a policy, so the shim is loaded.
fn send_gc_hint(shared: &SharedRef) {
    if lock(shared).gc_hint_due() && shim::loaded().is_some_and(|shim| shim.memory_pressure()) {
        lock(shared).gc.record_hint();
    }
}

/// Reads the sampling heap profile when the session's reads are due (every few seconds at
/// most), on this thread: V8 builds the profile from the isolate's own data.
fn read_alloc_sites(shared: &SharedRef) {
    let due = {
        let s = lock(shared);
        match (&s.alloc_sites, s.sample) {
            (Some(sites), Some(x)) => sites.due(x.time_ms as u64),
            _ => false,
        }
    };
    if due {
        read_alloc_sites_now(shared);
    }
}

/// One read of the profile. A heap so large that the read could pause the app noticeably is
/// skipped, and counted. The session's lock is not held while V8 builds the profile and it is
/// reduced: the background thread never waits on a read.
fn read_alloc_sites_now(shared: &SharedRef) {
    let (now, heap_used, own) = {
        let mut s = lock(shared);
        let Some(x) = s.sample else { return };
        let (now, heap_used) = (x.time_ms as u64, x.heap_used);
        let Some(sites) = s.alloc_sites.as_mut() else { return };
        if !sites.affordable(heap_used) {
            sites.on_skipped(now);
            return;
        }
        (now, heap_used, sites.own_scripts().to_string())
    };
    let Some(shim) = shim::loaded() else { return };
    // The JS thread's CPU time, not wall time: on a busy machine the OS may stop the thread
    // mid-read, and that wait is no cost of the read (one 6.5 ms read, wall time, once made
    // every later read look unaffordable).
    let began = crate::clock::thread_cpu_ns();
    let Some(profile) = shim.read_sampling(alloc_sites::MAX_NODES) else { return };
    let read = SiteBytes::from_nodes_excluding(now, &profile.nodes, &own);
    let took_us = crate::clock::thread_cpu_ns().saturating_sub(began) / 1000;
    if let Some(sites) = lock(shared).alloc_sites.as_mut() {
        sites.on_read(read, &profile.samples, took_us, heap_used);
    }
}

/// The sentence a listener-leak warning raised in JS adds while the heap is leaking too.
#[napi(catch_unwind)]
pub fn heap_leak_note(id: u32) -> Option<String> {
    with_shared(id, |shared| lock(shared).heap_leak_note().map(String::from)).flatten()
}

/// `lw.heapGrowth()`: the allocation sites that grew since `since_ms` (default: the heap
/// verdict's window, or the oldest read kept), from a read made now. `sample` is a fresh JS
/// sample.
#[napi(catch_unwind)]
pub fn heap_growth(id: u32, sample: Vec<f64>, since_ms: Option<f64>) -> Option<String> {
    with_shared(id, |shared| {
        set_sample(shared, &sample);
        read_alloc_sites_now(shared);
        lock(shared).heap_growth_json(since_ms.map(|ms| ms.max(0.0) as u64)).to_string()
    })
}

fn set_sample(shared: &SharedRef, v: &[f64]) {
    if let [time_ms, heap_used, heap_total, heap_limit, external, array_buffers] = *v {
        // Through record_sample, so the heap floor and external series get the sample too.
        lock(shared).record_sample(JsSample { time_ms, heap_used, heap_total, heap_limit, external, array_buffers });
    }
}

/// leakwatch's GC kind names, in the order of their numbers: the perf_hooks fallback maps
/// Node's GC kinds to these numbers by name, so no number is copied across the seam.
#[napi(catch_unwind)]
pub fn gc_kind_names() -> Vec<String> {
    GcKind::ALL.iter().map(|k| k.name().to_string()).collect()
}

/// Listener groups and sites a session counts (its counters hold two per slot): leakwatch/testing
/// gives its private tracker as many, so no number is copied across the seam.
#[napi(catch_unwind)]
pub fn listener_slots() -> u32 {
    crate::session::LISTENER_SLOTS as u32
}

/// GCs seen by the perf_hooks fallback: `[kind, endEpochMs, durationMs, baselineOr-1, …]`.
/// Recorded here, on the JS thread, so a `stats()` right after the observer ran counts them,
/// as it counts the shim's GCs at once.
#[napi(catch_unwind)]
pub fn record_gcs(id: u32, flat: Vec<f64>) {
    let events = flat.chunks_exact(4).filter_map(|c| {
        Some(GcEvent {
            kind: GcKind::from_index(c[0] as u8)?,
            end_ms: c[1],
            duration_ns: (c[2].max(0.0) * 1e6) as u64,
            baseline: (c[3] >= 0.0).then_some(c[3] as u64),
            heap_before: None,
        })
    });
    with_shared(id, |shared| {
        let mut s = lock(shared);
        events.for_each(|e| s.record_gc(e));
    });
}

/// Whether JS wants each memory line back (a `log: fn`, or `on('stats')` listeners).
#[napi(catch_unwind)]
pub fn set_delivery(id: u32, deliver: bool) {
    with_shared(id, |shared| lock(shared).deliver_memory = deliver);
}

/// Current figures; GCs still queued are routed first, so a GC just forced is counted.
#[napi(catch_unwind)]
pub fn stats(id: u32) -> Option<String> {
    collector::drain_gcs();
    with_shared(id, |shared| lock(shared).stats().to_string())
}

/// The session's listener counters as an `Int32Array` over Rust's memory (JS bumps them on
/// every add and remove; the background thread reads them). The block lives until both the
/// session and the JS array are gone.
#[napi(catch_unwind)]
pub fn listener_counts(id: u32) -> Result<Int32Array> {
    let block = with_shared(id, |shared| lock(shared).counters.clone()).ok_or_else(|| err("no such session"))?;
    let (ptr, len) = (block.as_mut_ptr(), block.len());
    // SAFETY: the memory is owned by `block`, kept alive by the closure until V8 frees the array.
    Ok(unsafe { Int32Array::with_external_data(ptr, len, move |_, _| drop(block)) })
}

/// What a listener slot means: `{kind, emitter, event, site, appSite, of}` from js/listeners.
#[napi(catch_unwind)]
pub fn describe_group(id: u32, slot: u32, info_json: String) {
    let Ok(info) = serde_json::from_str::<Value>(&info_json) else { return };
    let text = |key: &str| info[key].as_str().map(str::to_string);
    with_shared(id, |shared| {
        let table = &mut lock(shared).listeners;
        let slot = slot as usize;
        match info["kind"].as_str() {
            Some("site-emitters") => table.describe_emitters(slot, info["of"].as_u64().unwrap_or(0) as usize),
            Some("totals") => table.describe_totals(slot, info["excess"].as_u64().unwrap_or(0) as usize),
            _ => table.describe(
                slot,
                &text("emitter").unwrap_or_default(),
                &text("event").unwrap_or_default(),
                text("site").as_deref(),
                text("appSite").as_deref(),
            ),
        }
    });
}

/// The top live listener groups: `[{emitter, event, site, live, growth}]`.
#[napi(catch_unwind)]
pub fn listeners(id: u32, n: u32) -> Option<String> {
    with_shared(id, |shared| lock(shared).listeners_json(n as usize).to_string())
}

/// A warning raised in JS, written to the session's log as an `event: "warning"` line.
/// Returns that line (JSON) for a log that JS writes (a function or logger), so that the line
/// is built in one place. `listener_leak`: the warning reports a listener leak (its `lw` event
/// is `listener-leak`), which a heap warning in the next ten minutes mentions.
#[napi(catch_unwind)]
pub fn log_warning(
    id: u32,
    code: String,
    message: String,
    details_json: String,
    listener_leak: bool,
) -> Option<String> {
    with_shared(id, |shared| {
        let details = serde_json::from_str(&details_json).unwrap_or(Value::Null);
        let mut s = lock(shared);
        if listener_leak {
            s.note_listener_leak(crate::clock::epoch_ms(), &message);
        }
        let line = s.warning_line(&code, &message, details);
        drop(s);
        let text = line.to_string();
        collector::log_warning(id, line);
        text
    })
}

/// leakwatch's own bookkeeping, for tests that prove it does not grow: live sessions in this
/// thread and in the process, and GC records dropped on a full queue.
#[napi(catch_unwind)]
pub fn internals() -> String {
    let here = SESSIONS.with(|s| s.borrow().len());
    json!({"threadSessions": here, "processSessions": collector::session_count(), "gcDropped": crate::gc_queue::dropped()})
        .to_string()
}

/// The heap size limit from the shim, or null without it. Saves loading `node:v8` (~1.4 MB
/// of RSS) just for one number.
#[napi(catch_unwind)]
pub fn heap_limit() -> Option<f64> {
    shim::loaded().map(|s| s.heap_limit() as f64)
}

/// Whether this is the process's main thread (its tid is the pid), without loading
/// `node:worker_threads` (~1.6 MB of RSS) in the main thread just to ask.
#[napi(catch_unwind)]
pub fn is_main_thread() -> bool {
    #[cfg(target_os = "linux")]
    // SAFETY: gettid and getpid have no preconditions.
    return unsafe { libc::gettid() == libc::getpid() };
    #[cfg(target_os = "macos")]
    // SAFETY: no preconditions; macOS has no gettid, but says which thread is the main one.
    return unsafe { libc::pthread_main_np() != 0 };
}

fn with_shared<T>(id: u32, f: impl FnOnce(&SharedRef) -> T) -> Option<T> {
    SESSIONS.with(|s| s.borrow().get(&id).map(|n| f(&n.shared)))
}

//! The one background thread: it polls the GC queue (so no GC ever pays to wake it), keeps
//! each session's telemetry, reads /proc, writes log lines and hands events back to JS.

use crate::clock;
use crate::gc_queue;
use crate::gc_record::GcRecord;
use crate::gc_stats::GcEvent;
use crate::proc_stats;
use crate::session::{ProcSample, Shared};
use crate::sink::Sink;
use crate::verdict::watch::Warning;
use crossbeam_channel::{bounded, unbounded, Receiver, RecvTimeoutError, Sender};
use once_cell::sync::{Lazy, OnceCell};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant};

/// How often the queue is drained. 4,096 queued records at this period is 80,000 GCs/s.
const POLL: Duration = Duration::from_millis(50);
/// How often RSS and fds are read.
const PROC_PERIOD: Duration = Duration::from_secs(1);
/// How long `stop()` waits for the final line before giving up (never hang an exit).
const STOP_PATIENCE: Duration = Duration::from_secs(1);

/// The way back to JS (a weak threadsafe function in the addon). Must never block.
pub trait EventSink: Send {
    fn send(&self, payload: String) -> bool;
}

pub type SharedRef = Arc<Mutex<Shared>>;

/// Locks even if a panic once poisoned the mutex: telemetry must keep flowing.
pub fn lock(shared: &SharedRef) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(|p| p.into_inner())
}

enum Command {
    Add { id: u32, shared: SharedRef, events: Box<dyn EventSink> },
    Stop { id: u32, reply: Option<Sender<String>>, write_final: bool },
    Warn { id: u32, line: Value },
}

struct Entry {
    shared: SharedRef,
    sink: Sink,
    events: Box<dyn EventSink>,
    next_log: Instant,
}

static COMMANDS: OnceCell<Sender<Command>> = OnceCell::new();

/// Which session each queued GC belongs to. Global, so the JS thread can drain the queue
/// too when it asks for `stats()` right after a GC.
static ROUTES: Lazy<RwLock<HashMap<u32, SharedRef>>> = Lazy::new(Default::default);

/// Routes every queued GC record to its session; records of ended sessions are dropped.
pub fn drain_gcs() {
    let routes = ROUTES.read().unwrap_or_else(|p| p.into_inner());
    gc_queue::drain(|record| {
        if let (Some(shared), Some(event)) = (routes.get(&record.session), to_event(&record)) {
            lock(shared).record_gc(event);
        }
    });
    let dropped = gc_queue::dropped();
    for shared in routes.values() {
        lock(shared).gc_dropped = dropped;
    }
}

/// Sessions alive in the whole process (all isolates).
pub fn session_count() -> usize {
    ROUTES.read().unwrap_or_else(|p| p.into_inner()).len()
}

fn set_route(id: u32, shared: Option<SharedRef>) {
    let mut routes = ROUTES.write().unwrap_or_else(|p| p.into_inner());
    match shared {
        Some(shared) => routes.insert(id, shared),
        None => routes.remove(&id),
    };
}

fn commands() -> Result<&'static Sender<Command>, String> {
    COMMANDS.get_or_try_init(|| {
        let (tx, rx) = unbounded();
        std::thread::Builder::new()
            .name("leakwatch".into())
            .spawn(move || Collector::default().run(rx))
            .map_err(|e| format!("cannot start the leakwatch thread: {e}"))?;
        Ok(tx)
    })
}

pub fn add(id: u32, shared: SharedRef, events: Box<dyn EventSink>) -> Result<(), String> {
    let tx = commands()?;
    // Routed from now on: a GC between hook installation and the Add command is kept.
    set_route(id, Some(shared.clone()));
    tx.send(Command::Add { id, shared, events }).map_err(|e| e.to_string())
}

/// Ends a session. With `write_final`, the final line is written to its sink; with `wait`, it
/// is also returned (for JS sinks), waiting at most STOP_PATIENCE.
pub fn stop(id: u32, wait: bool, write_final: bool) -> Option<String> {
    let tx = COMMANDS.get()?;
    // Route what is queued now, then unroute at once: the session is gone the moment its
    // isolate says so, not whenever the background thread gets to it.
    drain_gcs();
    set_route(id, None);
    if !wait {
        let _ = tx.send(Command::Stop { id, reply: None, write_final });
        return None;
    }
    let (reply_tx, reply_rx) = bounded(1);
    tx.send(Command::Stop { id, reply: Some(reply_tx), write_final }).ok()?;
    reply_rx.recv_timeout(STOP_PATIENCE).ok()
}

/// A warning raised in JS, to be written to the session's log.
pub fn log_warning(id: u32, line: Value) {
    if let Some(tx) = COMMANDS.get() {
        let _ = tx.send(Command::Warn { id, line });
    }
}

#[derive(Default)]
struct Collector {
    entries: HashMap<u32, Entry>,
    last_proc: Option<Instant>,
    proc: ProcSample,
}

impl Collector {
    fn run(mut self, rx: Receiver<Command>) {
        loop {
            let command = match rx.recv_timeout(POLL) {
                Ok(command) => Some(command),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            // A bug in one tick must not end telemetry for the rest of the process's life.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.tick(command)));
        }
    }

    fn tick(&mut self, command: Option<Command>) {
        if let Some(command) = command {
            drain_gcs();
            self.handle(command);
        }
        drain_gcs();
        self.read_proc(false);
        self.write_due_lines();
    }

    fn handle(&mut self, command: Command) {
        match command {
            Command::Add { id, shared, events } => {
                let (sink, interval) = {
                    let s = lock(&shared);
                    (Sink::new(&s.config.log), Duration::from_millis(s.config.interval_ms))
                };
                self.entries.insert(id, Entry { shared, sink, events, next_log: Instant::now() + interval });
                self.read_proc(true);
            }
            Command::Stop { id, reply, write_final } => {
                if let Some(mut entry) = self.entries.remove(&id) {
                    self.read_proc(true);
                    let line = self.compose(&entry, true);
                    if write_final {
                        write(&mut entry, &line);
                    }
                    if let Some(reply) = reply {
                        let _ = reply.send(line);
                    }
                }
            }
            Command::Warn { id, line } => {
                if let Some(entry) = self.entries.get_mut(&id) {
                    write(entry, &line.to_string());
                }
            }
        }
    }

    fn read_proc(&mut self, force: bool) {
        let due = self.last_proc.is_none_or(|t| t.elapsed() >= PROC_PERIOD);
        if !(force || due) || self.entries.is_empty() {
            return;
        }
        self.last_proc = Some(Instant::now());
        self.proc = ProcSample { rss: proc_stats::rss_bytes(), fds: proc_stats::open_fds() };
        let now = clock::epoch_ms();
        for entry in self.entries.values_mut() {
            let warnings = {
                let mut s = lock(&entry.shared);
                s.record_proc(now, self.proc);
                s.judge(now)
            };
            for w in &warnings {
                warn(entry, w);
            }
        }
    }

    fn write_due_lines(&mut self) {
        let now = Instant::now();
        let due: Vec<u32> = self.entries.iter().filter(|(_, e)| now >= e.next_log).map(|(id, _)| *id).collect();
        for id in due {
            let Some(entry) = self.entries.get(&id) else {
                continue;
            };
            let line = self.compose(entry, false);
            let entry = self.entries.get_mut(&id).expect("present above");
            let interval = Duration::from_millis(lock(&entry.shared).config.interval_ms);
            // Keep the cadence, but after a long stall start afresh instead of bursting.
            entry.next_log = (entry.next_log + interval).max(now);
            write(entry, &line);
        }
    }

    /// Composes a memory line and, when JS wants it, sends it back as a `memory` event.
    fn compose(&self, entry: &Entry, final_line: bool) -> String {
        let (line, deliver) = {
            let mut s = lock(&entry.shared);
            (s.memory_line(final_line, true), s.deliver_memory && !final_line)
        };
        let text = line.to_string();
        if deliver {
            entry.events.send(format!(r#"{{"type":"memory","line":{text}}}"#));
        }
        text
    }
}

/// Writes outside any lock; a failure becomes one warning, in the log and in JS.
fn write(entry: &mut Entry, line: &str) {
    if let Err(failure) = entry.sink.write_line(line) {
        let warning = lock(&entry.shared).warning_line("LEAKWATCH_LOG_WRITE_FAILED", &failure.message, json!({}));
        let _ = entry.sink.write_line(&warning.to_string());
        entry.events.send(json!({"type": "warning", "eventName": "warning", "line": warning}).to_string());
    }
}

/// A warning raised here: a line in the log, then `process.emitWarning` and
/// `lw.emit(w.event, {code, message, details})` in JS.
fn warn(entry: &mut Entry, w: &Warning) {
    let line = lock(&entry.shared).warning_line(w.code, &w.message, w.details.clone());
    write(entry, &line.to_string());
    entry.events.send(json!({"type": "warning", "eventName": w.event, "line": line}).to_string());
}

fn to_event(record: &GcRecord) -> Option<GcEvent> {
    Some(GcEvent {
        kind: record.kind()?,
        end_ms: clock::monotonic_to_epoch_ms(record.start_ns.saturating_add(record.duration_ns)),
        duration_ns: record.duration_ns,
        baseline: record.baseline(),
        heap_before: (record.has_heap != 0).then_some(record.heap_before),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{Config, LogTarget};
    use crate::gc_record::GcKind;
    use std::sync::mpsc;

    struct Events(Mutex<mpsc::Sender<String>>);
    impl EventSink for Events {
        fn send(&self, payload: String) -> bool {
            self.0.lock().unwrap().send(payload).is_ok()
        }
    }

    #[test]
    fn a_session_gets_its_gcs_lines_and_a_final_line() {
        let path = std::env::temp_dir().join(format!("lw-collector-{}.log", std::process::id()));
        let _ = std::fs::remove_file(&path);
        let config = Config {
            interval_ms: 100,
            log: LogTarget::File(path.to_string_lossy().into()),
            hostname: "h".into(),
            thread_id: 0,
            trend: Default::default(),
            gc_hints: true,
            heap_profile: true,
            heap_profile_interval: 512 * 1024,
        };
        let shared = Arc::new(Mutex::new(Shared::new(config, "v8", None)));
        lock(&shared).deliver_memory = true;
        let (tx, rx) = mpsc::channel();
        let id = 900_001;
        add(id, shared.clone(), Box::new(Events(Mutex::new(tx)))).unwrap();
        // A GC from the shim's path, for this session and for one that does not exist.
        gc_queue::push(GcRecord {
            start_ns: clock::monotonic_ns(),
            duration_ns: 2_000_000,
            session: id,
            kind: GcKind::MarkSweepCompact as u8,
            has_heap: 1,
            heap_before: 900,
            heap_after: 500,
            ..Default::default()
        });
        gc_queue::push(GcRecord { session: 424_242, duration_ns: 1, ..Default::default() });
        let event = rx.recv_timeout(Duration::from_secs(5)).expect("a memory event");
        assert!(event.starts_with(r#"{"type":"memory""#), "{event}");
        let final_line = stop(id, true, true).expect("a final line");
        let v: Value = serde_json::from_str(&final_line).unwrap();
        assert_eq!(v["final"], true);
        assert_eq!(v["baseline"], 500);
        assert_eq!(v["gc"]["sinceStart"]["count"], 1);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().count() >= 2, "{text}");
        assert!(text.lines().all(|l| serde_json::from_str::<Value>(l).is_ok()));
        let _ = std::fs::remove_file(&path);
    }
}

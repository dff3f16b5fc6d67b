//! leakwatch: memory-leak telemetry from inside a Node.js process.
//!
//! Data flows one way: hooks (the V8 GC shim, JS glue) → counters and records (`gc_queue`) →
//! the background thread (`collector`) → sinks (`sink`) and events back to JS. Everything but
//! `binding` is plain Rust, so `cargo test --no-default-features` runs without Node.

pub mod alloc_sites;
pub mod clock;
pub mod collector;
pub mod config;
pub mod counters;
pub mod gc_hint;
pub mod gc_queue;
pub mod gc_record;
pub mod gc_stats;
pub mod histogram;
pub mod listeners;
pub mod proc_stats;
pub mod session;
pub mod shim;
pub mod sink;
pub mod verdict;

#[cfg(feature = "node")]
mod binding;
#[cfg(feature = "node")]
mod weak_markers;

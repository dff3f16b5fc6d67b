//! Every leak judgement: "is this series growing, for long enough and by enough, beyond
//! chance?", and the warnings it raises.
//!
//! - `stats`: Theil–Sen slope and Mann–Kendall test (also ported to js/stats.js, pinned to it by
//!   shared test vectors).
//! - `trend`: the verdict on one series (fit, cycles, floor points).
//! - `memory`: the heap after full GCs, external memory and RSS beyond the heap.
//! - `old_heap`: what is left of allocations made more than 30 s ago, the heap's evidence that
//!   a rise is sustained.
//! - `resources`: libuv handles and open fds.
//! - `listener_sites`: whether one call site's listeners keep growing over many emitters.
//! - `watch`: one judged series and its re-warn rule, and the one warning type they raise.

pub mod listener_sites;
pub mod memory;
pub mod old_heap;
pub mod resources;
pub mod stats;
pub mod trend;
pub mod watch;

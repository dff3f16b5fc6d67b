//! Time in the two clocks leakwatch uses: CLOCK_MONOTONIC (what the GC shim stamps records
//! with) and epoch milliseconds (what log lines carry).

use std::time::{SystemTime, UNIX_EPOCH};

pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime writes into the timespec we own; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

/// CPU time the calling thread has used: what work on it cost, without the time the OS gave
/// other threads and processes meanwhile (a busy machine stretches wall time, not this).
pub fn thread_cpu_ns() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: as above; CLOCK_THREAD_CPUTIME_ID exists on Linux and macOS.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

pub fn epoch_ms() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64() * 1000.0).unwrap_or(0.0)
}

/// Converts a monotonic stamp to epoch ms using the current offset between the clocks.
pub fn monotonic_to_epoch_ms(stamp_ns: u64) -> f64 {
    let now_ns = monotonic_ns();
    let now_ms = epoch_ms();
    now_ms - (now_ns.saturating_sub(stamp_ns) as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_cpu_time_counts_work_not_sleep() {
        let start = thread_cpu_ns();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let slept = thread_cpu_ns() - start;
        let mut x = 0u64;
        let work_start = thread_cpu_ns();
        while thread_cpu_ns() - work_start < 20_000_000 {
            x = x.wrapping_add(std::hint::black_box(1));
        }
        assert!(x > 0);
        assert!(slept < 20_000_000, "sleeping 50 ms used {slept} ns of CPU");
    }

    #[test]
    fn monotonic_stamps_map_to_now() {
        let stamp = monotonic_ns();
        let diff = (monotonic_to_epoch_ms(stamp) - epoch_ms()).abs();
        assert!(diff < 50.0, "diff {diff}");
    }
}

//! Counters that JS bumps and Rust reads: one block per session, allocated here and shown to
//! JS as an `Int32Array` over the same memory. The JS thread is the only writer (plain stores:
//! an aligned 32-bit store cannot tear); the background thread copies it with relaxed loads.

use std::sync::atomic::{AtomicI32, Ordering};

pub struct CounterBlock {
    cells: Box<[AtomicI32]>,
}

impl CounterBlock {
    pub fn new(len: usize) -> CounterBlock {
        CounterBlock { cells: (0..len).map(|_| AtomicI32::new(0)).collect() }
    }

    pub fn len(&self) -> usize {
        self.cells.len()
    }

    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// The memory JS writes into. `AtomicI32` has the layout of `i32`.
    pub fn as_mut_ptr(&self) -> *mut i32 {
        self.cells.as_ptr() as *mut i32
    }

    /// A consistent-enough copy: each cell is read once, atomically.
    pub fn snapshot(&self, into: &mut Vec<i32>) {
        into.clear();
        into.extend(self.cells.iter().map(|c| c.load(Ordering::Relaxed)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_through_the_pointer_are_seen_by_snapshots() {
        let block = std::sync::Arc::new(CounterBlock::new(8));
        let ptr = block.as_mut_ptr() as usize;
        std::thread::spawn(move || unsafe { *(ptr as *mut i32).add(3) = 42 }).join().unwrap();
        let mut copy = Vec::new();
        block.snapshot(&mut copy);
        assert_eq!(copy, vec![0, 0, 0, 42, 0, 0, 0, 0]);
    }
}

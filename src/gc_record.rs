//! One GC as the shim reports it. Mirrors `lw_gc_record` in gc_shim.h byte for byte.

/// leakwatch's GC kinds, stable across V8 versions (the shim maps V8's enum names to these).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GcKind {
    Scavenge = 0,
    MinorMarkSweep = 1,
    MarkSweepCompact = 2,
    IncrementalMarking = 3,
    WeakCallbacks = 4,
}

pub const GC_KIND_COUNT: usize = 5;

impl GcKind {
    pub const ALL: [GcKind; GC_KIND_COUNT] = [
        GcKind::Scavenge,
        GcKind::MinorMarkSweep,
        GcKind::MarkSweepCompact,
        GcKind::IncrementalMarking,
        GcKind::WeakCallbacks,
    ];

    pub fn from_index(index: u8) -> Option<GcKind> {
        GcKind::ALL.get(index as usize).copied()
    }

    /// The name used in log lines and `stats()`.
    pub fn name(self) -> &'static str {
        match self {
            GcKind::Scavenge => "scavenge",
            GcKind::MinorMarkSweep => "minorMarkSweep",
            GcKind::MarkSweepCompact => "markSweepCompact",
            GcKind::IncrementalMarking => "incrementalMarking",
            GcKind::WeakCallbacks => "weakCallbacks",
        }
    }
}

#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GcRecord {
    /// CLOCK_MONOTONIC nanoseconds.
    pub start_ns: u64,
    pub duration_ns: u64,
    pub heap_before: u64,
    pub heap_after: u64,
    pub heap_total: u64,
    pub session: u32,
    pub kind: u8,
    pub has_heap: u8,
    pub forced: u8,
    pub reserved: u8,
}

impl GcRecord {
    pub fn kind(&self) -> Option<GcKind> {
        GcKind::from_index(self.kind)
    }

    /// The heap used after a full GC: the baseline that shows a leak.
    pub fn baseline(&self) -> Option<u64> {
        (self.has_heap != 0 && self.kind() == Some(GcKind::MarkSweepCompact)).then_some(self.heap_after)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layout_matches_the_c_header() {
        // 5 x u64 + u32 + 4 x u8 = 48 bytes, no padding surprises.
        assert_eq!(std::mem::size_of::<GcRecord>(), 48);
        assert_eq!(std::mem::align_of::<GcRecord>(), 8);
    }

    #[test]
    fn kinds_round_trip() {
        for kind in GcKind::ALL {
            assert_eq!(GcKind::from_index(kind as u8), Some(kind));
        }
        assert_eq!(GcKind::from_index(9), None);
    }

    #[test]
    fn baseline_only_for_full_gcs_with_heap() {
        let mut r =
            GcRecord { kind: GcKind::MarkSweepCompact as u8, has_heap: 1, heap_after: 42, ..Default::default() };
        assert_eq!(r.baseline(), Some(42));
        r.kind = GcKind::Scavenge as u8;
        assert_eq!(r.baseline(), None);
    }
}

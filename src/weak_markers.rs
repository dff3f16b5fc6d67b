//! Tells js/listeners which recorded emitters were collected, without a FinalizationRegistry.
//!
//! V8 runs one dirty FinalizationRegistry's cleanup per task, so a registry of ours that a GC
//! dirtied in front of Node's own (AbortSignal.any's dependants, weak EventTarget listeners)
//! pushed Node's cleanup past the app's next setImmediate. Here each emitter's marker gets a
//! Node-API finalizer instead: a weak handle whose callback, run by Node after the GC, only
//! writes the marker's slot number into this thread's list, and no V8 task is posted at all.
//! JS hands markers over in batches and drains the list once a second (and before it reads
//! counts), so nothing crosses into native code per listener add.

use napi::bindgen_prelude::*;
use napi::{sys, Env, JsValue};
use napi_derive::napi;
use std::cell::{Cell, RefCell};
use std::ffi::c_void;

/// The collected slots of this thread's (isolate's) current watch; finalizers of an ended
/// watch find another generation and write nothing, so the list holds at most one entry per
/// marker of the live watch.
#[derive(Default)]
struct Collected {
    generation: u32,
    slots: Vec<u32>,
}

thread_local! {
    static COLLECTED: RefCell<Collected> = RefCell::new(Collected::default());
    static NEXT_GENERATION: Cell<u32> = const { Cell::new(0) };
}

/// Starts a watch on this thread, replacing any earlier one; returns its generation.
#[napi(catch_unwind)]
pub fn marker_watch_begin() -> u32 {
    let generation = NEXT_GENERATION.with(|g| {
        g.set(g.get().wrapping_add(1).max(1));
        g.get()
    });
    COLLECTED.with(|c| *c.borrow_mut() = Collected { generation, slots: Vec::new() });
    generation
}

/// Ends the watch `generation`: what its markers' finalizers report from now on is dropped.
#[napi(catch_unwind)]
pub fn marker_watch_end(generation: u32) {
    COLLECTED.with(|c| {
        let mut c = c.borrow_mut();
        if c.generation == generation {
            *c = Collected::default();
        }
    });
}

/// Watches `markers[i]` as slot `slots[i]`: once it is collected, the slot is reported.
#[napi(catch_unwind)]
pub fn marker_watch_add(env: Env, markers: Array, slots: Uint32Array, generation: u32) -> Result<()> {
    let n = markers.len().min(slots.len() as u32);
    for i in 0..n {
        let mut marker = std::ptr::null_mut();
        // SAFETY: plain Node-API calls on this env's thread with values it gave us; the
        // finalizer's data and hint are integers, never dereferenced.
        unsafe {
            check(sys::napi_get_element(env.raw(), markers.raw(), i, &mut marker))?;
            let data = slots[i as usize] as usize as *mut c_void;
            let hint = generation as usize as *mut c_void;
            check(sys::napi_add_finalizer(env.raw(), marker, data, Some(on_collected), hint, std::ptr::null_mut()))?;
        }
    }
    Ok(())
}

/// The slots of `generation` collected since the last call.
#[napi(catch_unwind)]
pub fn marker_watch_collected(generation: u32) -> Uint32Array {
    let slots = COLLECTED.with(|c| {
        let mut c = c.borrow_mut();
        if c.generation == generation {
            std::mem::take(&mut c.slots)
        } else {
            Vec::new()
        }
    });
    Uint32Array::new(slots)
}

fn check(status: sys::napi_status) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::GenericFailure, format!("leakwatch: marker watch failed (napi status {status})")))
    }
}

/// Runs on the emitter's thread after the GC that collected the marker. Never panics: a thread
/// being torn down (its list already gone) or a re-entered list just drops the report.
unsafe extern "C" fn on_collected(_env: sys::napi_env, data: *mut c_void, hint: *mut c_void) {
    let (slot, generation) = (data as usize as u32, hint as usize as u32);
    let _ = COLLECTED.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            if c.generation == generation {
                c.slots.push(slot);
            }
        }
    });
}

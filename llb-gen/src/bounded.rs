//! Evaluation in this process with the probe's bounds: on a thread of its
//! own, whose allocations are counted against the same byte bound as the
//! probe's address space (`allocator`), waited on until the same deadline.
//! One evaluation, in one process: no child to start, no second
//! evaluation, and Starlark's setup built once.
//!
//! An evaluation stopped on its way (out of memory or time) leaves its
//! thread behind, asleep or still running, until the process ends. So this
//! is for programs that end after one build (`llb-gen`, envd-frontend);
//! the language server, which outlives any one file, uses the probe.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::allocator::{self, Watch};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::includes::IncludedModules;
use crate::lang::{self, Evaluated};
use crate::limits::{MAX_EVALUATION_BYTES, MAX_EVALUATION_SECONDS};
use crate::probe;

/// The evaluating thread's stack: the probe's (a main thread's), since
/// the nesting bounds were measured there.
const STACK_BYTES: usize = 8 << 20;

/// What the evaluating thread hands back: its result, once it has one.
type Outcome = Arc<Mutex<Option<Result<Evaluated, Diagnostics>>>>;

/// Evaluates the build file on a thread of its own, within the bounds:
/// its result or located error, or the error of a bound it exceeded, at
/// the statement when known.
pub fn evaluate(
    source: &SourceText,
    target: Option<&str>,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<Evaluated, Diagnostics> {
    let deadline = Instant::now() + Duration::from_secs(MAX_EVALUATION_SECONDS);
    let watch = Watch::for_this_thread();
    let outcome: Outcome = Arc::default();
    let evaluating = {
        let (watch, outcome) = (watch.clone(), outcome.clone());
        let (source, target) = (source.clone(), target.map(str::to_string));
        let (build_args, includes) = (build_args.clone(), includes.clone());
        std::thread::Builder::new()
            .name("envd-evaluation".to_string())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                // Wakes the waiter however the thread ends, a panic too.
                let _wake = WakeOnDrop(watch.clone());
                let result = allocator::with_budget(MAX_EVALUATION_BYTES, watch.clone(), || {
                    lang::evaluate(&source, target.as_deref(), &build_args, &includes)
                });
                if let Ok(mut slot) = outcome.lock() {
                    *slot = Some(result);
                }
            })
    };
    let evaluating = evaluating.map_err(|e| {
        Diagnostics(vec![Diagnostic::error(
            source,
            None,
            format!("internal error: the evaluation's thread could not start: {e}"),
        )])
    })?;
    loop {
        // Read before the outcome: a thread that has finished has left its
        // outcome, if it had one.
        let finished = evaluating.is_finished();
        if let Some(result) = outcome.lock().ok().and_then(|mut slot| slot.take()) {
            let _ = evaluating.join();
            return result;
        }
        if finished {
            // Ended without a result: it panicked outside the evaluation's
            // own catch.
            return Err(Diagnostics(vec![Diagnostic::error(
                source,
                None,
                "internal error: the evaluation's thread ended without a result".to_string(),
            )]));
        }
        if let Some(place) = watch.out_of_memory() {
            return Err(Diagnostics(vec![probe::out_of_memory(source, place)]));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Diagnostics(vec![probe::took_too_long(source)]));
        }
        // Woken by the evaluation when it ends or stops.
        std::thread::park_timeout(left);
    }
}

/// Wakes a watch's waiter when dropped.
struct WakeOnDrop(Arc<Watch>);

impl Drop for WakeOnDrop {
    fn drop(&mut self) {
        self.0.wake();
    }
}

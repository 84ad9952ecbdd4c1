//! Evaluation in this process, bounded: on a thread of its own, whose
//! allocations the global allocator counts against the evaluation's byte
//! bound (`allocator`), waited on until the evaluation's deadline. One
//! evaluation in one process: no child to start, no second evaluation,
//! Starlark's setup built once.
//!
//! Against the probe's child process, three things differ. The bound
//! counts the bytes the evaluating thread holds at once, not a process's
//! whole address space (its program, stacks and allocator overhead), so it
//! is slightly more generous. An evaluation stopped on its way leaves its
//! thread behind until the process ends: asleep at the allocation that
//! stopped it, or, past the deadline, still running (within Starlark's
//! statement and tick bounds). And a crash of the interpreter that is not
//! a panic (an abort, a stack overflow) ends the caller, not a child; the
//! nesting bounds keep the parser's recursion within the stack, and the
//! fuzz targets evaluate in-process. So this is for programs that end
//! after one build (`llb-gen`, envd-frontend); the language server, which
//! outlives any one file, uses the probe.

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::allocator::{self, OutOfMemory, Watch};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::includes::IncludedModules;
use crate::lang::{self, Evaluated};
use crate::limits::{MAX_EVALUATION_BYTES, MAX_EVALUATION_SECONDS};
use crate::probe;

/// The evaluating thread's stack. The nesting bounds (`lang::nesting`)
/// keep the parser within 2 MiB; this leaves the margin the frontend's
/// threads have.
const STACK_BYTES: usize = 8 << 20;

/// Evaluates the build file on a thread of its own, within the bounds:
/// its result or located error, or the error of a bound it exceeded, at
/// the statement when known. The program must install
/// [`allocator::EvaluationAllocator`]; without it this is an error, not
/// an unbounded evaluation.
pub fn evaluate(
    source: &SourceText,
    target: Option<&str>,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<Evaluated, Diagnostics> {
    let evaluation = {
        let (source, target) = (source.clone(), target.map(str::to_string));
        let (build_args, includes) = (build_args.clone(), includes.clone());
        move || lang::evaluate(&source, target.as_deref(), &build_args, &includes)
    };
    let deadline = Duration::from_secs(MAX_EVALUATION_SECONDS);
    match run(MAX_EVALUATION_BYTES, deadline, evaluation) {
        Ok(result) => result,
        Err(stopped) => Err(Diagnostics(vec![stopped.diagnostic(source)])),
    }
}

/// Why an evaluation gave no result of its own.
#[derive(Debug, PartialEq, Eq)]
enum Stopped {
    OutOfMemory(OutOfMemory),
    OutOfTime,
    /// The program does not install the allocator that keeps the budget.
    Unbounded,
    /// The thread could not start, or ended without a result (a panic
    /// the evaluation did not catch).
    Failed(String),
}

impl Stopped {
    fn diagnostic(self, source: &SourceText) -> Diagnostic {
        let internal = |what: String| {
            Diagnostic::error(
                source,
                None,
                format!("internal error: the evaluation {what}"),
            )
        };
        match self {
            Stopped::OutOfMemory(place) => probe::out_of_memory(source, place),
            Stopped::OutOfTime => probe::took_too_long(source),
            Stopped::Unbounded => internal(
                "cannot be bounded: this program does not install llb_gen::allocator::EvaluationAllocator"
                    .to_string(),
            ),
            Stopped::Failed(why) => internal(why),
        }
    }
}

/// What the evaluating thread hands back: its result, once it has one.
type Outcome<T> = Arc<Mutex<Option<Result<T, Stopped>>>>;

/// Runs `work` on a thread of its own with at most `limit` bytes held at
/// once, for at most `deadline`.
fn run<T: Send + 'static>(
    limit: usize,
    deadline: Duration,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Stopped> {
    let deadline = Instant::now() + deadline;
    let watch = Watch::for_this_thread();
    let outcome: Outcome<T> = Arc::default();
    std::thread::Builder::new()
        .name("envd-evaluation".to_string())
        .stack_size(STACK_BYTES)
        .spawn({
            let (watch, outcome) = (watch.clone(), outcome.clone());
            move || {
                // Says the thread ended, and wakes the waiter, however it
                // ends: after the outcome below, or in a panic.
                let _ended = EndedOnDrop(watch.clone());
                let result = if allocator::is_installed() {
                    catch_unwind(AssertUnwindSafe(|| {
                        allocator::with_budget(limit, watch, work)
                    }))
                    .map_err(|_| Stopped::Failed("panicked".to_string()))
                } else {
                    Err(Stopped::Unbounded)
                };
                if let Ok(mut slot) = outcome.lock() {
                    *slot = Some(result);
                }
            }
        })
        .map_err(|e| Stopped::Failed(format!("thread could not start: {e}")))?;
    loop {
        // Read before the outcome: a thread that has ended has left its
        // outcome, if it had one.
        let ended = watch.ended();
        if let Some(result) = outcome.lock().ok().and_then(|mut slot| slot.take()) {
            return result;
        }
        if ended {
            return Err(Stopped::Failed("ended without a result".to_string()));
        }
        if let Some(place) = watch.out_of_memory() {
            return Err(Stopped::OutOfMemory(place));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(Stopped::OutOfTime);
        }
        // Woken by the thread when it ends or stops.
        std::thread::park_timeout(left);
    }
}

/// Marks its watch's thread ended, and wakes the waiter, when dropped.
struct EndedOnDrop(Arc<Watch>);

impl Drop for EndedOnDrop {
    fn drop(&mut self) {
        self.0.end();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A_WHILE: Duration = Duration::from_secs(30);

    #[test]
    fn work_within_its_bounds_gives_its_result() {
        let held = run(64 << 20, A_WHILE, || vec![7u8; 32 << 20].len());
        assert_eq!(held, Ok(32 << 20));
    }

    #[test]
    fn a_budget_charges_what_is_held_not_what_was_ever_allocated() {
        // 3.2 GiB in all, 32 MiB at once; and a vector grown byte by byte
        // to 48 MiB, charged by what each reallocation adds.
        let grown = run(64 << 20, A_WHILE, || {
            for _ in 0..100 {
                std::hint::black_box(vec![0u8; 32 << 20]);
            }
            let mut grown = Vec::new();
            for i in 0..(48usize << 20) {
                grown.push(i as u8);
            }
            grown.len()
        });
        assert_eq!(grown, Ok(48 << 20));
    }

    #[test]
    fn an_allocation_beyond_the_budget_stops_the_work_and_says_where() {
        // No statement ran on that thread: Starlark was still compiling.
        let stopped = run(1 << 20, A_WHILE, || {
            std::hint::black_box(vec![0u8; 2 << 20]);
            unreachable!("the allocation beyond the budget returned");
        });
        assert_eq!(stopped, Err(Stopped::OutOfMemory(OutOfMemory::Compiling)));
    }

    #[test]
    fn work_past_its_deadline_is_out_of_time() {
        let stopped = run(1 << 20, Duration::from_millis(10), || {
            std::thread::sleep(Duration::from_millis(500));
        });
        assert_eq!(stopped, Err(Stopped::OutOfTime));
    }

    #[test]
    fn a_panic_is_an_internal_error_at_once_not_at_the_deadline() {
        let started = Instant::now();
        let stopped = run(1 << 20, A_WHILE, || -> () { panic!("a bug") });
        assert_eq!(stopped, Err(Stopped::Failed("panicked".to_string())));
        assert!(started.elapsed() < A_WHILE);
    }
}

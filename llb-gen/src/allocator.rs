//! The global allocator of the programs that evaluate build.envd (`llb-gen`,
//! envd-frontend): the system's, with the two ways an evaluation's memory
//! is bounded. In the probe's process, whose address space is limited, a
//! failed allocation is reported with the statement that was running
//! (`probe`). On a thread evaluating in this process (`bounded`), the
//! thread's allocations are counted against a budget, and the one that
//! would exceed it never returns: the thread stops there, and the thread
//! waiting on it is told where.
//!
//! Starlark checks its heap only between statements, and one statement
//! (`[0] * 100000000`) can ask for gigabytes before that check: the
//! allocator is the one place that sees every request as it is made.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::Thread;
use std::time::Duration;

use crate::lang;

/// Where an evaluation ran out of memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutOfMemory {
    /// In the statement starting at this byte offset.
    AtStatement(usize),
    /// Before any statement ran: Starlark was compiling the file and
    /// computing its constant expressions.
    Compiling,
}

impl OutOfMemory {
    /// Where this thread's evaluation is now.
    fn here() -> OutOfMemory {
        match lang::last_statement() {
            Some(statement) => OutOfMemory::AtStatement(statement.start),
            None => OutOfMemory::Compiling,
        }
    }
}

/// What the probe writes to stderr when an allocation fails, before the
/// byte offset of the statement that was running.
pub(crate) const OUT_OF_MEMORY_MARK: &[u8] = b"envd-evaluation-probe: out of memory at byte ";
/// Written after the mark when no statement had run.
pub(crate) const BEFORE_ANY_STATEMENT: &[u8] = b"none";

/// Set when an allocation in this process failed.
static ALLOCATION_FAILED: AtomicBool = AtomicBool::new(false);
/// Set in the probe: only there does a failed allocation get reported.
static IS_PROBE: AtomicBool = AtomicBool::new(false);

/// Makes this process the probe: a failed allocation is reported on stderr.
pub(crate) fn report_failed_allocations() {
    IS_PROBE.store(true, Ordering::Relaxed);
}

/// Whether an allocation in this process has failed.
pub(crate) fn an_allocation_failed() -> bool {
    ALLOCATION_FAILED.load(Ordering::Relaxed)
}

/// What a budgeted evaluation's thread shares with the thread waiting on
/// it: where it stopped, if it did, and whom to wake.
#[derive(Debug)]
pub(crate) struct Watch {
    /// 0 while within budget; 1 when it ran out before any statement; 2
    /// plus the statement's offset when it ran out in one.
    stopped: AtomicUsize,
    waiter: Thread,
}

impl Watch {
    /// A watch that wakes the calling thread.
    pub(crate) fn for_this_thread() -> Arc<Watch> {
        Arc::new(Watch {
            stopped: AtomicUsize::new(0),
            waiter: std::thread::current(),
        })
    }

    /// Where the watched evaluation ran out of memory, if it did.
    pub(crate) fn out_of_memory(&self) -> Option<OutOfMemory> {
        match self.stopped.load(Ordering::Acquire) {
            0 => None,
            1 => Some(OutOfMemory::Compiling),
            n => Some(OutOfMemory::AtStatement(n - 2)),
        }
    }

    /// Wakes the waiting thread.
    pub(crate) fn wake(&self) {
        self.waiter.unpark();
    }

    fn stop(&self, place: OutOfMemory) {
        let code = match place {
            OutOfMemory::Compiling => 1,
            OutOfMemory::AtStatement(offset) => offset.saturating_add(2),
        };
        self.stopped.store(code, Ordering::Release);
        self.wake();
    }
}

thread_local! {
    /// Bytes this thread may still have allocated at once, while it runs a
    /// budgeted evaluation. `const` and without a destructor, so reading it
    /// from the allocator never allocates.
    static LIMIT: Cell<Option<usize>> = const { Cell::new(None) };
    /// Bytes this thread allocated and has not freed since its budget began.
    static LIVE: Cell<usize> = const { Cell::new(0) };
    /// The watch of this thread's budgeted evaluation; set before the
    /// budget, so the allocator only reads it.
    static WATCH: RefCell<Option<Arc<Watch>>> = const { RefCell::new(None) };
}

/// Runs `evaluate` on this thread with at most `limit` bytes allocated at
/// once. An allocation beyond it stops this thread for good and tells
/// `watch` where: call it on a thread of its own, whose stop its waiter
/// can outlive.
pub(crate) fn with_budget<T>(limit: usize, watch: Arc<Watch>, evaluate: impl FnOnce() -> T) -> T {
    WATCH.set(Some(watch));
    LIVE.set(0);
    LIMIT.set(Some(limit));
    let result = evaluate();
    LIMIT.set(None);
    result
}

/// The system allocator, with the probe's report of a failed allocation
/// and the budget of a thread evaluating in this process.
pub struct EvaluationAllocator;

impl EvaluationAllocator {
    /// Counts `size` more bytes against this thread's budget, if it has
    /// one; stops the thread if they would exceed it.
    #[inline]
    fn charge(size: usize) {
        let Ok(Some(limit)) = LIMIT.try_with(Cell::get) else {
            return;
        };
        let live = LIVE.get();
        if size > limit.saturating_sub(live) {
            EvaluationAllocator::stop_this_thread();
        }
        LIVE.set(live + size);
    }

    #[inline]
    fn refund(size: usize) {
        if let Ok(Some(_)) = LIMIT.try_with(Cell::get) {
            LIVE.set(LIVE.get().saturating_sub(size));
        }
    }

    /// Tells the waiter where the evaluation ran out, and never returns:
    /// the request is not made, and the evaluation goes no further. The
    /// thread sleeps until the process ends (a stopped evaluation ends the
    /// build, and with it the one-shot programs that budget evaluations).
    #[cold]
    fn stop_this_thread() -> ! {
        let place = OutOfMemory::here();
        let _ = WATCH.try_with(|watch| {
            if let Some(watch) = watch.borrow().as_ref() {
                watch.stop(place);
            }
        });
        loop {
            // A sleep allocates nothing, unlike most ways of waiting.
            std::thread::sleep(Duration::from_secs(3600));
        }
    }

    #[cold]
    fn report_failure() {
        if !IS_PROBE.load(Ordering::Relaxed) {
            return;
        }
        ALLOCATION_FAILED.store(true, Ordering::Relaxed);
        // No allocation here: the number is written into a stack buffer.
        let mut line = [0u8; 96];
        let mark = OUT_OF_MEMORY_MARK.len();
        line[..mark].copy_from_slice(OUT_OF_MEMORY_MARK);
        let count = match OutOfMemory::here() {
            OutOfMemory::AtStatement(offset) => write_decimal(&mut line[mark..], offset),
            OutOfMemory::Compiling => {
                line[mark..mark + BEFORE_ANY_STATEMENT.len()].copy_from_slice(BEFORE_ANY_STATEMENT);
                BEFORE_ANY_STATEMENT.len()
            }
        };
        line[mark + count] = b'\n';
        let _ = std::io::stderr().write_all(&line[..mark + count + 1]);
    }
}

/// Writes `n` in decimal at the start of `out`; returns the digits written.
pub(crate) fn write_decimal(out: &mut [u8], mut n: usize) -> usize {
    let mut digits = [0u8; 20];
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for i in 0..count {
        out[i] = digits[count - 1 - i];
    }
    count
}

// SAFETY: every call is passed to `System` unchanged. The additions do not
// allocate: the budget's bookkeeping reads and writes `const` thread
// locals, a stopped thread sleeps instead of returning, and a failure is
// written to stderr from a stack buffer.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for EvaluationAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        EvaluationAllocator::charge(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        let pointer = unsafe { System.alloc(layout) };
        if pointer.is_null() {
            EvaluationAllocator::report_failure();
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        EvaluationAllocator::charge(layout.size());
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            EvaluationAllocator::report_failure();
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        EvaluationAllocator::refund(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::dealloc`'s contract.
        unsafe { System.dealloc(pointer, layout) }
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        match new_size.checked_sub(layout.size()) {
            Some(grown) => EvaluationAllocator::charge(grown),
            None => EvaluationAllocator::refund(layout.size() - new_size),
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if moved.is_null() {
            EvaluationAllocator::report_failure();
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_without_allocating() {
        let mut out = [0u8; 20];
        let n = write_decimal(&mut out, 1_048_576);
        assert_eq!(&out[..n], b"1048576");
        let n = write_decimal(&mut out, 0);
        assert_eq!(&out[..n], b"0");
    }

    /// Runs `work` under a budget of `limit` bytes on a thread of its own;
    /// `None` when the budget stopped it.
    fn budgeted(limit: usize, work: impl FnOnce() + Send + 'static) -> Option<OutOfMemory> {
        let watch = Watch::for_this_thread();
        let worker = std::thread::spawn({
            let watch = watch.clone();
            move || {
                with_budget(limit, watch.clone(), work);
                watch.wake();
            }
        });
        loop {
            if worker.is_finished() {
                return watch.out_of_memory();
            }
            if let Some(place) = watch.out_of_memory() {
                return Some(place);
            }
            std::thread::park_timeout(Duration::from_millis(100));
        }
    }

    #[test]
    fn a_budget_charges_what_is_held_not_what_was_ever_allocated() {
        // 3.2 GiB in all, 32 MiB at once; and a vector grown byte by byte
        // to 48 MiB, charged by what each reallocation adds.
        let stopped = budgeted(64 << 20, || {
            for _ in 0..100 {
                std::hint::black_box(vec![0u8; 32 << 20]);
            }
            let mut grown = Vec::new();
            for i in 0..(48usize << 20) {
                grown.push(i as u8);
            }
            std::hint::black_box(grown);
        });
        assert_eq!(stopped, None);
    }

    #[test]
    fn an_allocation_beyond_the_budget_stops_its_thread_and_says_so() {
        // No statement ran on that thread: it is reported as compiling.
        let stopped = budgeted(1 << 20, || {
            std::hint::black_box(vec![0u8; 2 << 20]);
            unreachable!("the allocation beyond the budget returned");
        });
        assert_eq!(stopped, Some(OutOfMemory::Compiling));
    }

    #[test]
    fn a_watch_tells_where_its_evaluation_stopped() {
        let watch = Watch::for_this_thread();
        assert_eq!(watch.out_of_memory(), None);
        watch.stop(OutOfMemory::AtStatement(0));
        assert_eq!(watch.out_of_memory(), Some(OutOfMemory::AtStatement(0)));
        let watch = Watch::for_this_thread();
        watch.stop(OutOfMemory::Compiling);
        assert_eq!(watch.out_of_memory(), Some(OutOfMemory::Compiling));
    }
}

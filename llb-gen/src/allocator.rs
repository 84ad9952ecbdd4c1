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
pub(crate) enum OutOfMemory {
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
/// it: where it stopped, if it did, whether it ended, and whom to wake.
#[derive(Debug)]
pub(crate) struct Watch {
    /// 0 while within budget; 1 when it ran out before any statement; 2
    /// plus the statement's offset when it ran out in one.
    stopped: AtomicUsize,
    ended: AtomicBool,
    waiter: Thread,
}

impl Watch {
    /// A watch that wakes the calling thread.
    pub(crate) fn for_this_thread() -> Arc<Watch> {
        Arc::new(Watch {
            stopped: AtomicUsize::new(0),
            ended: AtomicBool::new(false),
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

    /// Whether the watched thread has ended.
    pub(crate) fn ended(&self) -> bool {
        self.ended.load(Ordering::Acquire)
    }

    /// Says the watched thread has ended, and wakes the waiter.
    pub(crate) fn end(&self) {
        self.ended.store(true, Ordering::Release);
        self.waiter.unpark();
    }

    fn stop(&self, place: OutOfMemory) {
        let code = match place {
            OutOfMemory::Compiling => 1,
            OutOfMemory::AtStatement(offset) => offset.saturating_add(2),
        };
        self.stopped.store(code, Ordering::Release);
        self.waiter.unpark();
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
    /// Ends the budget however `evaluate` ends, a panic too.
    struct Disarm;
    impl Drop for Disarm {
        fn drop(&mut self) {
            LIMIT.set(None);
        }
    }
    WATCH.set(Some(watch));
    LIVE.set(0);
    LIMIT.set(Some(limit));
    let _disarm = Disarm;
    evaluate()
}

/// Whether this program's global allocator is [`EvaluationAllocator`]:
/// only it charges a budget, so without it a budget bounds nothing.
pub(crate) fn is_installed() -> bool {
    let before = (LIMIT.get(), LIVE.get());
    LIMIT.set(Some(usize::MAX));
    LIVE.set(0);
    let allocated = std::hint::black_box(Box::new(0u64));
    let charged = LIVE.get() > 0;
    drop(allocated);
    LIMIT.set(before.0);
    LIVE.set(before.1);
    charged
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
        let live = LIVE.try_with(Cell::get).unwrap_or(0);
        // Never while panicking: the panic hook runs holding std's locks,
        // which a stopped thread would hold for good. The unwinding
        // evaluation is over anyway.
        if size > limit.saturating_sub(live) && !std::thread::panicking() {
            EvaluationAllocator::stop_this_thread();
        }
        let _ = LIVE.try_with(|held| held.set(live.saturating_add(size)));
    }

    /// Counts `size` bytes again that a failed shrink did not give back:
    /// held already, so never a stop.
    #[inline]
    fn restore(size: usize) {
        if let Ok(Some(_)) = LIMIT.try_with(Cell::get) {
            let _ = LIVE.try_with(|held| held.set(held.get().saturating_add(size)));
        }
    }

    /// Counts `size` fewer bytes (freed, or never given), if the thread has
    /// a budget. Memory from before the budget, freed under it, lowers the
    /// count too: a fresh thread has little.
    #[inline]
    fn refund(size: usize) {
        if let Ok(Some(_)) = LIMIT.try_with(Cell::get) {
            let _ = LIVE.try_with(|held| held.set(held.get().saturating_sub(size)));
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
            if let Ok(watch) = watch.try_borrow()
                && let Some(watch) = watch.as_ref()
            {
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
fn write_decimal(out: &mut [u8], mut n: usize) -> usize {
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
            EvaluationAllocator::refund(layout.size());
            EvaluationAllocator::report_failure();
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        EvaluationAllocator::charge(layout.size());
        // SAFETY: as for `alloc`.
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if pointer.is_null() {
            EvaluationAllocator::refund(layout.size());
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
        let grown = new_size.checked_sub(layout.size());
        match grown {
            Some(grown) => EvaluationAllocator::charge(grown),
            None => EvaluationAllocator::refund(layout.size() - new_size),
        }
        // SAFETY: the caller upholds `GlobalAlloc::realloc`'s contract.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if moved.is_null() {
            // The block keeps its old size.
            match grown {
                Some(grown) => EvaluationAllocator::refund(grown),
                None => EvaluationAllocator::restore(layout.size() - new_size),
            }
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

    /// Runs `work` on a thread of its own; false when it did not finish
    /// within a while (a budget stopped it).
    fn finishes(work: impl FnOnce() + Send + 'static) -> bool {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            work();
            let _ = done.send(());
        });
        finished.recv_timeout(Duration::from_secs(30)).is_ok()
    }

    #[test]
    fn a_budget_ends_with_its_work() {
        assert!(finishes(|| {
            with_budget(1 << 20, Watch::for_this_thread(), || ());
            std::hint::black_box(vec![0u8; 4 << 20]);
        }));
    }

    #[test]
    fn a_budget_ends_when_its_work_panics() {
        assert!(finishes(|| {
            let panicked = std::panic::catch_unwind(|| {
                with_budget(1 << 20, Watch::for_this_thread(), || panic!("a bug"))
            });
            assert!(panicked.is_err());
            std::hint::black_box(vec![0u8; 4 << 20]);
        }));
    }

    #[test]
    fn the_unit_tests_run_with_this_allocator() {
        assert!(is_installed());
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
        assert!(!watch.ended());
        watch.end();
        assert!(watch.ended());
    }
}

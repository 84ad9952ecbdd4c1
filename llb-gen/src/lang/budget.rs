//! Evaluation limits: a budget of statements and a heap bound checked before
//! every statement, so a runaway loop, recursion or allocation stops quickly
//! with an error at the statement that was running.

use std::cell::Cell;
use std::ops::Range;

use starlark::codemap::FileSpanRef;
use starlark::eval::{BeforeStmtFuncDyn, Evaluator};

/// Statements one evaluation may run. The seed example runs a few dozen;
/// a loop over a million items still fits.
pub const MAX_STATEMENTS: u64 = 2_000_000;
/// Starlark's own tick bound (calls and loop iterations), a backstop for
/// loops whose bodies run no statement.
pub const MAX_TICKS: u64 = 4_000_000;
/// Heap bound in bytes.
pub const MAX_HEAP_BYTES: usize = 128 << 20;
/// Nested calls; recursion is the usual way to exceed it.
pub const MAX_CALL_DEPTH: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    #[error("build.envd ran more than {MAX_STATEMENTS} statements; is there a runaway loop?")]
    Statements,
    #[error("build.envd used more than {} MiB of memory", MAX_HEAP_BYTES >> 20)]
    Heap,
}

thread_local! {
    /// The byte range of the statement this thread evaluated last, for
    /// errors that come without a location (the tick bound) and for the
    /// allocator to name when a statement exhausts the evaluation's memory
    /// (`crate::allocator`).
    static LAST_STATEMENT: Cell<Option<(usize, usize)>> = const { Cell::new(None) };
}

/// The statement this thread evaluated last; `None` before the first,
/// while Starlark compiles the file (and computes its constants).
pub fn last_statement() -> Option<Range<usize>> {
    // Read from the allocator too, so never a panic: on a thread being
    // torn down there is none.
    let (start, end) = LAST_STATEMENT.try_with(Cell::get).ok().flatten()?;
    Some(start..end)
}

/// Counts statements and checks the heap before each one; for build.envd's
/// own evaluation it also records the statement running.
pub struct StatementBudget {
    remaining: u64,
    /// The build file whose statements' places are recorded (a function
    /// of an included file runs statements of that file).
    records: Option<String>,
}

impl StatementBudget {
    /// A budget for one evaluation; no statement has run in it yet.
    pub fn new(build_file: &str) -> StatementBudget {
        LAST_STATEMENT.set(None);
        StatementBudget {
            remaining: MAX_STATEMENTS,
            records: Some(build_file.to_string()),
        }
    }

    /// A budget for an included file: its statements' places are in
    /// another file, so the build.envd statement that included it stays
    /// the one recorded.
    pub fn for_included() -> StatementBudget {
        StatementBudget {
            remaining: MAX_STATEMENTS,
            records: None,
        }
    }
}

impl<'e> BeforeStmtFuncDyn<'e> for StatementBudget {
    fn call<'v>(
        &mut self,
        span: FileSpanRef,
        _continued: bool,
        eval: &mut Evaluator<'v, '_, 'e>,
    ) -> starlark::Result<()> {
        if self.records.as_deref() == Some(span.file.filename()) {
            LAST_STATEMENT.set(Some((
                span.span.begin().get() as usize,
                span.span.end().get() as usize,
            )));
        }
        let exceeded = if self.remaining == 0 {
            Some(LimitError::Statements)
        } else if eval.heap().allocated_bytes() > MAX_HEAP_BYTES {
            Some(LimitError::Heap)
        } else {
            None
        };
        self.remaining = self.remaining.saturating_sub(1);
        match exceeded {
            None => Ok(()),
            Some(limit) => {
                let mut err = starlark::Error::new_other(limit);
                err.set_span(span.span, span.file);
                Err(err)
            }
        }
    }
}

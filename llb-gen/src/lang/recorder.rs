//! The recorder builtins write into, reached through `Evaluator::extra`:
//! the calls in source order, each with its span and call chain, and the
//! warnings seen on the way.

// `derive(ProvidesStaticType)` expands to an `unsafe impl` starlark needs to
// hand the recorder back through `Evaluator::extra`; no unsafe code of ours.
#![allow(unsafe_code)]

use std::cell::RefCell;

use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::eval::Evaluator;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{CallSite, Located, Recorded, Span};

use super::args::BuiltinError;

#[derive(ProvidesStaticType)]
pub struct Recorder {
    pub source: SourceText,
    pub calls: RefCell<Vec<Recorded>>,
    pub warnings: RefCell<Vec<Diagnostic>>,
}

impl Recorder {
    pub fn new(source: &SourceText) -> Recorder {
        Recorder {
            source: source.clone(),
            calls: RefCell::new(vec![]),
            warnings: RefCell::new(vec![]),
        }
    }

    /// The recorder of the evaluation a builtin runs in.
    pub fn of<'a>(eval: &Evaluator<'_, 'a, '_>) -> Result<&'a Recorder, BuiltinError> {
        eval.extra
            .and_then(|extra| extra.downcast_ref::<Recorder>())
            .ok_or_else(|| {
                BuiltinError::new("internal error: builtin called outside a build.envd evaluation")
            })
    }

    /// Where the builtin being run was called, with the chain of calls to it.
    pub fn span(&self, eval: &Evaluator) -> Span {
        let site = |file_span: FileSpan| {
            let start = file_span.span.begin().get() as usize;
            CallSite {
                start,
                end: file_span.span.end().get() as usize,
                line: self.source.line_col(start).0,
            }
        };
        let mut chain: Vec<CallSite> = (1..)
            .map_while(|n| eval.call_stack_nth_location(n))
            .map(site)
            .collect();
        chain.reverse();
        let here = eval
            .call_stack_top_location()
            .map(site)
            .unwrap_or(CallSite {
                start: 0,
                end: 0,
                line: 1,
            });
        Span {
            start: here.start,
            end: here.end,
            line: here.line,
            called_from: chain,
        }
    }

    pub fn record<T>(&self, eval: &Evaluator, value: T, wrap: fn(Located<T>) -> Recorded) {
        let span = self.span(eval);
        self.calls.borrow_mut().push(wrap(Located { value, span }));
    }

    pub fn warn(&self, eval: &Evaluator, message: String, help: &str) {
        let span = self.span(eval);
        self.warnings
            .borrow_mut()
            .push(Diagnostic::warning(&self.source, Some(span.range()), message).with_help(help));
    }
}

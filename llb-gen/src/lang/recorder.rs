//! The recorder builtins write into, reached through `Evaluator::extra`:
//! the calls in source order, each with its span and call chain, and the
//! warnings seen on the way.

// `derive(ProvidesStaticType)` expands to an `unsafe impl` starlark needs to
// hand the recorder back through `Evaluator::extra`; no unsafe code of ours.
#![allow(unsafe_code)]

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::BTreeMap;
use std::ops::Range;

use starlark::any::ProvidesStaticType;
use starlark::codemap::FileSpan;
use starlark::environment::Globals;
use starlark::eval::Evaluator;
use starlark::values::OwnedFrozenValue;

use crate::builtins::Step;
use crate::builtins::{BuiltinError, Recording};
use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, CallSite, CudaRequest, Located, Span};
use crate::limits::MAX_STEPS;
use crate::lint::Rule;
use crate::plan::Recorded;

use crate::includes::IncludedModules;

#[derive(ProvidesStaticType)]
pub struct Recorder {
    pub source: SourceText,
    pub calls: RefCell<Vec<Recorded>>,
    /// Steps recorded so far, against [`MAX_STEPS`].
    steps: Cell<usize>,
    pub warnings: RefCell<Vec<Diagnostic>>,
    /// What the `include` global works with.
    pub includes: IncludeState,
}

/// The state of `include` (`super::include`) during one evaluation.
pub struct IncludeState {
    /// The repositories `include` may evaluate, fetched beforehand.
    pub fetched: IncludedModules,
    /// The globals, for `include` to evaluate files with.
    pub globals: OnceCell<Globals>,
    /// The `include` call being evaluated, for calls its files make.
    pub site: Cell<Option<CallSite>>,
    /// URLs whose files are being evaluated, innermost last (a cycle is
    /// an error).
    pub chain: RefCell<Vec<String>>,
    /// Included modules evaluated so far, by URL.
    pub modules: RefCell<BTreeMap<String, Vec<(String, OwnedFrozenValue)>>>,
}

impl Recorder {
    pub fn new(source: &SourceText, includes: IncludedModules) -> Recorder {
        Recorder {
            source: source.clone(),
            calls: RefCell::new(vec![]),
            steps: Cell::new(0),
            warnings: RefCell::new(vec![]),
            includes: IncludeState {
                fetched: includes,
                globals: OnceCell::new(),
                site: Cell::new(None),
                chain: RefCell::new(vec![]),
                modules: RefCell::new(BTreeMap::new()),
            },
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

    /// Where the builtin being run was called, with the chain of calls to
    /// it: places in build.envd only (a call inside an included file is at
    /// the build.envd line that led to it).
    pub fn span(&self, eval: &Evaluator) -> Span {
        let in_build_file = |file_span: &FileSpan| file_span.file.filename() == self.source.name();
        let site = |file_span: FileSpan| {
            let start = file_span.span.begin().get() as usize;
            CallSite {
                start,
                end: file_span.span.end().get() as usize,
                line: self.source.line_col(start).0,
            }
        };
        let mut frames: Vec<FileSpan> = eval
            .call_stack_top_location()
            .into_iter()
            .chain((1..).map_while(|n| eval.call_stack_nth_location(n)))
            .filter(in_build_file)
            .collect();
        let here = if frames.is_empty() {
            // A call made while an included file is evaluated: at the
            // `include` call, when that is known.
            self.includes.site.get().unwrap_or(CallSite {
                start: 0,
                end: 0,
                line: 1,
            })
        } else {
            site(frames.remove(0))
        };
        let mut chain: Vec<CallSite> = frames.into_iter().map(site).collect();
        chain.reverse();
        Span {
            start: here.start,
            end: here.end,
            line: here.line,
            called_from: chain,
        }
    }

    /// The recorder for the builtin call being run.
    pub fn at_call<'a>(&'a self, eval: &Evaluator) -> CallRecording<'a> {
        CallRecording {
            recorder: self,
            span: self.span(eval),
        }
    }
}

/// What one builtin call records, located at that call.
pub struct CallRecording<'a> {
    recorder: &'a Recorder,
    span: Span,
}

impl CallRecording<'_> {
    fn located<T>(&self, value: T) -> Located<T> {
        Located {
            value,
            span: self.span.clone(),
        }
    }

    fn push(&self, call: Recorded) {
        self.recorder.calls.borrow_mut().push(call);
    }
}

impl Recording for CallRecording<'_> {
    fn base(&mut self, value: BaseRequest) {
        self.push(Recorded::Base(self.located(value)));
    }

    fn cuda(&mut self, value: CudaRequest) {
        self.push(Recorded::Cuda(self.located(value)));
    }

    fn step(&mut self, value: Step) -> Result<(), BuiltinError> {
        let steps = self.recorder.steps.get() + 1;
        if steps > MAX_STEPS {
            return Err(BuiltinError::new(format!(
                "build.envd makes more than {MAX_STEPS} steps"
            ))
            .help("an image of that many steps is beyond what BuildKit handles well; combine commands into fewer run() steps"));
        }
        self.recorder.steps.set(steps);
        self.push(Recorded::Step(self.located(value)));
        Ok(())
    }

    fn warn_at(
        &mut self,
        rule: &'static Rule,
        at: Option<Range<usize>>,
        message: String,
        help: &str,
    ) {
        let warning = Diagnostic::warning(
            rule,
            &self.recorder.source,
            Some(at.unwrap_or_else(|| self.span.range())),
            message,
        )
        .with_help(help);
        self.recorder.warnings.borrow_mut().push(warning);
    }

    fn locate_in_argument(&self, literal: &str, index: usize) -> Option<Range<usize>> {
        let source = &self.recorder.source;
        let call = source.text().get(self.span.range())?;
        call.find(literal).map(|at| {
            // An error at the end of the text (an unclosed bracket) belongs
            // to the last line of the string, not the closing quotes.
            let offset = self.span.start + at + index.min(literal.len());
            source.span_before(if index >= literal.len() {
                offset.saturating_sub(1)
            } else {
                offset
            })
        })
    }
}

//! The build.envd language: Starlark with `load` disabled, evaluation
//! limits, build args, and the envd builtins of [`crate::builtins`] as
//! Starlark functions. The only module that imports `starlark`. Evaluating
//! a file records its calls into the IR.

mod args;
mod function;
mod include;
mod budget;
mod nesting;
mod outline;
mod parse_errors;
mod recorder;
mod whitespace;

use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

use starlark::ErrorKind;
use starlark::environment::{GlobalsBuilder, LibraryExtension, Module};
use starlark::eval::{BeforeStmtFunc, Evaluator};
use starlark::syntax::{AstModule, Dialect};
use starlark::values::Value;

use crate::builtins::{self, BuiltinError, Spec};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceText};
use crate::includes::IncludedModules;
use crate::ir::Syntax;
use crate::limits::{MAX_BUILD_FILE_BYTES, describe_bytes};
use crate::plan::{self, BuildSpec};
use crate::validate::{closest, find_on_line};

pub use budget::last_statement;

/// The bounds of the evaluation itself (`budget`, `nesting`), for the
/// documentation's table.
pub fn bounds() -> Vec<crate::limits::Bound> {
    use crate::limits::Bound;
    let count = |n: u64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    vec![
        Bound::new(
            "Starlark statements; calls and loop iterations",
            format!(
                "{}; {}",
                count(budget::MAX_STATEMENTS),
                count(budget::MAX_TICKS)
            ),
            "the statement",
        ),
        Bound::new(
            "Starlark heap, checked before each statement",
            crate::limits::describe_bytes(budget::MAX_HEAP_BYTES),
            "the statement",
        ),
        Bound::new(
            "nested calls",
            budget::MAX_CALL_DEPTH.to_string(),
            "the call",
        ),
        Bound::new(
            "brackets open at once in build.envd",
            nesting::MAX_BRACKET_DEPTH.to_string(),
            "the bracket",
        ),
        Bound::new(
            "operators in one statement (each can nest an expression)",
            nesting::MAX_OPERATORS.to_string(),
            "the operator",
        ),
    ]
}
pub use outline::{BuildArgRead, FileOutline, Target, outline};
pub use whitespace::expand as expand_whitespace;

use budget::LimitError;
use function::EnvdFunction;
use recorder::Recorder;

/// The function run when no target is given.
pub const DEFAULT_TARGET: &str = "build";
/// envd v0's predeclared path of the build context.
pub const BUILD_CONTEXT_DIR_GLOBAL: &str = "_build_context_dir";
/// The predeclared, read-only dict of build args.
pub const BUILD_ARGS_GLOBAL: &str = "build_args";

/// The spec a file evaluates to, with the warnings it produced.
#[derive(Debug)]
pub struct Evaluated {
    pub spec: BuildSpec,
    pub warnings: Vec<Diagnostic>,
}

/// Build files, one per syntax, that use what every evaluation shares
/// (see [`warm_up`]).
const WARM_UP: [(Syntax, &str); 2] = [
    (
        Syntax::V0,
        "def build():\n    base(os=\"ubuntu22.04\", language=\"python3\")\n    run(commands=[\"echo {}\".format(\" \".join([str(1)]))])\n",
    ),
    (
        Syntax::V1,
        "def build():\n    base(image=\"ubuntu:22.04\")\n    run(commands=[\"echo {}\".format(\" \".join([str(1)]))])\n",
    ),
];

/// Builds, once per process, what the first evaluation would otherwise
/// build before it runs a line: Starlark's standard library with its
/// documentation, its string methods, and each syntax's builtins (most of
/// a first evaluation: when `llb-gen` still used the probe, its evaluation
/// after the probe went from about 4 ms to about 1 ms). It evaluates these
/// fixed files, so it needs no bound: a caller does it while it waits (the
/// frontend while it reads the build file, the language server while the
/// probe evaluates).
pub fn warm_up() {
    static WARMED: std::sync::Once = std::sync::Once::new();
    WARMED.call_once(|| {
        for (syntax, text) in WARM_UP {
            // Only what it builds on the way matters, not its result.
            let _ = evaluate_warm_up_file(syntax, text);
        }
    });
}

/// One of the [`WARM_UP`] files, evaluated.
fn evaluate_warm_up_file(syntax: Syntax, text: &str) -> Result<Evaluated, Diagnostics> {
    evaluate_as(
        syntax,
        &SourceText::new("warm-up.envd", text),
        DEFAULT_TARGET,
        &BTreeMap::new(),
        &IncludedModules::new(),
    )
}

/// Evaluates build.envd and runs its target function (default `build`).
/// The error carries the warnings seen before it, then the error. A file
/// whose first line names no syntax is v0's when v0 accepts it, as AIGES
/// files are; else v1's when v1 accepts it, with a warning at line 1;
/// else the error of the syntax that got further into the file.
pub fn evaluate(
    source: &SourceText,
    target: Option<&str>,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<Evaluated, Diagnostics> {
    let target = target.unwrap_or(DEFAULT_TARGET);
    if let Some(error) = too_large(source) {
        return Err(Diagnostics(vec![error]));
    }
    if let Some(syntax) = Syntax::declared(source.text()) {
        return evaluate_as(syntax, source, target, build_args, includes);
    }
    let v0_error = match evaluate_as(Syntax::V0, source, target, build_args, includes) {
        Ok(evaluated) => return Ok(evaluated),
        Err(error) => error,
    };
    // A file that ran out of a bound is not evaluated again.
    if v0_error.first_error().is_some_and(|e| is_limit(&e.message)) {
        return Err(v0_error);
    }
    match evaluate_as(Syntax::V1, source, target, build_args, includes) {
        Ok(mut evaluated) => {
            evaluated
                .warnings
                .insert(0, header_missing(source, &v0_error));
            Ok(evaluated)
        }
        Err(v1_error) => {
            let at = |d: &Diagnostics| {
                d.first_error()
                    .and_then(|e| e.span.clone())
                    .map(|s| s.start)
            };
            // A name or parameter the syntax does not have.
            let lacks = |d: &Diagnostics, syntax: Syntax| {
                d.first_error().is_some_and(|e| {
                    let name = syntax.name();
                    e.message.contains("has no parameter")
                        || e.message.contains(&format!("or by envd {name}"))
                        || e.message
                            .contains(&format!("is not an envd {name} function"))
                })
            };
            // A file that uses a name only v1 has is v1's, whatever stops v1;
            // one that uses a name only v0 has is v0's.
            match (lacks(&v0_error, Syntax::V0), lacks(&v1_error, Syntax::V1)) {
                (true, false) => Err(v1_error),
                (false, true) => Err(v0_error),
                // Else the syntax whose error comes later in the file got
                // further (at the same place, v0's).
                _ if at(&v1_error) > at(&v0_error) => Err(v1_error),
                _ => Err(v0_error),
            }
        }
    }
}

/// Whether an error is an evaluation bound's (statements, heap, calls).
fn is_limit(message: &str) -> bool {
    ["ran more than", "used more than", "nest more than"]
        .iter()
        .any(|bound| message.contains(bound))
}

/// The warning on a file without `# syntax=v1` that only envd v1 accepts.
fn header_missing(source: &SourceText, v0_error: &Diagnostics) -> Diagnostic {
    let first_line = source.text().lines().next().unwrap_or_default().len();
    let mut warning = Diagnostic::warning(
        &crate::lint::SYNTAX_HEADER_MISSING,
        source,
        Some(0..first_line),
        "build.envd has no `# syntax=v1` line and only envd v1 accepts it: it is built as envd v1",
    )
    .with_help(match source.text().lines().next() {
        // A directive naming this frontend: `v1` after it says which.
        Some(line) if line.trim_start().starts_with("# syntax=") => {
            format!("write `{} v1` as its first line", line.trim_end())
        }
        _ => {
            "add `# syntax=v1` (or `# syntax=aiges/envd-frontend v1`) as its first line".to_string()
        }
    });
    if let Some(error) = v0_error.first_error() {
        warning = warning.with_help(format!("as envd v0: {}", error.message));
    }
    warning
}

/// Evaluates the file as `syntax`.
fn evaluate_as(
    syntax: Syntax,
    source: &SourceText,
    target: &str,
    build_args: &BTreeMap<String, String>,
    includes: &IncludedModules,
) -> Result<Evaluated, Diagnostics> {
    let recorder = Recorder::new(source, includes.clone());
    // starlark-rust asserts on some overflows (e.g. string lengths) instead of
    // returning errors; a panic there must still end as a located diagnostic.
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        run(source, syntax, target, build_args, &recorder)
    }));
    let warnings = recorder.warnings.take();
    let fail = |error: Diagnostic| Diagnostics::after_warnings(warnings.clone(), [error]);
    match outcome {
        Ok(Ok(target_span)) => {
            let mut warnings = warnings.clone();
            let spec = plan::assemble(
                source,
                syntax,
                target,
                target_span,
                recorder.calls.take(),
                &mut warnings,
            )
            .map_err(fail)?;
            Ok(Evaluated { spec, warnings })
        }
        Ok(Err(error)) => Err(fail(error)),
        Err(_) => Err(fail(
            Diagnostic::error(
                source,
                None,
                "evaluation stopped: the Starlark interpreter failed on this file",
            )
            .with_help(
                "this is usually an extremely large value; simplify the expression that builds it",
            ),
        )),
    }
}

/// Parses, evaluates the module, then calls the target function; returns
/// the target function's span for whole-file errors.
fn run(
    source: &SourceText,
    syntax: Syntax,
    target: &str,
    build_args: &BTreeMap<String, String>,
    recorder: &Recorder,
) -> Result<std::ops::Range<usize>, Diagnostic> {
    let dialect = dialect();
    nesting::check(source.text())
        .map_err(|too_deep| Diagnostic::error(source, Some(too_deep.span), too_deep.message))?;
    let ast = AstModule::parse(source.name(), source.text().to_string(), &dialect)
        .map_err(|e| parse_error(source, e))?;
    let mut globals = GlobalsBuilder::extended_by(&[
        LibraryExtension::StructType,
        LibraryExtension::Json,
        LibraryExtension::Map,
        LibraryExtension::Filter,
    ]);
    add_builtins(&mut globals, syntax);
    globals.set(BUILD_ARGS_GLOBAL, build_args.clone());
    globals.set("include", include::IncludeFunction);
    // envd's absolute path of the build context; paths here are relative
    // to the context, so `_build_context_dir + "/models"` names ./models.
    globals.set(BUILD_CONTEXT_DIR_GLOBAL, ".");
    let globals = globals.build();
    let _ = recorder.includes.globals.set(globals.clone());

    Module::with_temp_heap(|module| {
        let mut eval = Evaluator::new(&module);
        eval.extra = Some(recorder);
        let limit =
            |e: anyhow::Error| Diagnostic::error(source, None, format!("internal error: {e}"));
        eval.set_max_callstack_size(budget::MAX_CALL_DEPTH)
            .map_err(limit)?;
        eval.set_max_tick_count(budget::MAX_TICKS).map_err(limit)?;
        eval.before_stmt_for_dap(BeforeStmtFunc::from_dyn(Box::new(
            budget::StatementBudget::new(source.name()),
        )));
        // Errors without a location of their own (the tick bound) are
        // at the statement that was running.
        let at_statement = |d: Diagnostic| d.with_location_if_missing(budget::last_statement());

        eval.eval_module(ast, &globals)
            .map_err(|e| at_statement(to_diagnostic(source, syntax, e)))?;
        let target_span = find_def(source.text(), target);
        let function = match module.get(target) {
            Some(value) if is_callable(value) => value,
            _ => return Err(missing_target(source, target, &module)),
        };
        eval.eval_function(function, &[], &[]).map_err(|e| {
            at_statement(to_diagnostic(source, syntax, e))
                .with_location_if_missing(target_span.clone())
        })?;
        Ok(target_span.unwrap_or(0..0))
    })
}

/// The error for a file over the size bound, located where it is passed.
fn too_large(source: &SourceText) -> Option<Diagnostic> {
    (source.text().len() > MAX_BUILD_FILE_BYTES).then(|| {
        Diagnostic::error(
            source,
            Some(source.span_before(MAX_BUILD_FILE_BYTES)),
            format!(
                "build.envd is {} bytes, more than the {} a build file may be",
                source.text().len(),
                describe_bytes(MAX_BUILD_FILE_BYTES)
            ),
        )
    })
}

/// envd v0's `data.path` strings: folders of well-known datasets, for
/// `runtime.mount(envd_path=...)`.
const DATA_PATHS: &[(&str, &str)] = &[("huggingface", "~/.cache/huggingface"), ("dgl", "~/.dgl")];

/// Starlark as build files are written: envd's dialect, `load` off.
fn dialect() -> Dialect {
    Dialect {
        enable_load: false,
        ..Dialect::Extended
    }
}

/// The builtins of `syntax`: top-level ones as globals, the others in
/// their namespace (`io.copy`).
fn add_builtins(globals: &mut GlobalsBuilder, syntax: Syntax) {
    let mut namespaces: Vec<(&str, Vec<&'static Spec>)> = vec![];
    for spec in builtins::of_syntax(syntax) {
        match spec.split_name() {
            (None, name) => globals.set(name, EnvdFunction::new(spec)),
            (Some(namespace), _) => match namespaces.iter_mut().find(|(n, _)| *n == namespace) {
                Some((_, specs)) => specs.push(spec),
                None => namespaces.push((namespace, vec![spec])),
            },
        }
    }
    for (namespace, specs) in namespaces {
        globals.namespace(namespace, |members| {
            for spec in specs {
                members.set(spec.split_name().1, EnvdFunction::new(spec));
            }
            if namespace == "data" {
                members.namespace("path", |paths| {
                    for (name, path) in DATA_PATHS {
                        paths.set(name, *path);
                    }
                });
            }
        });
    }
}

fn is_callable(value: Value) -> bool {
    matches!(value.get_type(), "function" | "native_function")
}

/// Byte range of `def NAME` in the text, for errors about the function.
fn find_def(text: &str, name: &str) -> Option<std::ops::Range<usize>> {
    find_on_line(text, |line| {
        let rest = line.strip_prefix("def ")?;
        let is_def = rest
            .trim_start()
            .strip_prefix(name)
            .is_some_and(|r| r.trim_start().starts_with('('));
        // `rest` starts after "def "; the name starts after its spaces.
        let start = line.len() - rest.trim_start().len();
        is_def.then_some(0..start + name.len())
    })
}

fn missing_target(source: &SourceText, target: &str, module: &Module) -> Diagnostic {
    let functions: Vec<String> = module
        .names()
        .filter(|name| module.get(name.as_str()).is_some_and(is_callable))
        .map(|name| name.as_str().to_string())
        .collect();
    let close = closest(target, functions.iter().map(String::as_str));
    // About the whole file: shown at the function meant, or at its start.
    let span = close
        .and_then(|close| find_def(source.text(), close))
        .unwrap_or(0..0);
    let mut d = Diagnostic::error(
        source,
        Some(span),
        format!("build.envd defines no function `{target}` to build"),
    );
    if let Some(close) = close {
        d = d.with_help(format!("did you mean `{close}`?"));
    }
    if functions.is_empty() {
        d.with_help(
            "define `def build():` and call base(...) and the install/io/config functions in it",
        )
    } else {
        d.with_help(format!("functions in this file: {}", functions.join(", ")))
    }
}

/// A parse error, named by its cause where the text shows it (a merge
/// conflict left in the file, a missing comma between strings).
pub(super) fn parse_error(source: &SourceText, error: starlark::Error) -> Diagnostic {
    let diagnostic = to_diagnostic(source, Syntax::of(source.text()), error);
    if let Some(conflict) = parse_errors::conflict_marker(source, diagnostic.span.as_ref()) {
        return conflict;
    }
    diagnostic
        .span
        .as_ref()
        .and_then(|at| parse_errors::missing_comma(source, at))
        .unwrap_or(diagnostic)
}

/// A Starlark error as a diagnostic at the innermost location, with notes
/// for the calls that led there; names are `syntax`'s.
fn to_diagnostic(source: &SourceText, syntax: Syntax, error: starlark::Error) -> Diagnostic {
    let in_build_file = |file: &starlark::codemap::CodeMap| file.filename() == source.name();
    let range = |s: &starlark::codemap::FileSpan| {
        s.span.begin().get() as usize..s.span.end().get() as usize
    };
    // An error in an included file is shown at the build.envd call that
    // led there, its own place named in the message.
    let elsewhere = error.span().filter(|s| !in_build_file(&s.file)).map(|s| {
        format!(
            "{}:{}: ",
            s.file.filename(),
            s.resolve_span().begin.line + 1
        )
    });
    let span = match error.span() {
        Some(s) if in_build_file(&s.file) => Some(range(s)),
        _ => error
            .call_stack()
            .frames
            .iter()
            .rev()
            .filter_map(|frame| frame.location.as_ref())
            .find(|location| in_build_file(&location.file))
            .map(range),
    };
    let native = match error.kind() {
        ErrorKind::Native(e)
        | ErrorKind::Other(e)
        | ErrorKind::Function(e)
        | ErrorKind::Value(e) => Some(e),
        _ => None,
    };
    let mut d = match native.and_then(|e| e.downcast_ref::<BuiltinError>()) {
        Some(b) => {
            let d = Diagnostic::error(source, b.span.clone().or(span.clone()), b.message.clone());
            match &b.help {
                Some(help) => d.with_help(help.clone()),
                None => d,
            }
        }
        None => {
            let message = match native.and_then(|e| e.downcast_ref::<LimitError>()) {
                Some(limit) => limit.to_string(),
                None => error.without_diagnostic().to_string(),
            };
            let message = first_line(&message);
            let called = span.as_ref().and_then(|s| source.text().get(s.clone()));
            let (message, helps) = match unknown_name(&message, called, syntax) {
                Some(reworded) => reworded,
                None => (friendlier(message), vec![]),
            };
            let message = match &elsewhere {
                Some(place) => format!("in {place}{message}"),
                None => message,
            };
            helps.into_iter().fold(
                Diagnostic::error(source, span.clone(), message),
                Diagnostic::with_help,
            )
        }
    };
    let frames = &error.call_stack().frames;
    for frame in frames.iter().rev().skip(1) {
        if let Some(location) = frame.location.as_ref().filter(|l| in_build_file(&l.file)) {
            let range = range(location);
            if Some(&range) != span.as_ref() && frame.name != "<module>" {
                d = d.with_note_at(range, format!("`{}` was called here", frame.name));
            }
        }
    }
    d
}

/// A name build.envd uses that is not defined, or not an envd function of
/// its namespace: the message says so in envd's terms, with the nearest
/// name and the namespace's functions as help. `called` is the text the
/// error points at (`install.pyton_packages(...)`).
fn unknown_name(
    message: &str,
    called: Option<&str>,
    syntax: Syntax,
) -> Option<(String, Vec<String>)> {
    // Starlark: "Variable `bsae` not found, did you mean `base`?" and
    // "Object of type `namespace` has no attribute `x`, did you mean `y`?".
    let quoted = |text: &str| -> Vec<String> {
        text.split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_string)
            .collect()
    };
    if let Some(rest) = message.strip_prefix("Variable `") {
        let names = quoted(message);
        let name = rest.split('`').next()?;
        let mut helps = vec![];
        if let Some(close) = names.get(1) {
            helps.push(format!("did you mean `{close}`?"));
        }
        return Some((
            format!(
                "`{name}` is not defined in build.envd or by envd {}",
                syntax.name()
            ),
            helps,
        ));
    }
    if message.starts_with("Object of type `namespace` has no attribute `") {
        let names = quoted(message);
        let member = names.get(1)?;
        let namespace = called?
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
            .next()?
            .strip_suffix(&format!(".{member}"))?;
        let mut helps = vec![];
        if let Some(close) = names.get(2) {
            helps.push(format!("did you mean `{namespace}.{close}`?"));
        }
        let functions: Vec<&str> = builtins::of_syntax(syntax)
            .filter_map(|spec| match spec.split_name() {
                (Some(ns), name) if ns == namespace => Some(name),
                _ => None,
            })
            .collect();
        if !functions.is_empty() {
            helps.push(format!(
                "envd {}'s {namespace} functions: {}",
                syntax.name(),
                functions.join(", ")
            ));
        }
        return Some((
            format!(
                "`{namespace}.{member}` is not an envd {} function",
                syntax.name()
            ),
            helps,
        ));
    }
    None
}

/// Rewords the interpreter messages users of build files meet most.
fn friendlier(message: String) -> String {
    match message.as_str() {
        "Immutable" => format!(
            "this value cannot be changed: {BUILD_ARGS_GLOBAL} and values defined at the top of the file are read-only"
        ),
        "Starlark call stack overflow" => format!(
            "calls nest more than {} deep; build files cannot recurse without bound",
            budget::MAX_CALL_DEPTH
        ),
        m if m.starts_with("`load` is not allowed") => {
            "load() is not supported: a build file loads no other files; share functions with include(git=\"URL\")".to_string()
        }
        m if m.starts_with("Execution duration limit") => format!(
            "build.envd ran more than {} loop iterations and calls; is there a runaway loop?",
            budget::MAX_TICKS
        ),
        _ => message,
    }
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

impl Diagnostic {
    fn with_location_if_missing(mut self, span: Option<std::ops::Range<usize>>) -> Diagnostic {
        if self.span.is_none() {
            self.span = span;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_build_file_past_the_size_bound_is_refused_where_it_passes_it() {
        let line = "# padding padding padding padding padding padding padding\n";
        let text = format!(
            "def build():\n    base(os=\"ubuntu22.04\")\n{}",
            line.repeat(20_000)
        );
        assert!(text.len() > MAX_BUILD_FILE_BYTES);
        let source = SourceText::new("build.envd", text);
        let errors =
            evaluate(&source, None, &BTreeMap::new(), &IncludedModules::new()).unwrap_err();
        let error = errors.first_error().unwrap();
        assert!(
            error.message.contains("more than the 1 MiB"),
            "{}",
            error.message
        );
        let line = error.line().unwrap();
        assert!(
            line > 17_000,
            "at the line that passes the bound, not {line}"
        );
    }

    #[test]
    fn the_warm_up_file_calls_a_builtin_and_a_string_method_in_both_syntaxes() {
        for (syntax, text) in WARM_UP {
            let out = evaluate_warm_up_file(syntax, text)
                .unwrap_or_else(|d| panic!("{syntax:?}: {}", d.render()));
            let run = format!("{:?}", out.spec.steps.last().unwrap().value);
            assert!(run.contains("echo 1"), "{syntax:?}: {run}");
        }
        warm_up();
        warm_up();
    }

    #[test]
    fn seed_example_smoke() {
        let text = include_str!("../../tests/fixtures/valid/seed/build.envd");
        let source = SourceText::new("build.envd", text);
        let out = evaluate(&source, None, &BTreeMap::new(), &IncludedModules::new())
            .unwrap_or_else(|d| panic!("{}", d.render()));
        assert_eq!(out.spec.steps.len(), 9);
        let pip = &out.spec.steps[0].span;
        assert_eq!(pip.line, 22);
        assert_eq!(pip.called_from.len(), 1);
        assert_eq!(pip.called_from[0].line, 2);
        assert_eq!(out.spec.base.span.line, 3);
    }
}

//! The `include` global: evaluates the `*.envd` files of a repository
//! fetched before evaluation (`crate::includes`), each as a module, and
//! returns their public names as envd's module did. Its state (what was
//! fetched, the modules so far, the chain being included) is the
//! recorder's.

// `derive(ProvidesStaticType)` expands to an `unsafe impl` starlark needs
// for values it stores; no unsafe code of ours.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

use allocative::Allocative;
use starlark::any::ProvidesStaticType;
use starlark::environment::{Globals, Module};
use starlark::eval::{Arguments, BeforeStmtFunc, Evaluator};
use starlark::starlark_simple_value;
use starlark::syntax::AstModule;
use starlark::values::structs::AllocStruct;
use starlark::values::{NoSerialize, OwnedFrozenValue, StarlarkValue, Value, starlark_value};

use super::recorder::Recorder;
use super::{budget, first_line, nesting, whitespace};
use crate::builtins::BuiltinError;
use crate::includes::IncludedFile;
use crate::ir::CallSite;

/// The `include` global.
#[derive(ProvidesStaticType, NoSerialize, Allocative, Debug)]
pub struct IncludeFunction;

impl fmt::Display for IncludeFunction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("include")
    }
}

starlark_simple_value!(IncludeFunction);

#[starlark_value(type = "function")]
impl<'v> StarlarkValue<'v> for IncludeFunction {
    fn invoke(
        &self,
        _me: Value<'v>,
        args: &Arguments<'v, '_>,
        eval: &mut Evaluator<'v, '_, '_>,
    ) -> starlark::Result<Value<'v>> {
        let url = url_argument(args, eval).map_err(starlark::Error::new_other)?;
        include(&url, eval).map_err(starlark::Error::new_other)
    }
}

fn url_argument<'v>(
    args: &Arguments<'v, '_>,
    eval: &Evaluator<'v, '_, '_>,
) -> Result<String, BuiltinError> {
    let heap = eval.heap();
    let positional: Vec<Value> = args
        .positions(heap)
        .map_err(|e| BuiltinError::new(e.to_string()))?
        .collect();
    let named = args
        .names_map()
        .map_err(|e| BuiltinError::new(e.to_string()))?;
    let value = match (positional.as_slice(), named.len()) {
        ([value], 0) => *value,
        ([], 1) => match named.get("git") {
            Some(value) => *value,
            None => {
                return Err(BuiltinError::new(
                    "include(): the only parameter is `git`, the repository's URL",
                ));
            }
        },
        _ => {
            return Err(BuiltinError::new(
                "include() takes one argument: git=\"URL\" of the repository",
            ));
        }
    };
    value
        .unpack_str()
        .map(str::to_string)
        .ok_or_else(|| BuiltinError::new("include(): `git` must be a string"))
}

/// Evaluates the included repository's files, each as a module, and
/// returns a struct of their public names, as envd's module did.
fn include<'v>(url: &str, eval: &mut Evaluator<'v, '_, '_>) -> Result<Value<'v>, BuiltinError> {
    let recorder = Recorder::of(eval)?;
    if let Some(members) = recorder.includes.modules.borrow().get(url) {
        // Evaluated once, as envd's loader cached modules.
        let members: Vec<(String, Value<'v>)> = members
            .iter()
            .map(|(name, value)| (name.clone(), eval.heap().access_owned_frozen_value(value)))
            .collect();
        return Ok(eval.heap().alloc(AllocStruct(members)));
    }
    if recorder.includes.chain.borrow().iter().any(|u| u == url) {
        let chain = recorder.includes.chain.borrow().join(" -> ");
        return Err(BuiltinError::new(format!(
            "include(): {url} includes itself ({chain} -> {url})"
        )));
    }
    let files = match recorder.includes.fetched.get(url) {
        Some(Ok(files)) => files,
        Some(Err(why)) => {
            return Err(BuiltinError::new(format!(
                "include(): cannot fetch {url}: {why}"
            )));
        }
        None => {
            return Err(BuiltinError::new(format!(
                "include(): {url} was not fetched: the URL must be a string literal in build.envd"
            ))
            .help("the repository is fetched before build.envd is evaluated: write include(git=\"URL\")"));
        }
    };
    if files.is_empty() {
        return Err(BuiltinError::new(format!(
            "include(): {url} has no .envd files"
        )));
    }
    let globals =
        recorder.includes.globals.get().ok_or_else(|| {
            BuiltinError::new("internal error: include() before the globals exist")
        })?;
    recorder.includes.chain.borrow_mut().push(url.to_string());
    let members = evaluate_files(url, files, globals, eval);
    recorder.includes.chain.borrow_mut().pop();
    let members = members?;
    let values: Vec<(String, Value<'v>)> = members
        .iter()
        .map(|(name, value)| (name.clone(), eval.heap().access_owned_frozen_value(value)))
        .collect();
    recorder
        .includes
        .modules
        .borrow_mut()
        .insert(url.to_string(), members);
    Ok(eval.heap().alloc(AllocStruct(values)))
}

/// Evaluates each file of the repository as a module; their public names.
fn evaluate_files(
    url: &str,
    files: &[IncludedFile],
    globals: &Globals,
    eval: &mut Evaluator<'_, '_, '_>,
) -> Result<Vec<(String, OwnedFrozenValue)>, BuiltinError> {
    let recorder = Recorder::of(eval)?;
    let mut members: Vec<(String, OwnedFrozenValue)> = vec![];
    let mut defined_in: BTreeMap<String, String> = BTreeMap::new();
    for file in files {
        let name = format!("{url}/{}", file.path);
        let text = file.text.strip_prefix('\u{feff}').unwrap_or(&file.text);
        let text = whitespace::expand(text).unwrap_or_else(|| text.to_string());
        let in_file = |message: String| BuiltinError::new(format!("include(): {name}: {message}"));
        let failed = |e: starlark::Error| {
            let line = e.span().map(|s| s.resolve_span().begin.line + 1);
            let message = first_line(&e.without_diagnostic().to_string());
            BuiltinError::new(match line {
                Some(line) => format!("include(): {name}:{line}: {message}"),
                None => format!("include(): {name}: {message}"),
            })
        };
        if let Err(too_deep) = nesting::check(&text) {
            let line = text[..too_deep.span.start.min(text.len())]
                .lines()
                .count()
                .max(1);
            return Err(in_file(format!("line {line}: {}", too_deep.message)));
        }
        let ast = AstModule::parse(&name, text, &super::dialect()).map_err(failed)?;
        // Calls the file makes as it is evaluated are at the include.
        let span = recorder.span(eval);
        let outer = recorder.includes.site.replace(Some(CallSite {
            start: span.start,
            end: span.end,
            line: span.line,
        }));
        let frozen = Module::with_temp_heap(|module| {
            {
                let mut inner = Evaluator::new(&module);
                inner.extra = eval.extra;
                let _ = inner.set_max_callstack_size(budget::MAX_CALL_DEPTH);
                let _ = inner.set_max_tick_count(budget::MAX_TICKS);
                inner.before_stmt_for_dap(BeforeStmtFunc::from_dyn(Box::new(
                    budget::StatementBudget::for_included(),
                )));
                inner.eval_module(ast, globals).map_err(failed)?;
            }
            module
                .freeze()
                .map_err(|e| in_file(format!("cannot freeze the module: {e:?}")))
        });
        recorder.includes.site.set(outer);
        let frozen = frozen?;
        for member in frozen.names() {
            let member = member.as_str();
            if member.starts_with('_') {
                continue;
            }
            if let Some(first) = defined_in.insert(member.to_string(), file.path.clone()) {
                return Err(BuiltinError::new(format!(
                    "include(): {url} defines `{member}` twice, in {first} and {}",
                    file.path
                )));
            }
            let owned = frozen.get(member).map_err(|e| in_file(e.to_string()))?;
            members.push((member.to_string(), owned));
        }
    }
    Ok(members)
}

//! `include(git=URL)`: envd's way to share functions between build files.
//! envd cloned the repository and evaluated every `*.envd` file in it as
//! one module. Here the caller fetches the repositories before evaluation
//! (the frontend through BuildKit, `llb-gen` from folders), since
//! evaluation does no I/O: [`urls`] finds the URLs a file includes, and
//! [`IncludeFunction`] evaluates the fetched files when build.envd calls
//! `include`.

// `derive(ProvidesStaticType)` expands to an `unsafe impl` starlark needs
// for values it stores; no unsafe code of ours.
#![allow(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;

use allocative::Allocative;
use starlark::any::ProvidesStaticType;
use starlark::environment::Module;
use starlark::eval::{Arguments, BeforeStmtFunc, Evaluator};
use starlark::starlark_simple_value;
use starlark::syntax::AstModule;
use starlark::values::structs::AllocStruct;
use starlark::values::{NoSerialize, StarlarkValue, Value, starlark_value};

use super::recorder::Recorder;
use super::{limits, whitespace};
use crate::builtins::BuiltinError;
use crate::ir::CallSite;

/// The files of each included repository, by URL: `*.envd` files with
/// their paths in the repository, in path order; or why they could not be
/// fetched.
pub type IncludedModules = BTreeMap<String, Result<Vec<IncludedFile>, String>>;

/// One `*.envd` file of an included repository.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IncludedFile {
    pub path: String,
    pub text: String,
}

/// The URLs build.envd passes to `include` as string literals, each once,
/// in order. A scan of the text outside comments and other strings: the
/// caller fetches them before evaluation.
pub fn urls(text: &str) -> Vec<String> {
    let bytes = text.as_bytes();
    let mut found: Vec<String> = vec![];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => i = skip_string(bytes, i, quote),
            b'i' if text[i..].starts_with("include")
                && (i == 0 || !is_identifier_byte(bytes[i - 1]) && bytes[i - 1] != b'.') =>
            {
                let after = i + "include".len();
                if let Some(url) = literal_argument(&text[after..])
                    && !found.contains(&url)
                {
                    found.push(url);
                }
                i = after;
            }
            _ => i += 1,
        }
    }
    found
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The index after the string starting at `start` (single or triple quoted).
fn skip_string(bytes: &[u8], start: usize, quote: u8) -> usize {
    let triple = bytes.get(start..start + 3) == Some(&[quote, quote, quote]);
    let mut i = start + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return i,
            b if b == quote => {
                if !triple {
                    return i + 1;
                }
                if bytes.get(i..i + 3) == Some(&[quote, quote, quote]) {
                    return i + 3;
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// `("URL")` or `(git="URL")` at the start of `rest`: the URL.
fn literal_argument(rest: &str) -> Option<String> {
    let rest = rest.trim_start().strip_prefix('(')?.trim_start();
    let rest = match rest.strip_prefix("git") {
        Some(after) if after.trim_start().starts_with('=') => after.trim_start()[1..].trim_start(),
        _ => rest,
    };
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &rest[1..];
    let end = body.find(quote)?;
    let url = &body[..end];
    let closes = body[end + 1..].trim_start().starts_with([')', ',']);
    (closes && !url.contains(['\\', '\n'])).then(|| url.to_string())
}

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
    let files = match recorder.includes.get(url) {
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
    let globals = recorder
        .globals
        .get()
        .ok_or_else(|| BuiltinError::new("internal error: include() before the globals exist"))?;
    let mut members: Vec<(String, Value<'v>)> = vec![];
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
        let ast = AstModule::parse(&name, text, &super::dialect()).map_err(failed)?;
        // Calls the file makes as it is evaluated are at the include.
        let span = recorder.span(eval);
        let outer = recorder.include_site.replace(Some(CallSite {
            start: span.start,
            end: span.end,
            line: span.line,
        }));
        let frozen = Module::with_temp_heap(|module| {
            {
                let mut inner = Evaluator::new(&module);
                inner.extra = eval.extra;
                let _ = inner.set_max_callstack_size(limits::MAX_CALL_DEPTH);
                let _ = inner.set_max_tick_count(limits::MAX_TICKS);
                inner.before_stmt_for_dap(BeforeStmtFunc::from_dyn(Box::new(
                    limits::StatementBudget::new(),
                )));
                inner.eval_module(ast, globals).map_err(failed)?;
            }
            module
                .freeze()
                .map_err(|e| in_file(format!("cannot freeze the module: {e:?}")))
        });
        recorder.include_site.set(outer);
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
            // The heap keeps the included module's heap alive.
            let value = eval.heap().access_owned_frozen_value(&owned);
            members.push((member.to_string(), value));
        }
    }
    Ok(eval.heap().alloc(AllocStruct(members)))
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_urls_are_found_outside_comments_and_strings() {
        let text = r#"
# envd = include("https://example.invalid/commented")
envd = include(git="https://github.com/tensorchord/envdlib")
other = include ( 'https://example.invalid/b' )
again = include("https://github.com/tensorchord/envdlib")
s = "include('https://example.invalid/in-a-string')"
d = """include("https://example.invalid/in-a-docstring")"""
x.include("https://example.invalid/a-method")
dynamic = include(git=base_url + "/lib")
def build():
    envd.base_image()
"#;
        assert_eq!(
            urls(text),
            [
                "https://github.com/tensorchord/envdlib",
                "https://example.invalid/b"
            ]
        );
    }
}

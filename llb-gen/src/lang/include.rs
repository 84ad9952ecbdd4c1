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
use starlark::environment::{Globals, Module};
use starlark::eval::{Arguments, BeforeStmtFunc, Evaluator};
use starlark::starlark_simple_value;
use starlark::syntax::AstModule;
use starlark::values::structs::AllocStruct;
use starlark::values::{NoSerialize, OwnedFrozenValue, StarlarkValue, Value, starlark_value};

use super::recorder::Recorder;
use super::{first_line, limits, nesting, whitespace};
use crate::builtins::BuiltinError;
use crate::ir::CallSite;
use crate::limits::{
    MAX_INCLUDED_BYTES, MAX_INCLUDED_FILES, MAX_INCLUDED_REPOSITORIES, describe_bytes,
};

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

/// The URLs still to fetch: those build.envd and the repositories fetched
/// so far include, that are not fetched yet. A caller fetches until none
/// is left (or [`MAX_INCLUDED_REPOSITORIES`] are fetched).
pub fn unfetched(text: &str, fetched: &IncludedModules) -> Vec<String> {
    let mut all = urls(text);
    for file in fetched.values().flatten().flatten() {
        for url in urls(&file.text) {
            if !all.contains(&url) {
                all.push(url);
            }
        }
    }
    // A URL with a login is never fetched: the compile refuses the file.
    all.retain(|url| !fetched.contains_key(url) && crate::checks::url_login(url).is_none());
    all
}

/// Why a repository beyond the bound is not fetched.
pub fn too_many_repositories() -> String {
    format!("a build includes at most {MAX_INCLUDED_REPOSITORIES} repositories")
}

/// A fetched repository's `*.envd` files, by path: checked against the
/// bounds (files in it, and bytes with `so_far` from the others) and sorted.
pub fn bounded_files(
    files: Vec<(String, Vec<u8>)>,
    so_far: usize,
) -> Result<Vec<IncludedFile>, String> {
    if files.len() > MAX_INCLUDED_FILES {
        return Err(format!("it has more than {MAX_INCLUDED_FILES} .envd files"));
    }
    let total = so_far + files.iter().map(|(_, bytes)| bytes.len()).sum::<usize>();
    if total > MAX_INCLUDED_BYTES {
        return Err(format!(
            "the included .envd files are more than {} together",
            describe_bytes(MAX_INCLUDED_BYTES)
        ));
    }
    let mut checked = files
        .into_iter()
        .map(|(path, bytes)| match String::from_utf8(bytes) {
            Ok(text) => Ok(IncludedFile { path, text }),
            Err(_) => Err(format!("{path} is not UTF-8 text")),
        })
        .collect::<Result<Vec<_>, String>>()?;
    checked.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(checked)
}

/// Bytes of the repositories fetched so far.
pub fn fetched_bytes(fetched: &IncludedModules) -> usize {
    fetched
        .values()
        .flatten()
        .flatten()
        .map(|file| file.text.len())
        .sum()
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
    if let Some(members) = recorder.modules.borrow().get(url) {
        // Evaluated once, as envd's loader cached modules.
        let members: Vec<(String, Value<'v>)> = members
            .iter()
            .map(|(name, value)| (name.clone(), eval.heap().access_owned_frozen_value(value)))
            .collect();
        return Ok(eval.heap().alloc(AllocStruct(members)));
    }
    if recorder.including.borrow().iter().any(|u| u == url) {
        let chain = recorder.including.borrow().join(" -> ");
        return Err(BuiltinError::new(format!(
            "include(): {url} includes itself ({chain} -> {url})"
        )));
    }
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
    recorder.including.borrow_mut().push(url.to_string());
    let members = evaluate_files(url, files, globals, eval);
    recorder.including.borrow_mut().pop();
    let members = members?;
    let values: Vec<(String, Value<'v>)> = members
        .iter()
        .map(|(name, value)| (name.clone(), eval.heap().access_owned_frozen_value(value)))
        .collect();
    recorder
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
                    limits::StatementBudget::for_included(),
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
            members.push((member.to_string(), owned));
        }
    }
    Ok(members)
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

    #[test]
    fn repositories_their_files_include_are_fetched_next() {
        let mut fetched = IncludedModules::new();
        let text = "a = include(\"https://x/a\")\n";
        assert_eq!(unfetched(text, &fetched), ["https://x/a"]);
        fetched.insert(
            "https://x/a".to_string(),
            Ok(vec![IncludedFile {
                path: "a.envd".to_string(),
                text: "b = include(\"https://x/b\")\na = include(\"https://x/a\")\n".to_string(),
            }]),
        );
        assert_eq!(unfetched(text, &fetched), ["https://x/b"]);
        fetched.insert("https://x/b".to_string(), Err("offline".to_string()));
        assert!(unfetched(text, &fetched).is_empty());
    }

    #[test]
    fn fetched_files_are_bounded_and_sorted() {
        let files = bounded_files(
            vec![
                ("z.envd".into(), b"z = 1".to_vec()),
                ("a.envd".into(), b"a = 1".to_vec()),
            ],
            0,
        )
        .unwrap();
        assert_eq!(files[0].path, "a.envd");
        assert!(bounded_files(vec![("a.envd".into(), vec![0xff])], 0).is_err());
        assert!(bounded_files(vec![("a.envd".into(), b"a".to_vec())], MAX_INCLUDED_BYTES).is_err());
    }
}

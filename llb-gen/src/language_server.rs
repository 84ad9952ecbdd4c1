//! What an editor asks about build.envd, answered in the Language Server
//! Protocol's JSON shapes (`llb-gen lsp` carries them): the diagnostics a
//! build gives (the compiler's, with the file's folder as the context),
//! completion, hover and signature help from the builtin specs, and the
//! definitions of the file's functions. Positions are LSP's: 0-based lines
//! and UTF-16 columns.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::builtins::{Param, Params, Spec, of_syntax, reference, syntax_from_text};
use crate::compile::{CompileOptions, EvaluationBounds, compile};
use crate::diagnostics::{Diagnostic, Severity, SourceText};
use crate::disk::{DiskContext, OfflineResolver, included_from_folders};
use crate::lang::{BUILD_ARGS_GLOBAL, BUILD_CONTEXT_DIR_GLOBAL};
use crate::lower::{ContextFiles, DEFAULT_BASES, FileKind, base_aliases};

/// The byte offset of LSP position (`line`, `character`) in `text`,
/// clamped to the text.
pub fn offset_of(text: &str, line: usize, character: usize) -> usize {
    let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
    let rest = &text[start.min(text.len())..];
    let mut units = 0;
    for (i, c) in rest.char_indices() {
        // The end of a line is before its break, `\r\n` included.
        if units >= character || c == '\n' || (c == '\r' && rest[i..].starts_with("\r\n")) {
            return start + i;
        }
        units += c.len_utf16();
    }
    text.len()
}

/// The LSP position of byte `offset` in `text`.
pub fn position_of(text: &str, offset: usize) -> Value {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count();
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let character: usize = before[line_start..].chars().map(char::len_utf16).sum();
    json!({"line": line, "character": character})
}

fn range(text: &str, span: &std::ops::Range<usize>) -> Value {
    json!({"start": position_of(text, span.start), "end": position_of(text, span.end)})
}

/// The byte offset of an LSP position (UTF-16 characters) in `text`, for an
/// edit: `None` when the line is past the end of the text. A character
/// past the end of its line is the line's end, as the protocol says.
pub fn edit_offset(text: &str, line: usize, character: usize) -> Option<usize> {
    let lines = text.split_inclusive('\n').count();
    // The line after a final newline (or the only line of "") exists.
    let last = if text.is_empty() || text.ends_with('\n') {
        lines
    } else {
        lines - 1
    };
    (line <= last).then(|| offset_of(text, line, character))
}

/// `text` with the range from (`start`) to (`end`), LSP positions of
/// (line, character), replaced by `new`; an error when the range is not in
/// the text, which the editor must not have sent.
pub fn apply_edit(
    text: &str,
    start: (usize, usize),
    end: (usize, usize),
    new: &str,
) -> Result<String, String> {
    let outside = |(line, character): (usize, usize)| format!("line {line}, character {character}");
    let from = edit_offset(text, start.0, start.1).ok_or_else(|| {
        format!(
            "the change starts outside the document ({})",
            outside(start)
        )
    })?;
    let to = edit_offset(text, end.0, end.1)
        .ok_or_else(|| format!("the change ends outside the document ({})", outside(end)))?;
    if to < from {
        return Err(format!(
            "the change ends ({}) before it starts ({})",
            outside(end),
            outside(start)
        ));
    }
    Ok(format!("{}{new}{}", &text[..from], &text[to..]))
}

/// A compile's diagnostics by file, and the files beside build.envd it
/// read, which an editor can watch.
#[derive(Debug, Default)]
pub struct Checked {
    pub diagnostics: BTreeMap<PathBuf, Vec<Value>>,
    pub reads: Vec<PathBuf>,
}

/// The context folder, noting each path the compile looks up.
struct Noted<'a> {
    files: &'a DiskContext,
    paths: RefCell<BTreeSet<String>>,
}

impl ContextFiles for Noted<'_> {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        self.paths.borrow_mut().insert(path.to_string());
        self.files.read(path)
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        self.paths.borrow_mut().insert(path.to_string());
        self.files.kind(path)
    }
}

/// The diagnostics of a compile of `path` with `text`, by the file they
/// are in (build.envd itself, or the env.yaml and requirements files it
/// reads from its folder), and the files it read. Base images are not
/// looked up (no registry), and included repositories are not fetched.
pub fn diagnostics(path: &Path, text: &str, probe: Option<PathBuf>) -> Checked {
    let dir = path.parent().unwrap_or(Path::new("."));
    let filename = path.file_name().map_or("build.envd".to_string(), |n| {
        n.to_string_lossy().into_owned()
    });
    let options = CompileOptions::default()
        .filename(filename.clone())
        .bounds(probe.map_or(EvaluationBounds::Unbounded, EvaluationBounds::Probe))
        .includes(included_from_folders(
            text,
            &BTreeMap::new(),
            "the editor does not fetch {url}; the build does",
        ));
    let mut reads = vec![];
    let found = match DiskContext::new(dir) {
        Ok(files) => {
            let noted = Noted {
                files: &files,
                paths: RefCell::new(BTreeSet::new()),
            };
            let compiled = compile(text, &options, &noted, &OfflineResolver);
            reads = noted
                .paths
                .into_inner()
                .iter()
                .map(|p| dir.join(p))
                .collect();
            match compiled {
                Ok(compiled) => compiled.warnings,
                Err(diagnostics) => diagnostics.0,
            }
        }
        Err(e) => vec![Diagnostic::error(
            &SourceText::new(filename.clone(), text),
            None,
            format!("cannot open the folder of {filename}: {e}"),
        )],
    };
    let mut by_file: BTreeMap<PathBuf, Vec<Value>> = BTreeMap::new();
    by_file.insert(path.to_path_buf(), vec![]);
    for d in found {
        let beside = dir.join(d.source.name());
        let (file, lsp) = if d.source.name() != filename && beside.is_file() {
            (
                beside,
                to_lsp(&d, &|offset| position_of(d.source.text(), offset)),
            )
        } else {
            // Spans are in the text the compiler read; the editor has the
            // file as it is.
            let at = |offset| position_of(text, original_offset(text, offset));
            (path.to_path_buf(), to_lsp(&d, &at))
        };
        by_file.entry(file).or_default().push(lsp);
    }
    Checked {
        diagnostics: by_file,
        reads,
    }
}

/// The offset in `original` (the editor's text) of `offset` in the text
/// the compiler read (`compile::build_source`'s: no byte-order mark, tabs
/// and Unicode spaces expanded), so tab-indented files are marked where
/// the editor shows them.
fn original_offset(original: &str, offset: usize) -> usize {
    let bom = if original.starts_with('\u{feff}') {
        3
    } else {
        0
    };
    let body = &original[bom..];
    if crate::lang::expand_whitespace(body).is_none() {
        return (bom + offset).min(original.len());
    }
    // The expansion reads forward, so a prefix expands to a prefix, and
    // its length grows with the prefix's.
    let expanded_len = |k: usize| crate::lang::expand_whitespace(&body[..k]).map_or(k, |e| e.len());
    let boundaries: Vec<usize> = body
        .char_indices()
        .map(|(i, _)| i)
        .chain(std::iter::once(body.len()))
        .collect();
    let index = boundaries.partition_point(|&k| expanded_len(k) < offset);
    bom + boundaries.get(index).copied().unwrap_or(body.len())
}

fn to_lsp(d: &Diagnostic, position: &dyn Fn(usize) -> Value) -> Value {
    let mut message = d.message.clone();
    for note in &d.notes {
        message.push_str(&format!("\nhelp: {}", note.message));
    }
    let mut value = json!({
        "range": d.span.as_ref().map_or_else(
            || json!({"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}),
            |span| json!({"start": position(span.start), "end": position(span.end)}),
        ),
        "severity": match d.severity { Severity::Error => 1, Severity::Warning => 2 },
        "source": "envd",
        "message": message,
    });
    if let Some(rule) = d.rule {
        value["code"] = json!(rule.name);
    }
    value
}

/// One open call around the cursor: the callee as written (`io.copy`),
/// the commas before the cursor, and the named argument being written.
#[derive(Debug, Default)]
struct Frame {
    callee: Option<String>,
    commas: usize,
    named: Option<String>,
}

/// The open brackets at `offset` (innermost last), and whether the cursor
/// is inside a string. A forward scan, aware of strings and comments.
fn scan(text: &str, offset: usize) -> (Vec<Frame>, bool) {
    let bytes = text.as_bytes();
    let end = offset.min(bytes.len());
    let mut frames: Vec<Frame> = vec![];
    let mut i = 0;
    let mut string: Option<&[u8]> = None;
    while i < end {
        let b = bytes[i];
        if let Some(quote) = string {
            if b == b'\\' {
                i += 2;
                continue;
            }
            // A one-quote string ends at its line, closed or not.
            if b == b'\n' && quote.len() == 1 {
                string = None;
            }
            if bytes[i..].starts_with(quote) {
                string = None;
                i += quote.len();
                continue;
            }
            i += 1;
            continue;
        }
        match b {
            b'#' => {
                i = text[i..].find('\n').map_or(end, |n| i + n);
                continue;
            }
            b'"' | b'\'' => {
                let triple: &[u8] = if b == b'"' { b"\"\"\"" } else { b"'''" };
                let quote = if bytes[i..].starts_with(triple) {
                    triple
                } else {
                    &bytes[i..=i]
                };
                string = Some(quote);
                i += quote.len();
                continue;
            }
            b'(' | b'[' | b'{' => frames.push(Frame {
                callee: (b == b'(').then(|| word_before(text, i)).flatten(),
                ..Frame::default()
            }),
            b')' | b']' | b'}' => {
                frames.pop();
            }
            b',' => {
                if let Some(frame) = frames.last_mut() {
                    frame.commas += 1;
                    frame.named = None;
                }
            }
            b'=' => {
                let compares = bytes.get(i + 1) == Some(&b'=')
                    || i > 0 && matches!(bytes[i - 1], b'=' | b'!' | b'<' | b'>');
                if !compares && let Some(frame) = frames.last_mut() {
                    frame.named = word_before(text, i);
                }
            }
            _ => {}
        }
        i += 1;
    }
    (frames, string.is_some())
}

fn is_word(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || c == '.'
}

/// The dotted name just before byte `at` (spaces skipped).
fn word_before(text: &str, at: usize) -> Option<String> {
    let before = text[..at].trim_end();
    let start = before
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map(|(i, _)| i)?;
    Some(before[start..].to_string()).filter(|w| !w.is_empty())
}

/// The dotted name around byte `offset`.
fn word_at(text: &str, offset: usize) -> Option<(String, std::ops::Range<usize>)> {
    let offset = offset.min(text.len());
    if !text.is_char_boundary(offset) {
        return None;
    }
    let start = text[..offset]
        .char_indices()
        .rev()
        .take_while(|(_, c)| is_word(*c))
        .last()
        .map_or(offset, |(i, _)| i);
    let end = text[offset..]
        .char_indices()
        .find(|(_, c)| !is_word(*c))
        .map_or(text.len(), |(i, _)| offset + i);
    Some((text[start..end].to_string(), start..end)).filter(|(w, _)| !w.is_empty())
}

/// The builtins of the syntax `text` is most likely written in.
fn builtins_of(text: &str) -> impl Iterator<Item = &'static Spec> {
    of_syntax(syntax_from_text(text))
}

fn spec_named(text: &str, name: &str) -> Option<&'static Spec> {
    builtins_of(text).find(|s| s.name == name)
}

fn namespaces(text: &str) -> Vec<&'static str> {
    let mut names: Vec<&str> = builtins_of(text).filter_map(|s| s.split_name().0).collect();
    names.dedup();
    names
}

fn item(label: &str, kind: u32, detail: &str) -> Value {
    json!({"label": label, "kind": kind, "detail": detail})
}

// LSP's CompletionItemKind values.
const FUNCTION: u32 = 3;
const FIELD: u32 = 5;
const VARIABLE: u32 = 6;
const MODULE: u32 = 9;
const VALUE: u32 = 12;

/// Completion items at `offset`: a namespace's functions after `install.`,
/// base names in `base()`'s strings, a builtin's parameters inside its
/// call, and otherwise the globals and the file's functions.
pub fn completion(text: &str, offset: usize) -> Vec<Value> {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let (frames, in_string) = scan(text, offset);
    let call = frames.last().and_then(|f| {
        f.callee
            .as_deref()
            .and_then(|name| spec_named(text, name))
            .map(|s| (s, f))
    });
    if in_string {
        if let Some((spec, frame)) = call
            && spec.name == "base"
            && match frame.named.as_deref() {
                Some(named) => named == "os" || named == "image",
                None => frame.commas == 0,
            }
        {
            let mut names: Vec<Value> = DEFAULT_BASES
                .iter()
                .map(|(name, image)| item(name, VALUE, image))
                .collect();
            names.extend(base_aliases().iter().map(|(alias, name)| {
                item(alias, VALUE, &format!("the seed's spelling of {name}"))
            }));
            return names;
        }
        return vec![];
    }
    let typed = word_before(text, offset).unwrap_or_default();
    let typed = if text[..offset].ends_with(|c: char| is_word(c)) {
        typed
    } else {
        String::new()
    };
    if let Some((namespace, _)) = typed.rsplit_once('.') {
        return builtins_of(text)
            .filter(|s| s.split_name().0 == Some(namespace))
            .map(|s| item(s.split_name().1, FUNCTION, s.summary))
            .collect();
    }
    if let Some((spec, frame)) = call
        && frame.named.is_none()
        && let Params::Declared(params) = spec.params
    {
        return params
            .iter()
            .flat_map(|p| {
                std::iter::once(p.name)
                    .chain(p.aliases.iter().copied())
                    .map(move |n| (n, p))
            })
            .map(|(name, p)| {
                let mut value = item(&format!("{name}="), FIELD, p.doc);
                value["insertText"] = json!(format!("{name}="));
                value
            })
            .collect();
    }
    let mut items: Vec<Value> = builtins_of(text)
        .filter(|s| s.split_name().0.is_none())
        .map(|s| item(s.name, FUNCTION, s.summary))
        .collect();
    items.extend(
        namespaces(text)
            .into_iter()
            .map(|n| item(n, MODULE, "envd builtins")),
    );
    items.push(item(
        BUILD_ARGS_GLOBAL,
        VARIABLE,
        "the build's --build-arg values",
    ));
    items.push(item(
        BUILD_CONTEXT_DIR_GLOBAL,
        VARIABLE,
        "the build context, \".\"",
    ));
    items.push(item(
        "include",
        FUNCTION,
        "a repository of .envd files, as one module",
    ));
    items.extend(
        defined_functions(text)
            .into_iter()
            .map(|(name, _)| item(&name, FUNCTION, "defined in this file")),
    );
    items
}

/// Hover text for the builtin (or namespace) under the cursor.
pub fn hover(text: &str, offset: usize) -> Option<Value> {
    let (word, span) = word_at(text, offset)?;
    let markdown = match spec_named(text, &word) {
        Some(spec) => format!(
            "```python\n{}\n```\n{}",
            spec.signature_plain(),
            reference::spec_section(spec)
        ),
        None if namespaces(text).contains(&word.as_str()) => {
            let functions: Vec<String> = builtins_of(text)
                .filter(|s| s.split_name().0 == Some(word.as_str()))
                .map(|s| format!("- `{}`: {}", s.name, s.summary))
                .collect();
            format!("envd's `{word}` builtins:\n\n{}", functions.join("\n"))
        }
        None => return None,
    };
    Some(json!({
        "contents": {"kind": "markdown", "value": markdown},
        "range": range(text, &span),
    }))
}

/// The signature of the builtin whose call the cursor is in, with the
/// parameter being written.
pub fn signature_help(text: &str, offset: usize) -> Option<Value> {
    let (frames, _) = scan(text, offset);
    let frame = frames.last()?;
    let spec = spec_named(text, frame.callee.as_deref()?)?;
    let params: &[Param] = match spec.params {
        Params::Declared(params) => params,
        Params::Any => &[],
    };
    let active = match &frame.named {
        Some(named) => params
            .iter()
            .position(|p| p.name == named || p.aliases.contains(&named.as_str())),
        None => params
            .iter()
            .enumerate()
            .filter(|(_, p)| p.positional)
            .nth(frame.commas)
            .map(|(i, _)| i),
    };
    // Parameters as offsets into the label (`io.copy(host_path, ...)`): a
    // name can also appear in the function's.
    let mut at = spec.name.len() + 1;
    let parameters: Vec<Value> = params
        .iter()
        .map(|p| {
            let label = json!([at, at + p.name.len()]);
            at += p.name.len() + 2;
            json!({
                "label": label,
                "documentation": format!("{} ({})", p.doc, p.kind.describe()),
            })
        })
        .collect();
    let mut help = json!({
        "signatures": [{
            "label": spec.signature_plain(),
            "documentation": spec.summary,
            "parameters": parameters,
        }],
        "activeSignature": 0,
    });
    if let Some(active) = active {
        help["activeParameter"] = json!(active);
    }
    Some(help)
}

/// The functions build.envd defines (`def NAME(`), with their name's span.
fn defined_functions(text: &str) -> Vec<(String, std::ops::Range<usize>)> {
    let mut found = vec![];
    let mut line_start = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if let Some(rest) = line.trim_start().strip_prefix("def ") {
            let name: String = rest
                .trim_start()
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                let start = line_start + indent + 4 + (rest.len() - rest.trim_start().len());
                found.push((name.clone(), start..start + name.len()));
            }
        }
        line_start += line.len();
    }
    found
}

/// Where the function under the cursor is defined in the file.
pub fn definition(text: &str, offset: usize) -> Option<Value> {
    let (word, _) = word_at(text, offset)?;
    let (_, span) = defined_functions(text)
        .into_iter()
        .find(|(name, _)| *name == word)?;
    Some(range(text, &span))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_past_a_crlf_lines_end_is_before_its_break() {
        assert_eq!(offset_of("ab\r\ncd", 0, 9), 2);
        assert_eq!(
            apply_edit("ab\r\ncd", (0, 9), (0, 9), "!").unwrap(),
            "ab!\r\ncd"
        );
    }

    #[test]
    fn completion_and_hover_follow_the_files_syntax() {
        let labels = |text: &str| -> Vec<String> {
            completion(text, text.len())
                .iter()
                .map(|i| i["label"].as_str().unwrap().to_string())
                .collect()
        };
        let v0 = labels("def build():\n    install.");
        let v1 = labels("# syntax=v1\ndef build():\n    install.");
        assert!(v0.contains(&"system_packages".to_string()), "{v0:?}");
        assert!(!v0.contains(&"uv".to_string()), "{v0:?}");
        assert!(v1.contains(&"uv".to_string()), "{v1:?}");
        assert!(!v1.contains(&"system_packages".to_string()), "{v1:?}");
        let text = "# syntax=v1\ndef build():\n    base(image=\"x\")\n";
        let shown = hover(text, text.find("base").unwrap()).unwrap();
        assert!(shown.to_string().contains("dev"), "{shown}");
        // Without the line, a file that calls a v1-only builtin is v1's.
        let headerless = labels("def build():\n    base(dev=True)\n    install.");
        assert!(headerless.contains(&"uv".to_string()), "{headerless:?}");
    }

    #[test]
    fn edits_apply_in_utf16_positions_and_outside_ranges_are_errors() {
        let text = "a = \"é\"\nb = 1\n";
        // After `é` (one UTF-16 unit): replace `"` to the end of line 0.
        assert_eq!(
            apply_edit(text, (0, 6), (0, 7), "!").unwrap(),
            "a = \"é!\nb = 1\n"
        );
        // Inserting at the line after the final newline is appending.
        assert_eq!(
            apply_edit(text, (2, 0), (2, 0), "c = 2").unwrap(),
            format!("{text}c = 2")
        );
        // A character past its line's end is the line's end.
        assert_eq!(
            apply_edit(text, (1, 99), (1, 99), " + 1").unwrap(),
            "a = \"é\"\nb = 1 + 1\n"
        );
        let past = apply_edit(text, (3, 0), (3, 0), "x").unwrap_err();
        assert!(past.contains("outside the document"), "{past}");
        assert!(apply_edit(text, (1, 0), (0, 0), "x").is_err());
        assert!(apply_edit("", (0, 0), (0, 0), "x").is_ok());
        assert!(apply_edit("", (1, 0), (1, 0), "x").is_err());
    }

    fn labels(items: &[Value]) -> Vec<String> {
        items
            .iter()
            .map(|i| i["label"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\n\u{1F600}b = 1\n";
        // The emoji is two UTF-16 units.
        assert_eq!(offset_of(text, 1, 2), 2 + 4);
        assert_eq!(position_of(text, 6), json!({"line": 1, "character": 2}));
        assert_eq!(offset_of(text, 9, 0), text.len());
    }

    #[test]
    fn diagnostics_of_a_tab_indented_file_are_where_the_editor_shows_them() {
        let text = "\u{feff}def build():\n\tbase(os=\"nowhere\")\n";
        let compiled = crate::compile::build_source("build.envd", text);
        let at = compiled.text().find("base").unwrap();
        assert_eq!(at, "def build():\n        ".len());
        assert_eq!(
            position_of(text, original_offset(text, at)),
            json!({"line": 1, "character": 1})
        );
        let dir = std::env::temp_dir().join(format!("envd-editor-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("build.envd");
        let found = diagnostics(&path, text, None);
        let _ = std::fs::remove_dir_all(&dir);
        let d = &found.diagnostics[&path][0];
        assert_eq!(
            d["range"]["start"],
            json!({"line": 1, "character": 1}),
            "{d}"
        );
    }

    #[test]
    fn completes_namespaces_parameters_and_base_names() {
        let text = "def build():\n    install.\n    io.copy(src=\"a\", \n    base(os=\"\")\n";
        let after_dot = offset_of(text, 1, 12);
        let install = labels(&completion(text, after_dot));
        assert!(
            install.contains(&"python_packages".to_string()),
            "{install:?}"
        );
        assert!(install.iter().all(|l| !l.contains('.')), "{install:?}");
        let in_copy = labels(&completion(text, offset_of(text, 2, 21)));
        assert!(
            in_copy.contains(&"envd_path=".to_string()) && in_copy.contains(&"dest=".to_string()),
            "{in_copy:?}"
        );
        let in_os = labels(&completion(text, offset_of(text, 3, 13)));
        assert!(
            in_os.contains(&"aiges_cpu".to_string()) && in_os.contains(&"ubuntu20.4".to_string()),
            "{in_os:?}"
        );
        let top = labels(&completion(text, offset_of(text, 1, 4)));
        assert!(
            top.contains(&"base".to_string()) && top.contains(&"build".to_string()),
            "{top:?}"
        );
    }

    #[test]
    fn hover_signature_and_definition() {
        let text =
            "def helper():\n    pass\ndef build():\n    io.copy(\"a\", \"/b\")\n    helper()\n";
        let hover = hover(text, offset_of(text, 3, 8)).unwrap();
        let shown = hover["contents"]["value"].as_str().unwrap();
        assert!(
            shown.contains("io.copy(host_path, envd_path)") && shown.contains("`dest`"),
            "{shown}"
        );
        let help = signature_help(text, offset_of(text, 3, 18)).unwrap();
        assert_eq!(help["activeParameter"], 1);
        let label = help["signatures"][0]["label"].as_str().unwrap();
        let second = &help["signatures"][0]["parameters"][1]["label"];
        let (from, to) = (
            second[0].as_u64().unwrap() as usize,
            second[1].as_u64().unwrap() as usize,
        );
        assert_eq!(&label[from..to], "envd_path");
        let at = definition(text, offset_of(text, 4, 6)).unwrap();
        assert_eq!(at["start"], json!({"line": 0, "character": 4}));
    }

    #[test]
    fn strings_and_comments_do_not_open_calls() {
        let text = "x = \"(\" # (\nbase(os=\"a,b\", ";
        let (frames, in_string) = scan(text, text.len());
        assert_eq!(frames.len(), 1);
        assert_eq!(frames[0].callee.as_deref(), Some("base"));
        assert_eq!(frames[0].commas, 1);
        assert!(!in_string);
    }
}

//! Parse errors whose cause is plain from the text around them, named as
//! such instead of as the parser's "unexpected symbol": a git conflict
//! left in the file, and two strings in a list with no comma between
//! them (Starlark does not join adjacent strings, as Python does).

use std::ops::Range;

use crate::diagnostics::{Diagnostic, SourceText};

/// The first line that is a git conflict marker (`<<<<<<< `, `=======`,
/// `>>>>>>> `, `|||||||`), when the file has a `<<<<<<<` line and the
/// parse error (`at`) is on a marker line: a marker is never Starlark,
/// while a marker-like line in a string parses.
pub fn conflict_marker(source: &SourceText, at: Option<&Range<usize>>) -> Option<Diagnostic> {
    let text = source.text();
    let is_marker = |line: &str, marker: &str| {
        line.strip_prefix(marker)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\r']))
    };
    let mut offset = 0;
    let mut first: Option<Range<usize>> = None;
    let mut has_start = false;
    let mut error_on_marker = at.is_none();
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_end_matches(['\n', '\r']);
        let marker = ["<<<<<<<", "=======", ">>>>>>>", "|||||||"]
            .into_iter()
            .find(|m| is_marker(trimmed, m));
        if let Some(marker) = marker {
            has_start |= marker == "<<<<<<<";
            first.get_or_insert(offset..offset + trimmed.len());
            error_on_marker |=
                at.is_some_and(|at| (offset..offset + line.len()).contains(&at.start));
        }
        offset += line.len();
    }
    let at = first.filter(|_| has_start && error_on_marker)?;
    Some(
        Diagnostic::error(
            source,
            Some(at),
            "build.envd has a git merge conflict in it: a conflict marker line",
        )
        .with_help("resolve the conflict: keep the side you want and remove the <<<<<<<, ======= and >>>>>>> lines"),
    )
}

/// A parse error at a string literal (`at`) that directly follows another
/// string literal: the comma between them is missing.
pub fn missing_comma(source: &SourceText, at: &Range<usize>) -> Option<Diagnostic> {
    let text = source.text();
    let next = text.get(at.clone())?;
    if !next.starts_with(['"', '\'']) {
        return None;
    }
    // The code before the error, without the white space and comments
    // between the two literals.
    let before = text.get(..at.start)?;
    let mut end = before.len();
    loop {
        let trimmed = before[..end].trim_end();
        end = trimmed.len();
        // A comment on the line of the first literal.
        let line_start = trimmed.rfind('\n').map_or(0, |i| i + 1);
        match comment_start(&trimmed[line_start..]) {
            Some(hash) => end = line_start + hash,
            None => break,
        }
    }
    let previous = previous_literal(&before[..end])?;
    let insert_at = end;
    Some(
        Diagnostic::error(
            source,
            Some(at.clone()),
            format!("a comma is missing between the strings {previous} and {next}"),
        )
        .with_help(format!(
            "add a comma after {previous}; Starlark does not join strings that stand side by side (use + to join them)"
        ))
        .with_note_at(insert_at - previous.len()..insert_at, "the comma goes after this string"),
    )
}

/// The string literal `code` ends with, quotes included.
fn previous_literal(code: &str) -> Option<&str> {
    let quote = code.chars().last().filter(|c| *c == '"' || *c == '\'')?;
    let body = &code[..code.len() - 1];
    let mut start = body.rfind(quote)?;
    // An escaped quote is inside the literal, not its start.
    while body[..start].ends_with('\\') {
        start = body[..start].rfind(quote)?;
    }
    Some(&code[start..])
}

/// Where a `#` comment starts in `line`, outside strings.
fn comment_start(line: &str) -> Option<usize> {
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(_), '\\') if !escaped => {
                escaped = true;
                continue;
            }
            (Some(q), c) if c == q && !escaped => quote = None,
            (None, '"' | '\'') => quote = Some(c),
            (None, '#') => return Some(i),
            _ => {}
        }
        escaped = false;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(text: &str) -> SourceText {
        SourceText::new("build.envd", text)
    }

    #[test]
    fn a_conflict_is_found_at_its_first_marker() {
        let text = "def build():\n<<<<<<< HEAD\n    run([\"a\"])\n=======\n    run([\"b\"])\n>>>>>>> topic\n";
        let marker = text.find("<<<").unwrap();
        let d = conflict_marker(&source(text), Some(&(marker..marker + 2))).unwrap();
        assert_eq!(d.line(), Some(2));
        // A line of equals signs alone, in a text, is no conflict.
        assert!(conflict_marker(&source("x = \"\"\"\n=======\n\"\"\"\n"), None).is_none());
        // Markers in a string, and a parse error elsewhere: not the cause.
        let text = "x = \"\"\"\n<<<<<<< a\n=======\n\"\"\"\ny = (\n";
        let end = text.len() - 1;
        assert!(conflict_marker(&source(text), Some(&(end..end + 1))).is_none());
    }

    #[test]
    fn a_missing_comma_between_strings_is_named() {
        let text = "x = [\n    \"six\"  # pinned\n    \"numpy\",\n]\n";
        let at = text.find("\"numpy\"").unwrap();
        let d = missing_comma(&source(text), &(at..at + 7)).unwrap();
        assert!(d.message.contains("\"six\" and \"numpy\""), "{}", d.message);
        assert_eq!(d.line(), Some(3));
        let escaped = "x = [\"a\\\"b\" \"c\"]";
        let at = escaped.find("\"c\"").unwrap();
        let d = missing_comma(&source(escaped), &(at..at + 3)).unwrap();
        assert!(d.message.contains("\"a\\\"b\""), "{}", d.message);
        // Not after a string: not this cause.
        let text = "x = [1 \"a\"]";
        let at = text.find("\"a\"").unwrap();
        assert!(missing_comma(&source(text), &(at..at + 3)).is_none());
    }
}

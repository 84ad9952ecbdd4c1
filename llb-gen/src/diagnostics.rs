//! Located errors and warnings: one type for every bad input (build.envd,
//! env.yaml, requirements files, options), rendered for people as
//! `path:line:col: error: ...` with an excerpt, and for BuildKit as the
//! `errdefs.Source` detail buildx prints.

use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use envd_proto::errdefs;

use crate::lint::Rule;

/// A named text a diagnostic points into. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceText(Arc<SourceTextData>);

#[derive(Debug, PartialEq, Eq)]
struct SourceTextData {
    name: String,
    text: String,
    /// Byte offset of the start of each line, so finding a position is a
    /// binary search: a file with many calls must not be rescanned per call.
    line_starts: Vec<usize>,
}

impl SourceText {
    pub fn new(name: impl Into<String>, text: impl Into<String>) -> SourceText {
        let text = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceText(Arc::new(SourceTextData {
            name: name.into(),
            text,
            line_starts,
        }))
    }

    pub fn name(&self) -> &str {
        &self.0.name
    }

    pub fn text(&self) -> &str {
        &self.0.text
    }

    /// 1-based line and 1-based column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let offset = clamp_to_char_boundary(text, offset);
        let starts = &self.0.line_starts;
        // The last line start at or before the offset; the first is 0.
        let line = starts.partition_point(|&start| start <= offset).max(1);
        let line_start = starts[line - 1];
        (line, text[line_start..offset].chars().count() + 1)
    }

    /// A one-character span at the last non-blank character at or before
    /// `offset`: parsers report unclosed brackets and the like at the end of
    /// input, but the line to show is the one that caused it.
    pub fn span_before(&self, offset: usize) -> Range<usize> {
        let text = self.text();
        let offset = clamp_to_char_boundary(text, offset);
        let at = text[..offset]
            .char_indices()
            .rev()
            .find(|(_, c)| !c.is_whitespace())
            .map_or(0, |(i, _)| i);
        let at = match text[offset..].chars().next() {
            Some(c) if !c.is_whitespace() => offset,
            _ => at,
        };
        at..at + text[at..].chars().next().map_or(0, char::len_utf8)
    }

    /// Byte range of 1-based `line`, without its newline (empty, at the
    /// end, past the last line).
    pub fn line_span(&self, line: usize) -> Range<usize> {
        self.line_range(line)
    }

    /// Byte range of 1-based `line`, without its newline.
    fn line_range(&self, line: usize) -> Range<usize> {
        let text = self.text();
        let starts = &self.0.line_starts;
        let index = line.saturating_sub(1);
        let Some(&start) = starts.get(index) else {
            return text.len()..text.len();
        };
        let end = starts.get(index + 1).map_or(text.len(), |next| next - 1);
        start..end
    }
}

/// Characters of an excerpt line shown at most; a longer line is shown
/// around the span, with `...` where it is cut.
const EXCERPT_CHARS: usize = 120;

/// The part of `line` to show, the caret's column in it, and the caret's
/// width, for a span at character `col` that is `width` characters wide.
fn window(line: &str, col: usize, width: usize) -> (String, usize, usize) {
    let count = line.chars().count();
    if count <= EXCERPT_CHARS {
        return (line.to_string(), col, width);
    }
    let from = col.saturating_sub(EXCERPT_CHARS / 3);
    let to = (from + EXCERPT_CHARS).min(count);
    let mut shown: String = line.chars().skip(from).take(to - from).collect();
    let mut caret_col = col - from;
    if from > 0 {
        shown.insert_str(0, "...");
        caret_col += 3;
    }
    if to < count {
        shown.push_str("...");
    }
    (shown, caret_col, width.min(to.saturating_sub(col)).max(1))
}

fn clamp_to_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary message, optionally pointing at another place in the same text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Note {
    pub span: Option<Range<usize>>,
    pub message: String,
}

/// An error or warning about one input, with the byte range it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub source: SourceText,
    pub span: Option<Range<usize>>,
    pub message: String,
    pub notes: Vec<Note>,
    /// The lint rule a warning belongs to (every warning has one).
    pub rule: Option<&'static Rule>,
}

impl Diagnostic {
    pub fn error(
        source: &SourceText,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            source: source.clone(),
            span,
            message: message.into(),
            notes: vec![],
            rule: None,
        }
    }

    /// A finding of lint rule `rule`: builds warn about it, and
    /// `--call check` lists it.
    pub fn warning(
        rule: &'static Rule,
        source: &SourceText,
        span: Option<Range<usize>>,
        message: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            severity: Severity::Warning,
            rule: Some(rule),
            ..Diagnostic::error(source, span, message)
        }
    }

    /// Adds a note without a location (a hint or an explanation).
    pub fn with_help(mut self, message: impl Into<String>) -> Diagnostic {
        self.notes.push(Note {
            span: None,
            message: message.into(),
        });
        self
    }

    /// Adds a note pointing at another place in the same text.
    pub fn with_note_at(mut self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        self.notes.push(Note {
            span: Some(span),
            message: message.into(),
        });
        self
    }

    /// 1-based line of the start of the span, if any.
    pub fn line(&self) -> Option<usize> {
        self.span.as_ref().map(|s| self.source.line_col(s.start).0)
    }

    /// One line for places that show no excerpt: `build.envd:5: message`
    /// (without the line when there is none).
    pub fn headline(&self) -> String {
        match self.line() {
            Some(line) => format!("{}:{line}: {}", self.source.name(), self.message),
            None => format!("{}: {}", self.source.name(), self.message),
        }
    }

    /// The detail BuildKit turns into a file excerpt (1-based lines).
    pub fn to_errdefs(&self) -> errdefs::Source {
        let to_i32 = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        let ranges = self
            .span
            .iter()
            .map(|span| {
                let (start_line, start_col) = self.source.line_col(span.start);
                let (end_line, end_col) = self.source.line_col(span.end.max(span.start));
                errdefs::Range {
                    start: errdefs::Position {
                        line: to_i32(start_line),
                        character: to_i32(start_col - 1),
                    },
                    end: errdefs::Position {
                        line: to_i32(end_line),
                        character: to_i32(end_col - 1),
                    },
                }
            })
            .collect();
        errdefs::Source {
            info: errdefs::SourceInfo {
                filename: self.source.name().to_string(),
                data: self.source.text().as_bytes().to_vec(),
                language: language_of(self.source.name()).to_string(),
            },
            ranges,
        }
    }

    /// `path:line:col: error: message`, the excerpt with carets, then notes.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let kind = match (self.severity, self.rule) {
            (Severity::Error, _) => "error".to_string(),
            (Severity::Warning, Some(rule)) => format!("warning[{}]", rule.name),
            (Severity::Warning, None) => "warning".to_string(),
        };
        self.located(&mut out, &kind, self.span.as_ref(), &self.message);
        for note in &self.notes {
            match &note.span {
                Some(span) => self.located(&mut out, "note", Some(span), &note.message),
                None => out.push_str(&format!("  = help: {}\n", note.message)),
            }
        }
        out
    }

    /// `path:line:col: kind: message` and the excerpt, or `path: kind: message`.
    fn located(&self, out: &mut String, kind: &str, span: Option<&Range<usize>>, message: &str) {
        match span {
            Some(span) => {
                let (line, col) = self.source.line_col(span.start);
                out.push_str(&format!(
                    "{}:{line}:{col}: {kind}: {message}\n",
                    self.source.name()
                ));
                self.excerpt(out, span);
            }
            None => out.push_str(&format!("{}: {kind}: {message}\n", self.source.name())),
        }
    }

    /// The first line of the span with carets under the spanned part.
    fn excerpt(&self, out: &mut String, span: &Range<usize>) {
        let (line, col) = self.source.line_col(span.start);
        let range = self.source.line_range(line);
        let text = &self.source.text()[range.clone()];
        let end = clamp_to_char_boundary(self.source.text(), span.end.clamp(span.start, range.end));
        let start = clamp_to_char_boundary(self.source.text(), span.start.max(range.start));
        let width = self.source.text()[start..end].chars().count().max(1);
        let (shown, caret_col, width) = window(text, col - 1, width);
        let gutter = line.to_string().len();
        out.push_str(&format!("{:gutter$} |\n", ""));
        out.push_str(&format!("{line} | {shown}\n"));
        out.push_str(&format!(
            "{:gutter$} | {}{}\n",
            "",
            " ".repeat(caret_col),
            "^".repeat(width)
        ));
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostic {}

/// Language names BuildKit shows next to excerpts.
pub(crate) fn language_of(name: &str) -> &'static str {
    if name.ends_with(".yaml") || name.ends_with(".yml") {
        "yaml"
    } else if name.ends_with(".txt") {
        "requirements"
    } else {
        "starlark"
    }
}

/// One or more errors, plus the warnings seen before them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// What a stage that failed reports: the warnings it gave before, then
    /// what stopped it (every stage reports in this order).
    pub fn after_warnings(
        warnings: impl IntoIterator<Item = Diagnostic>,
        stopped: impl IntoIterator<Item = Diagnostic>,
    ) -> Diagnostics {
        Diagnostics(warnings.into_iter().chain(stopped).collect())
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.0.iter().filter(|d| d.severity == Severity::Error)
    }

    /// The first error, the one BuildKit shows.
    pub fn first_error(&self) -> Option<&Diagnostic> {
        self.errors().next()
    }

    pub fn render(&self) -> String {
        self.0
            .iter()
            .map(Diagnostic::render)
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Diagnostics {
        Diagnostics(vec![d])
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    fn src() -> SourceText {
        SourceText::new(
            "build.envd",
            "def build():\n    base(os=\"x\")\n    run(commands=[])\n",
        )
    }

    #[test]
    fn long_lines_are_shown_around_the_span() {
        let line = format!("x = {}", "+1".repeat(1000));
        let source = SourceText::new("build.envd", line.clone());
        let rendered = Diagnostic::error(&source, Some(1000..1001), "here").render();
        let shown = rendered.lines().nth(2).unwrap();
        assert!(
            shown.starts_with("1 | ...") && shown.ends_with("..."),
            "{shown}"
        );
        assert!(shown.chars().count() < 140, "{shown}");
        let caret = rendered.lines().nth(3).unwrap();
        let column = caret.find('^').unwrap();
        assert_eq!(&shown[column..column + 1], &line[1000..1001]);
        let short = Diagnostic::error(&SourceText::new("f", "ab"), Some(1..2), "m").render();
        assert!(short.contains("1 | ab\n  |  ^\n"), "{short}");
    }

    #[test]
    fn positions_match_a_scan_of_the_text() {
        let text = "def build():\n    base(os=\"\u{3000}x\")\r\n\n  run()";
        let source = SourceText::new("build.envd", text);
        for offset in 0..=text.len() + 2 {
            let clamped = clamp_to_char_boundary(text, offset);
            let before = &text[..clamped];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            let col = text[start..clamped].chars().count() + 1;
            assert_eq!(source.line_col(offset), (line, col), "offset {offset}");
        }
        assert_eq!(&text[source.line_range(2)], "    base(os=\"\u{3000}x\")\r");
        assert_eq!(&text[source.line_range(4)], "  run()");
        assert_eq!(source.line_range(9), text.len()..text.len());
    }

    #[test]
    fn renders_location_excerpt_and_notes() {
        let text = src();
        let start = text.text().find("run").unwrap();
        let base = text.text().find("base").unwrap();
        let d = Diagnostic::error(&text, Some(start..start + 16), "run: `commands` is empty")
            .with_note_at(base..base + 4, "base() is here")
            .with_help("pass at least one command");
        assert_eq!(
            d.render(),
            "build.envd:3:5: error: run: `commands` is empty\n  |\n3 |     run(commands=[])\n  |     ^^^^^^^^^^^^^^^^\n\
             build.envd:2:5: note: base() is here\n  |\n2 |     base(os=\"x\")\n  |     ^^^^\n  = help: pass at least one command\n"
        );
        assert_eq!(d.line(), Some(3));
    }

    #[test]
    fn errdefs_ranges_are_one_based_lines() {
        let text = src();
        let start = text.text().find("base").unwrap();
        let detail = Diagnostic::error(&text, Some(start..start + 12), "bad").to_errdefs();
        assert_eq!(detail.info.filename, "build.envd");
        assert_eq!(detail.info.language, "starlark");
        assert_eq!(detail.info.data, text.text().as_bytes());
        assert_eq!(
            detail.ranges[0].start,
            errdefs::Position {
                line: 2,
                character: 4
            }
        );
        assert_eq!(
            detail.ranges[0].end,
            errdefs::Position {
                line: 2,
                character: 16
            }
        );
    }

    #[test]
    fn span_before_skips_trailing_blank_text() {
        let text = SourceText::new("env.yaml", "a: [b\n\n");
        assert_eq!(text.span_before(7), 4..5);
        assert_eq!(text.span_before(0), 0..1);
        assert_eq!(text.span_before(3), 3..4);
    }

    #[test]
    fn spans_past_the_end_or_inside_characters_do_not_panic() {
        let text = SourceText::new("env.yaml", "näme: x");
        let d = Diagnostic::error(&text, Some(2..100), "x");
        assert!(d.render().starts_with("env.yaml:1:2: error: x"));
        assert_eq!(text.line_col(1000), (1, 8));
        let unlocated =
            Diagnostic::warning(&crate::lint::BASE_NOT_CALLED, &text, None, "w").render();
        assert_eq!(unlocated, "env.yaml: warning[BaseNotCalled]: w\n");
    }
}

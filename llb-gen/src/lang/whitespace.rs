//! White space starlark-rust refuses and people's files have: tabs, where
//! envd's Starlark (go.starlark.net) accepts them, and Unicode spaces
//! (U+00A0 no-break space, U+3000 ideographic space, ...) pasted from web
//! pages. In the indentation of a statement a tab counts as
//! go.starlark.net's scanner counts it: it adds 8 minus the tab's character
//! position modulo 8 (so `\t` is 8 columns and `\t\t` 15, not 16). Any
//! other tab, and every Unicode space, outside a string or comment is one
//! space. Strings and comments keep theirs.

use super::nesting::{line_end, string_end};

/// go.starlark.net's tab width for indentation.
const TAB: usize = 8;

/// The text with that white space replaced by spaces, or `None` when it
/// has none.
/// Line numbers are kept; columns after an indentation tab count the
/// columns it stands for.
pub fn expand(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    if !bytes.contains(&b'\t') && text.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut depth = 0usize;
    // At the start of a line that begins a statement (not inside brackets
    // or after a `\` continuation), where the indentation is.
    let mut statement_start = true;
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        if statement_start {
            statement_start = false;
            let mut columns = 0;
            let start = i;
            let mut position = 0;
            while let Some(c) = text[i..].chars().next().filter(|&c| is_blank(c)) {
                columns += if c == '\t' { TAB - position % TAB } else { 1 };
                position += 1;
                i += c.len_utf8();
            }
            if text[start..i].bytes().any(|b| b != b' ') {
                changed = true;
                out.extend(std::iter::repeat_n(' ', columns));
            } else {
                out.push_str(&text[start..i]);
            }
            continue;
        }
        let next = match bytes[i] {
            b'#' => line_end(bytes, i),
            b'\'' | b'"' => string_end(bytes, i),
            b'\\' => (i + 2).min(bytes.len()),
            b'(' | b'[' | b'{' => {
                depth += 1;
                i + 1
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i + 1
            }
            b'\n' => {
                statement_start = depth == 0;
                i + 1
            }
            b'\t' => {
                changed = true;
                out.push(' ');
                i += 1;
                continue;
            }
            b if b >= 0x80 => {
                let c = text[i..].chars().next().unwrap_or(' ');
                if is_blank(c) {
                    changed = true;
                    out.push(' ');
                    i += c.len_utf8();
                    continue;
                }
                i + c.len_utf8()
            }
            _ => i + 1,
        };
        // Copy whole characters: `next` ends a token or a string.
        let next = (next.max(i + 1)..=bytes.len())
            .find(|&end| text.is_char_boundary(end))
            .unwrap_or(bytes.len());
        out.push_str(&text[i..next]);
        // A continuation's newline is inside the copied escape pair.
        i = next;
    }
    changed.then_some(out)
}

/// Blank within a line: a space, a tab, or a Unicode space.
fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t' || (c.is_whitespace() && !c.is_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indentation_tabs_count_as_go_starlark_counts_them() {
        let text = "def build():\n\tbase(os=\"a\")\n  \tif x:\n\t\trun()\n";
        let spaces = |n: usize| " ".repeat(n);
        assert_eq!(
            expand(text).unwrap(),
            format!(
                "def build():\n{}base(os=\"a\")\n{}if x:\n{}run()\n",
                spaces(8),
                spaces(8),
                spaces(15)
            )
        );
    }

    #[test]
    fn other_tabs_are_spaces_and_strings_and_comments_keep_theirs() {
        let text = "def build():\n    run(commands=[\n\t\t\"echo\tx\",\n\t],\tx=1) # a\tcomment\n    y = \"\"\"\n\tkept\"\"\"\n";
        assert_eq!(
            expand(text).unwrap(),
            "def build():\n    run(commands=[\n  \"echo\tx\",\n ], x=1) # a\tcomment\n    y = \"\"\"\n\tkept\"\"\"\n"
        );
        assert_eq!(expand("x = 1\n"), None);
        assert_eq!(expand("x = \"\t\"\n"), None);
    }

    #[test]
    fn unicode_spaces_outside_strings_are_spaces() {
        let text =
            "def build():\n\u{a0}\u{a0}\u{a0}\u{a0}base(os=\"a\",\u{3000}language=\"\u{a0}\")\n";
        assert_eq!(
            expand(text).unwrap(),
            "def build():\n    base(os=\"a\", language=\"\u{a0}\")\n"
        );
    }

    #[test]
    fn unicode_survives() {
        let text = "x = [\n\t\"\u{3000}é\",\t# ü\n]\n";
        assert_eq!(expand(text).unwrap(), "x = [\n \"\u{3000}é\", # ü\n]\n");
    }
}

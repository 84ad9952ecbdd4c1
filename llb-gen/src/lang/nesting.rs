//! A bound on how deeply build.envd nests, checked before the Starlark
//! parser sees the file: the parser and compiler recurse once per level of
//! an expression (brackets, and operator chains such as `1+1+...`), so a
//! few thousand levels overflow the stack and abort the process. The scan
//! skips strings and comments; it counts brackets, and operators and
//! operator keywords per statement (each can add a level).

use std::ops::Range;

/// Brackets open at once. Real files nest a handful.
pub const MAX_BRACKET_DEPTH: usize = 64;
/// Operators (and `not`, `and`, `or`, `if`, `else`, `in`, `lambda`, `for`)
/// in one statement. Real statements have tens; a package list has none.
/// Measured: 400 levels evaluate on a 2 MiB thread (a debug build, starlark
/// optimized as in every build here); 500 did not.
pub const MAX_OPERATORS: usize = 300;

/// Where the file nests past a bound, and which.
#[derive(Debug, PartialEq, Eq)]
pub struct TooDeep {
    pub span: Range<usize>,
    pub message: String,
}

const OPERATOR_CHARS: &str = "+-*/%&|^~<>=!.";
const OPERATOR_WORDS: &[&str] = &["not", "and", "or", "if", "else", "in", "lambda", "for"];

/// Checks the bounds; the first place past one is the error.
pub fn check(text: &str) -> Result<(), TooDeep> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut operators = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'#' => i = line_end(bytes, i),
            b'\'' | b'"' => i = string_end(bytes, i),
            b'\\' => i += 2, // a line continuation (or a stray escape)
            b'\n' if depth == 0 => {
                operators = 0;
                i += 1;
            }
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_BRACKET_DEPTH {
                    return Err(TooDeep {
                        span: i..i + 1,
                        message: format!(
                            "brackets nest more than {MAX_BRACKET_DEPTH} deep; build files cannot nest without bound"
                        ),
                    });
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ if OPERATOR_CHARS.as_bytes().contains(&c) => {
                let start = i;
                while i < bytes.len() && OPERATOR_CHARS.as_bytes().contains(&bytes[i]) {
                    i += 1;
                }
                operators += 1;
                too_many(operators, start..i)?;
            }
            _ if c.is_ascii_alphabetic() || c == b'_' => {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                // A string prefix (r"...", b'...') belongs to the string.
                if i < bytes.len() && matches!(bytes[i], b'\'' | b'"') && i - start <= 2 {
                    continue;
                }
                if OPERATOR_WORDS.contains(&&text[start..i]) {
                    operators += 1;
                    too_many(operators, start..i)?;
                }
            }
            _ => i += 1,
        }
    }
    Ok(())
}

fn too_many(operators: usize, span: Range<usize>) -> Result<(), TooDeep> {
    if operators > MAX_OPERATORS {
        return Err(TooDeep {
            span,
            message: format!(
                "this statement has more than {MAX_OPERATORS} operators; build files cannot chain expressions without bound, split it into several statements"
            ),
        });
    }
    Ok(())
}

pub(super) fn line_end(bytes: &[u8], from: usize) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |p| from + p)
}

/// The index just past the string literal that starts at `from`.
pub(super) fn string_end(bytes: &[u8], from: usize) -> usize {
    let quote = bytes[from];
    let triple = bytes.get(from..from + 3) == Some(&[quote, quote, quote][..]);
    let mut i = from + if triple { 3 } else { 1 };
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'\n' if !triple => return i, // unterminated: the parser reports it
            b if b == quote && !triple => return i + 1,
            b if b == quote && bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]) => {
                return i + 3;
            }
            _ => i += 1,
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_files_pass() {
        let text = "# a (comment [ with brackets\ndef build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    install.python_packages(name=[\"a\", \"b\" if x else \"c\"])\n    run(commands=[\"echo '(((' \\\"[[[\\\"\", r'\\(', '''\n((((\n''']) # ]]]\n";
        assert_eq!(check(text), Ok(()));
    }

    #[test]
    fn brackets_past_the_bound_are_refused_at_the_bracket() {
        let deep = format!(
            "x = {}{}",
            "[".repeat(MAX_BRACKET_DEPTH + 1),
            "]".repeat(65)
        );
        let err = check(&deep).unwrap_err();
        assert_eq!(err.span, 4 + MAX_BRACKET_DEPTH..5 + MAX_BRACKET_DEPTH);
        let ok = format!("x = {}{}", "[".repeat(MAX_BRACKET_DEPTH), "]".repeat(64));
        assert_eq!(check(&ok), Ok(()));
        // Brackets in strings and comments do not count.
        let quoted = format!("x = \"{}\" # {}", "[".repeat(500), "(".repeat(500));
        assert_eq!(check(&quoted), Ok(()));
    }

    #[test]
    fn operator_chains_are_bounded_per_statement() {
        let chain = |n: usize| format!("x = 1{}\n", "+1".repeat(n));
        assert_eq!(check(&chain(MAX_OPERATORS - 1)), Ok(())); // `=` counts too
        assert!(check(&chain(MAX_OPERATORS)).is_err());
        assert!(check(&format!("x = {}True", "not ".repeat(MAX_OPERATORS + 1))).is_err());
        // The count starts again at each statement, not inside brackets.
        let many_lines = chain(200).repeat(10);
        assert_eq!(check(&many_lines), Ok(()));
        let in_brackets = format!("x = [\n{}]", "1+\n".repeat(MAX_OPERATORS + 1));
        assert!(check(&in_brackets).is_err());
    }
}

//! POSIX shell quoting for the scripts install steps run.

/// Quotes a word for `sh` unless it is made only of safe characters.
pub fn quote(word: &str) -> String {
    let safe = |c: char| c.is_ascii_alphanumeric() || "@%+=:,./-_".contains(c);
    if !word.is_empty() && word.chars().all(safe) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Quotes each word and joins them with spaces.
pub fn join<S: AsRef<str>>(words: impl IntoIterator<Item = S>) -> String {
    words
        .into_iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Removes the indentation common to all non-blank lines and leading blank
/// lines, and ends the text with one newline: triple-quoted strings in
/// build.envd are indented like the code around them. Indentation is the
/// leading whitespace of a line, Unicode spaces included; only a prefix
/// that every line shares (the same characters) is removed.
pub fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().skip_while(|l| l.trim().is_empty()).collect();
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent_of(l))
        .reduce(common_prefix)
        .unwrap_or("");
    let mut out: Vec<&str> = lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                l.strip_prefix(common).unwrap_or(l)
            }
        })
        .collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    let mut text = out.join("\n");
    text.push('\n');
    text
}

/// The leading whitespace of a line.
fn indent_of(line: &str) -> &str {
    let rest = line.trim_start();
    line.strip_suffix(rest).unwrap_or("")
}

/// The longest prefix two strings share, ending on a character boundary.
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let end = a
        .char_indices()
        .zip(b.chars())
        .find(|((_, ca), cb)| ca != cb)
        .map_or_else(|| a.len().min(b.len()), |((i, _), _)| i);
    // `end` is a boundary in `a`: a char index, or the end of the shorter
    // string, which is a boundary when every char before it matched.
    a.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("torch==1.10"), "torch==1.10");
        assert_eq!(quote("mmcv>=1,<2"), "'mmcv>=1,<2'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
        assert_eq!(join(["pip", "install", "a b"]), "pip install 'a b'");
    }

    #[test]
    fn dedenting() {
        assert_eq!(
            dedent("\n    channels:\n    - defaults\n\n      x: 1\n    "),
            "channels:\n- defaults\n\n  x: 1\n"
        );
        assert_eq!(dedent("a"), "a\n");
    }

    #[test]
    fn dedenting_unicode_indents_never_slices_a_character() {
        // A no-break space (2 bytes) under a one-space indent: they share
        // nothing, so nothing is removed.
        assert_eq!(dedent(" deb a\n\u{a0}deb b\n"), " deb a\n\u{a0}deb b\n");
        // An ideographic space (3 bytes) shared by every line is removed.
        assert_eq!(dedent("\u{3000}a\n\u{3000} b\n"), "a\n b\n");
        assert_eq!(dedent("\u{3000}a\n\u{a0}b\n"), "\u{3000}a\n\u{a0}b\n");
        assert_eq!(dedent("\t\ta\n\tb\n"), "\ta\nb\n");
    }
}

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
/// build.envd are indented like the code around them.
pub fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text.lines().skip_while(|l| l.trim().is_empty()).collect();
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let mut out: Vec<&str> = lines
        .iter()
        .map(|l| {
            if l.trim().is_empty() {
                ""
            } else {
                &l[indent..]
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
}

//! `.dockerignore`: the context paths a build leaves out, with the
//! semantics of Docker's pattern matcher (moby/patternmatcher), which
//! BuildKit applies to the patterns the frontend sends: one pattern a line
//! (a line starting with `#` is a comment), cleaned like a path; `!`
//! makes an exception; the last pattern that matches a path or one of its
//! folders decides. `*` and `?` stay within a folder, `**` spans folders
//! (`dir/**` is what is under `dir`, `**x` any path ending in `x`), `[...]`
//! is a character class (`[^...]` negated) and `\` escapes. The compiler
//! checks the files it reads against the same patterns.

use super::context::{ContextFiles, FileKind};

/// The file's name at the context's root.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// The parsed patterns of a `.dockerignore`.
#[derive(Clone, Debug, Default)]
pub struct Ignore {
    /// As BuildKit takes them: cleaned, `!` kept.
    patterns: Vec<String>,
    compiled: Vec<(bool, Pattern)>,
}

/// A line of `.dockerignore` that is not a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IgnoreError {
    /// 1-based line in the file.
    pub line: usize,
    pub message: String,
}

impl Ignore {
    pub fn parse(text: &str) -> Result<Ignore, IgnoreError> {
        // Saved on Windows: a byte-order mark is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut ignore = Ignore::default();
        for (index, line) in text.lines().enumerate() {
            let error = |message: String| IgnoreError {
                line: index + 1,
                message,
            };
            // A comment only when `#` is the line's first character.
            if line.starts_with('#') {
                continue;
            }
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            let (exception, pattern) = match line.strip_prefix('!') {
                Some(rest) => (true, rest.trim()),
                None => (false, line),
            };
            if pattern.is_empty() {
                return Err(error("`!` alone is not a pattern".to_string()));
            }
            let mut cleaned = clean(pattern);
            if cleaned.len() > 1 && cleaned.starts_with('/') {
                cleaned.remove(0);
            }
            let compiled = Pattern::compile(&cleaned)
                .map_err(|why| error(format!("{pattern:?} is not a valid pattern: {why}")))?;
            ignore.patterns.push(if exception {
                format!("!{cleaned}")
            } else {
                cleaned
            });
            ignore.compiled.push((exception, compiled));
        }
        Ok(ignore)
    }

    /// The patterns, for the context's local source.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out:
    /// the last pattern that matches it, or a folder it is in, decides.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        if path == "." {
            return false;
        }
        let folders: Vec<&str> = match path.rsplit_once('/') {
            Some((parent, _)) => parent.split('/').collect(),
            None => vec![],
        };
        let mut excluded = false;
        for (exception, pattern) in &self.compiled {
            let matched = pattern.matches(&path)
                || (1..=folders.len()).any(|n| pattern.matches(&folders[..n].join("/")));
            if matched {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// Go's `filepath.Clean`: `./a//b/../c/` -> `a/c`, leading `..` kept, `.`
/// for nothing.
fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut out: Vec<&str> = vec![];
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if out.last().is_some_and(|last| *last != "..") => {
                out.pop();
            }
            ".." if rooted => {}
            part => out.push(part),
        }
    }
    match (rooted, out.is_empty()) {
        (true, _) => format!("/{}", out.join("/")),
        (false, true) => ".".to_string(),
        (false, false) => out.join("/"),
    }
}

/// One pattern, as the matcher reads it.
#[derive(Clone, Debug)]
enum Pattern {
    /// No special characters: the path itself.
    Exact(String),
    /// `dir/**` and the like: paths that start with the text.
    Prefix(String),
    /// `**x` with nothing special in `x`: paths that end with it.
    Suffix(String),
    Tokens(Vec<Token>),
}

#[derive(Clone, Debug)]
enum Token {
    Char(char),
    /// `*`: any characters but `/`.
    Star,
    /// `?`: one character but `/`.
    One,
    /// `[...]`: one character in (or, negated, not in) the ranges.
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    /// `**` before more pattern: any folders, or none.
    Folders,
    /// `**` at the end of a pattern that is not a plain prefix: anything.
    Anything,
}

impl Pattern {
    fn compile(pattern: &str) -> Result<Pattern, String> {
        let chars: Vec<char> = pattern.chars().collect();
        let mut tokens = vec![];
        let mut plain = true;
        let mut i = 0;
        while i < chars.len() {
            match chars[i] {
                '*' if chars.get(i + 1) == Some(&'*') => {
                    let leading = i == 0;
                    i += 2;
                    if chars.get(i) == Some(&'/') {
                        i += 1;
                    }
                    let rest: String = chars[i..].iter().collect();
                    if leading && !rest.contains(['*', '?', '[', ']', '\\']) {
                        // `**x`: a suffix, and `**/x` also matches `x`.
                        return Ok(Pattern::Suffix(pattern[2..].to_string()));
                    }
                    if i == chars.len() {
                        if plain {
                            return Ok(Pattern::Prefix(pattern[..pattern.len() - 2].to_string()));
                        }
                        tokens.push(Token::Anything);
                    } else {
                        tokens.push(Token::Folders);
                    }
                    plain = false;
                    continue;
                }
                '*' => {
                    tokens.push(Token::Star);
                    plain = false;
                }
                '?' => {
                    tokens.push(Token::One);
                    plain = false;
                }
                '\\' if i + 1 < chars.len() => {
                    i += 1;
                    tokens.push(Token::Char(chars[i]));
                    plain = false;
                }
                '[' => {
                    let (class, end) = parse_class(&chars, i)?;
                    tokens.push(class);
                    i = end;
                    plain = false;
                }
                ']' => return Err("unmatched `]`".to_string()),
                c => tokens.push(Token::Char(c)),
            }
            i += 1;
        }
        if plain {
            Ok(Pattern::Exact(pattern.to_string()))
        } else {
            Ok(Pattern::Tokens(tokens))
        }
    }

    fn matches(&self, path: &str) -> bool {
        match self {
            Pattern::Exact(exact) => path == exact,
            Pattern::Prefix(prefix) => path.starts_with(prefix.as_str()),
            Pattern::Suffix(suffix) => {
                path.ends_with(suffix.as_str())
                    || suffix.strip_prefix('/').is_some_and(|name| path == name)
            }
            Pattern::Tokens(tokens) => {
                let path: Vec<char> = path.chars().collect();
                let mut failed = std::collections::HashSet::new();
                match_tokens(tokens, &path, 0, 0, &mut failed)
            }
        }
    }
}

/// A character class from `chars[start]` (`[`); the class and the index of
/// its closing `]`.
fn parse_class(chars: &[char], start: usize) -> Result<(Token, usize), String> {
    let mut i = start + 1;
    let negated = chars.get(i) == Some(&'^');
    if negated {
        i += 1;
    }
    let mut ranges = vec![];
    let first = i;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("unclosed `[`".to_string());
        };
        if c == ']' && i > first {
            return Ok((Token::Class { negated, ranges }, i));
        }
        let c = if c == '\\' {
            i += 1;
            *chars.get(i).ok_or("unclosed `[`")?
        } else {
            c
        };
        if chars.get(i + 1) == Some(&'-') && chars.get(i + 2).is_some_and(|end| *end != ']') {
            let end = chars[i + 2];
            if end < c {
                return Err(format!("bad range `{c}-{end}`"));
            }
            ranges.push((c, end));
            i += 3;
        } else {
            ranges.push((c, c));
            i += 1;
        }
    }
}

/// Whether `tokens[t..]` match `path[p..]`; `failed` remembers the pairs
/// that did not, so the time is bounded by their product.
fn match_tokens(
    tokens: &[Token],
    path: &[char],
    t: usize,
    p: usize,
    failed: &mut std::collections::HashSet<(usize, usize)>,
) -> bool {
    if failed.contains(&(t, p)) {
        return false;
    }
    let matched = match tokens.get(t) {
        None => p == path.len(),
        Some(Token::Char(c)) => {
            path.get(p) == Some(c) && match_tokens(tokens, path, t + 1, p + 1, failed)
        }
        Some(Token::One) => {
            path.get(p).is_some_and(|c| *c != '/')
                && match_tokens(tokens, path, t + 1, p + 1, failed)
        }
        Some(Token::Class { negated, ranges }) => {
            path.get(p)
                .is_some_and(|c| ranges.iter().any(|(lo, hi)| lo <= c && c <= hi) != *negated)
                && match_tokens(tokens, path, t + 1, p + 1, failed)
        }
        Some(Token::Star) => {
            let mut end = p;
            loop {
                if match_tokens(tokens, path, t + 1, end, failed) {
                    break true;
                }
                if end == path.len() || path[end] == '/' {
                    break false;
                }
                end += 1;
            }
        }
        Some(Token::Anything) => true,
        Some(Token::Folders) => {
            // None, or anything up to and including a `/`.
            match_tokens(tokens, path, t + 1, p, failed)
                || (p..path.len())
                    .filter(|&i| path[i] == '/')
                    .any(|i| match_tokens(tokens, path, t + 1, i + 1, failed))
        }
    };
    if !matched {
        failed.insert((t, p));
    }
    matched
}

/// The context as the build sees it: paths `.dockerignore` leaves out are
/// errors to read, as they are missing from every transfer.
pub struct Filtered<'a> {
    inner: &'a dyn ContextFiles,
    ignore: Ignore,
}

impl<'a> Filtered<'a> {
    pub fn new(inner: &'a dyn ContextFiles, ignore: Ignore) -> Filtered<'a> {
        Filtered { inner, ignore }
    }

    pub fn ignore(&self) -> &Ignore {
        &self.ignore
    }

    fn check(&self, path: &str) -> Result<(), String> {
        if self.ignore.excludes(path) {
            Err(format!("{DOCKERIGNORE} leaves it out of the build context"))
        } else {
            Ok(())
        }
    }
}

impl ContextFiles for Filtered<'_> {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        self.check(path)?;
        self.inner.read(path)
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        self.check(path)?;
        self.inner.kind(path)
    }

    fn prefetch(&self, paths: &[String]) {
        self.inner.prefetch(paths);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ignore(text: &str) -> Ignore {
        Ignore::parse(text).unwrap()
    }

    #[test]
    fn patterns_as_docker_reads_them() {
        let ignore = ignore(
            "\u{feff}# secrets\r\n.env\r\n/models/*.bin\r\n**/__pycache__\r\n*.log\r\n!keep.log\r\n\r\n./data/\r\nsecret?.txt\r\n[a-c].tmp\r\n  # not a comment\r\n",
        );
        assert_eq!(
            ignore.patterns(),
            [
                ".env",
                "models/*.bin",
                "**/__pycache__",
                "*.log",
                "!keep.log",
                "data",
                "secret?.txt",
                "[a-c].tmp",
                "# not a comment"
            ]
        );
        for excluded in [
            ".env",
            "models/asr.bin",
            "wrapper/__pycache__/x.pyc",
            "__pycache__",
            "run.log",
            "data",
            "data/a/b.csv",
            "secret1.txt",
            "b.tmp",
            "./.env",
            "# not a comment",
        ] {
            assert!(ignore.excludes(excluded), "{excluded}");
        }
        for kept in [
            "keep.log",
            "wrapper/run.log",
            "models/sub/asr.bin",
            "models/asr.txt",
            "requirements.txt",
            "d.tmp",
            "secret10.txt",
            ".",
        ] {
            assert!(!ignore.excludes(kept), "{kept}");
        }
    }

    #[test]
    fn double_stars_as_docker_matches_them() {
        // `dir/**` is what is under dir, not dir itself.
        let under = ignore("build/**\n");
        assert!(under.excludes("build/x") && under.excludes("build/a/b"));
        assert!(!under.excludes("build"));
        // `**x` is a suffix, at any depth.
        let suffix = ignore("**.log\n");
        assert!(suffix.excludes("a/b/x.log") && suffix.excludes("x.log"));
        // `a/**/b`: b at any depth under a, or right in it.
        let middle = ignore("a/**/b\n");
        assert!(middle.excludes("a/b") && middle.excludes("a/x/y/b"));
        assert!(!middle.excludes("a/xb"));
        let nested = ignore("**/*.pyc\n");
        assert!(nested.excludes("x.pyc") && nested.excludes("a/b/x.pyc"));
    }

    #[test]
    fn classes_escapes_and_cleaning() {
        // Only `^` negates; `!` in a class is a character.
        let class = ignore("[!a].txt\n[^x].md\n");
        assert!(class.excludes("!.txt") && class.excludes("a.txt") && !class.excludes("b.txt"));
        assert!(class.excludes("y.md") && !class.excludes("x.md"));
        assert!(ignore("\\*.txt\n").excludes("*.txt"));
        assert!(!ignore("\\*.txt\n").excludes("a.txt"));
        // A leading `..` is kept, as Go's filepath.Clean keeps it.
        assert_eq!(ignore("../secret\n").patterns(), ["../secret"]);
        assert_eq!(ignore("a/../../b\n").patterns(), ["../b"]);
    }

    #[test]
    fn the_last_matching_line_wins() {
        let ignore = ignore("*.txt\n!requirements*.txt\nrequirements-dev.txt\n");
        assert!(ignore.excludes("notes.txt"));
        assert!(!ignore.excludes("requirements.txt"));
        assert!(ignore.excludes("requirements-dev.txt"));
    }

    #[test]
    fn bad_lines_are_errors_at_their_line() {
        assert_eq!(Ignore::parse("a\n!\n").unwrap_err().line, 2);
        assert_eq!(Ignore::parse("[abc\n").unwrap_err().line, 1);
        assert_eq!(Ignore::parse("a]\n").unwrap_err().line, 1);
    }
}

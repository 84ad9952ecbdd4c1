//! `.dockerignore`: the context paths a build leaves out, read the way
//! BuildKit's Dockerfile frontend reads the file (one pattern a line, `#`
//! comments, `!` exceptions, the last matching line wins, a pattern that
//! matches a folder leaves out what is in it). The patterns go to BuildKit
//! with every transfer of the context; the compiler checks the files it
//! reads against them itself.

use super::context::{ContextFiles, FileKind};

/// The file's name at the context's root.
pub const DOCKERIGNORE: &str = ".dockerignore";

/// The parsed patterns of a `.dockerignore`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ignore {
    /// As BuildKit takes them: cleaned, `!` kept.
    patterns: Vec<String>,
}

impl Ignore {
    pub fn parse(text: &str) -> Ignore {
        // Saved on Windows: a byte-order mark is not part of the first line.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let patterns = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| {
                let (exception, pattern) = match line.strip_prefix('!') {
                    Some(rest) => (true, rest.trim()),
                    None => (false, line),
                };
                let cleaned = clean(pattern);
                (!cleaned.is_empty()).then(|| {
                    if exception {
                        format!("!{cleaned}")
                    } else {
                        cleaned
                    }
                })
            })
            .collect();
        Ignore { patterns }
    }

    /// The patterns, for the context's local source.
    pub fn patterns(&self) -> &[String] {
        &self.patterns
    }

    /// Whether `path` (relative to the context, `/`-separated) is left out.
    pub fn excludes(&self, path: &str) -> bool {
        let path = clean(path);
        if path.is_empty() {
            return false;
        }
        let segments: Vec<&str> = path.split('/').collect();
        let mut excluded = false;
        for pattern in &self.patterns {
            let (exception, pattern) = match pattern.strip_prefix('!') {
                Some(rest) => (true, rest),
                None => (false, pattern.as_str()),
            };
            let pattern: Vec<&str> = pattern.split('/').collect();
            // The path or one of the folders it is in.
            let matched = (1..=segments.len()).any(|n| matches_segments(&pattern, &segments[..n]));
            if matched {
                excluded = !exception;
            }
        }
        excluded
    }
}

/// `./a//b/../c/` -> `a/c`; a leading `/` is the context's root.
fn clean(path: &str) -> String {
    let mut out: Vec<&str> = vec![];
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            part => out.push(part),
        }
    }
    out.join("/")
}

/// Pattern segments against path segments; `**` is any number of them.
fn matches_segments(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| matches_segments(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((segment, path_rest)) => {
                matches_glob(first.as_bytes(), segment.as_bytes())
                    && matches_segments(rest, path_rest)
            }
            None => false,
        },
    }
}

/// Go's `filepath.Match` within one segment: `*`, `?`, `[...]` (with `^`
/// or `!` to negate, and ranges), `\` escapes.
fn matches_glob(pattern: &[u8], name: &[u8]) -> bool {
    match pattern.split_first() {
        None => name.is_empty(),
        Some((b'*', rest)) => (0..=name.len()).any(|skip| matches_glob(rest, &name[skip..])),
        Some((b'?', rest)) => !name.is_empty() && matches_glob(rest, &name[1..]),
        Some((b'[', rest)) => {
            let Some((&c, name_rest)) = name.split_first() else {
                return false;
            };
            let Some(end) = rest.iter().position(|&b| b == b']') else {
                return false;
            };
            let (class, after) = (&rest[..end], &rest[end + 1..]);
            let (negated, class) = match class.split_first() {
                Some((b'^' | b'!', class)) => (true, class),
                _ => (false, class),
            };
            let mut found = false;
            let mut i = 0;
            while i < class.len() {
                if i + 2 < class.len() && class[i + 1] == b'-' {
                    found |= class[i] <= c && c <= class[i + 2];
                    i += 3;
                } else {
                    found |= class[i] == c;
                    i += 1;
                }
            }
            found != negated && matches_glob(after, name_rest)
        }
        Some((b'\\', rest)) if !rest.is_empty() => {
            name.first() == rest.first() && matches_glob(&rest[1..], &name[1..])
        }
        Some((&p, rest)) => name.first() == Some(&p) && matches_glob(rest, &name[1..]),
    }
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

    #[test]
    fn patterns_as_docker_reads_them() {
        let ignore = Ignore::parse(
            "\u{feff}# secrets\r\n.env\r\n/models/*.bin\r\n**/__pycache__\r\n*.log\r\n!keep.log\r\n\r\n./data/\r\nsecret?.txt\r\n[a-c].tmp\r\n",
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
                "[a-c].tmp"
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
            "",
        ] {
            assert!(!ignore.excludes(kept), "{kept}");
        }
    }

    #[test]
    fn the_last_matching_line_wins() {
        let ignore = Ignore::parse("*.txt\n!requirements*.txt\nrequirements-dev.txt\n");
        assert!(ignore.excludes("notes.txt"));
        assert!(!ignore.excludes("requirements.txt"));
        assert!(ignore.excludes("requirements-dev.txt"));
    }
}

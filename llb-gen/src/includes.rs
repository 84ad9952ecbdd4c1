//! What build.envd includes (`include(git=URL)`), before evaluation: the
//! URLs a file names, the bounds on what is fetched, and the one fetch
//! loop. envd cloned each repository and evaluated its `*.envd` files as
//! one module; here the caller fetches them first, since evaluation does no
//! I/O. The frontend fetches through BuildKit and `disk` from folders, each
//! as a [`Repositories`]; `lang` evaluates the files when build.envd calls
//! `include`.

use std::collections::BTreeMap;

use crate::limits::{
    MAX_INCLUDED_BYTES, MAX_INCLUDED_DEPTH, MAX_INCLUDED_FILES, MAX_INCLUDED_REPOSITORIES,
    describe_bytes,
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
fn unfetched(text: &str, fetched: &IncludedModules) -> Vec<String> {
    let mut all = urls(text);
    for file in fetched.values().flatten().flatten() {
        for url in urls(&file.text) {
            if !all.contains(&url) {
                all.push(url);
            }
        }
    }
    // A URL with a login is never fetched: the compile refuses the file.
    all.retain(|url| !fetched.contains_key(url) && crate::validate::url_login(url).is_none());
    all
}

/// Why a repository beyond the bound is not fetched.
fn too_many_repositories() -> String {
    format!("a build includes at most {MAX_INCLUDED_REPOSITORIES} repositories")
}

/// A fetched repository's `*.envd` files, by path: checked against the
/// bounds (files in it, and bytes with `so_far` from the others) and sorted.
fn bounded_files(
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
fn fetched_bytes(fetched: &IncludedModules) -> usize {
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

/// What an entry of a repository's folder is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    File,
    Folder,
    /// A link, a device: never followed or read.
    Other,
}

/// One fetched repository, its paths relative to its root ("" is the root).
pub trait Repository {
    /// The names in `folder`, with their kinds.
    fn list(&self, folder: &str) -> Result<Vec<(String, EntryKind)>, String>;
    /// At most `limit` bytes of the file at `path`.
    fn read(&self, path: &str, limit: usize) -> Result<Vec<u8>, String>;
}

/// Where the repositories come from: BuildKit's git sources and the
/// site's mirrors (the frontend), folders on disk (`llb-gen`, the language
/// server, tests).
pub trait Repositories {
    /// The `*.envd` files of `url`'s repository, with `so_far` bytes
    /// fetched from the others ([`envd_files`] reads an opened one).
    fn fetch(&self, url: &str, so_far: usize) -> Result<Vec<IncludedFile>, String>;
}

/// Every repository `text` includes, and those their files include, each
/// fetched once; one that cannot be fetched is kept with the reason, which
/// the evaluation reports at its `include` call.
pub fn fetch(text: &str, repositories: &dyn Repositories) -> IncludedModules {
    let mut fetched = IncludedModules::new();
    loop {
        let next = unfetched(text, &fetched);
        if next.is_empty() {
            return fetched;
        }
        for url in next {
            let files = if fetched.len() >= MAX_INCLUDED_REPOSITORIES {
                Err(too_many_repositories())
            } else {
                repositories.fetch(&url, fetched_bytes(&fetched))
            };
            fetched.insert(url, files);
        }
    }
}

/// The `*.envd` files of a repository, bounded and sorted by path: folders
/// are searched to [`MAX_INCLUDED_DEPTH`], `.git` is not.
pub fn envd_files(repository: &dyn Repository, so_far: usize) -> Result<Vec<IncludedFile>, String> {
    let mut paths = vec![];
    let mut folders = vec![(String::new(), 0)];
    while let Some((folder, depth)) = folders.pop() {
        for (name, kind) in repository.list(&folder)? {
            let path = if folder.is_empty() {
                name.clone()
            } else {
                format!("{folder}/{name}")
            };
            match kind {
                EntryKind::Folder if name != ".git" && depth < MAX_INCLUDED_DEPTH => {
                    folders.push((path, depth + 1))
                }
                EntryKind::File if name.ends_with(".envd") => paths.push(path),
                _ => {}
            }
        }
        if paths.len() > MAX_INCLUDED_FILES {
            return Err(format!("it has more than {MAX_INCLUDED_FILES} .envd files"));
        }
    }
    let mut files = vec![];
    let mut read = so_far;
    for path in paths {
        // No more than the bytes left under the bound (and one to tell).
        let limit = MAX_INCLUDED_BYTES.saturating_sub(read) + 1;
        let bytes = repository.read(&path, limit)?;
        read += bytes.len();
        files.push((path, bytes));
        if read > MAX_INCLUDED_BYTES {
            break;
        }
    }
    bounded_files(files, so_far)
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

    /// A repository in memory: its files by path.
    struct InMemory(Vec<(String, String)>);

    fn repository(files: &[(&str, &str)]) -> InMemory {
        InMemory(
            files
                .iter()
                .map(|(path, text)| (path.to_string(), text.to_string()))
                .collect(),
        )
    }

    impl Repository for InMemory {
        fn list(&self, folder: &str) -> Result<Vec<(String, EntryKind)>, String> {
            let prefix = if folder.is_empty() {
                String::new()
            } else {
                format!("{folder}/")
            };
            let mut names: Vec<(String, EntryKind)> = vec![];
            for (path, _) in &self.0 {
                let Some(rest) = path.strip_prefix(&prefix) else {
                    continue;
                };
                let entry = match rest.split_once('/') {
                    Some((dir, _)) => (dir.to_string(), EntryKind::Folder),
                    None => (rest.to_string(), EntryKind::File),
                };
                if !names.contains(&entry) {
                    names.push(entry);
                }
            }
            Ok(names)
        }

        fn read(&self, path: &str, limit: usize) -> Result<Vec<u8>, String> {
            let (_, text) = self
                .0
                .iter()
                .find(|(p, _)| p == path)
                .ok_or_else(|| format!("{path}: no such file"))?;
            Ok(text.as_bytes()[..text.len().min(limit)].to_vec())
        }
    }

    /// Repositories by URL; a URL without one cannot be fetched.
    struct Site(BTreeMap<String, InMemory>);

    impl Repositories for Site {
        fn fetch(&self, url: &str, so_far: usize) -> Result<Vec<IncludedFile>, String> {
            let repository = self.0.get(url).ok_or("offline")?;
            envd_files(repository, so_far)
        }
    }

    #[test]
    fn the_fetch_loop_follows_includes_once_and_keeps_failures() {
        let site = Site(BTreeMap::from([
            (
                "https://x/a".to_string(),
                repository(&[
                    ("lib/a.envd", "b = include(\"https://x/b\")\n"),
                    ("README.md", "not read"),
                    (".git/x.envd", "never read"),
                    ("top.envd", "a = include(\"https://x/a\")\n"),
                ]),
            ),
            (
                "https://x/b".to_string(),
                repository(&[("b.envd", "c = include(\"https://x/c\")\n")]),
            ),
        ]));
        let fetched = fetch("a = include(\"https://x/a\")\n", &site);
        let paths: Vec<&str> = fetched["https://x/a"]
            .as_ref()
            .unwrap()
            .iter()
            .map(|f| f.path.as_str())
            .collect();
        assert_eq!(paths, ["lib/a.envd", "top.envd"]);
        assert_eq!(fetched["https://x/b"].as_ref().unwrap().len(), 1);
        assert_eq!(fetched["https://x/c"], Err("offline".to_string()));
        assert_eq!(fetched.len(), 3);
    }

    #[test]
    fn the_fetch_loop_stops_at_the_repository_bound() {
        // Each repository includes the next: the chain is longer than the bound.
        let url = |n: usize| format!("https://x/{n}");
        let site = Site(
            (0..MAX_INCLUDED_REPOSITORIES + 2)
                .map(|n| {
                    let text = format!("n = include(\"{}\")\n", url(n + 1));
                    (url(n), repository(&[("m.envd", &text)]))
                })
                .collect(),
        );
        let fetched = fetch(&format!("n = include(\"{}\")\n", url(0)), &site);
        let ok = fetched.values().filter(|f| f.is_ok()).count();
        assert_eq!(ok, MAX_INCLUDED_REPOSITORIES);
        assert_eq!(
            fetched[&url(MAX_INCLUDED_REPOSITORIES)],
            Err(too_many_repositories())
        );
    }
}

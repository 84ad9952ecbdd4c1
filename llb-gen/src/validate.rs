//! Checks and scans of input text that the builtins, the language and the
//! lowering share: URLs and hosts, paths relative to a folder, the nearest
//! known name, YAML error messages, and finding a line by its start.

use std::ops::Range;

/// Whether `url` is an `http://` or `https://` URL with a host and no spaces.
pub fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) && !url.contains(char::is_whitespace)
}

/// `host[:port]` of an http(s) URL (what pip's trusted-host takes).
pub fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host)
}

/// What makes a URL carry a login, for messages: user info
/// (`user:password@host`); `None` when it has none.
pub fn url_login(url: &str) -> Option<&'static str> {
    let (authority, _) = authority_and_path(url);
    authority.contains('@').then_some("user:password@")
}

/// [`url_login`] for a conda channel, where a token path (`/t/TOKEN/...`,
/// anaconda.org's form) is a login too.
pub fn conda_url_login(url: &str) -> Option<&'static str> {
    url_login(url).or_else(|| {
        let (_, path) = authority_and_path(url);
        token_segment(path).map(|_| "a token path, /t/TOKEN/")
    })
}

/// `text` with the login of every URL in it masked ([`masked_login`]).
pub fn mask_logins(text: &str) -> String {
    let mut masked = String::with_capacity(text.len());
    let mut done = 0;
    for (at, url) in urls_in(text) {
        if conda_url_login(url).is_some() {
            masked.push_str(&text[done..at]);
            masked.push_str(&masked_login(url));
            done = at + url.len();
        }
    }
    masked.push_str(&text[done..]);
    masked
}

/// The URL with its login replaced by `***`, for messages.
pub fn masked_login(url: &str) -> String {
    let (authority, path) = authority_and_path(url);
    let scheme_len = url.len() - authority.len() - path.len();
    let mut masked = url[..scheme_len].to_string();
    match authority.rsplit_once('@') {
        Some((_, host)) => masked.push_str(&format!("***@{host}")),
        None => masked.push_str(authority),
    }
    match token_segment(path) {
        Some(token) => {
            let start = token.as_ptr() as usize - path.as_ptr() as usize;
            masked.push_str(&path[..start]);
            masked.push_str("***");
            masked.push_str(&path[start + token.len()..]);
        }
        None => masked.push_str(path),
    }
    masked
}

/// The URLs (`http://`, `https://`) in a text such as a `.condarc`, with
/// their byte offsets; a URL ends at white space, a quote, a comma or a
/// closing bracket.
pub fn urls_in(text: &str) -> Vec<(usize, &str)> {
    // Schemes in any case; ASCII lowercasing keeps every byte offset.
    let lower = text.to_ascii_lowercase();
    let mut found = vec![];
    let mut from = 0;
    while let Some(at) = lower[from..]
        .find("http://")
        .into_iter()
        .chain(lower[from..].find("https://"))
        .min()
    {
        let start = from + at;
        let scheme_end = start + lower[start..].find("://").map_or(0, |n| n + 3);
        // A URL also ends where another begins (`URL=MIRROR` pairs).
        let next = [
            lower[scheme_end..].find("http://"),
            lower[scheme_end..].find("https://"),
        ]
        .into_iter()
        .flatten()
        .min()
        .map_or(text.len(), |n| scheme_end + n);
        let end = text[start..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ']' | '}'))
            .map_or(text.len(), |n| start + n)
            .min(next);
        found.push((start, &text[start..end]));
        from = end.max(start + 1);
    }
    found
}

/// A URL's authority (`user@host:port`) and the rest (path, query).
fn authority_and_path(url: &str) -> (&str, &str) {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    rest.split_at(end)
}

/// The token of a conda token path (`/t/TOKEN/`), as conda finds one.
fn token_segment(path: &str) -> Option<&str> {
    let start = path.find("/t/")? + 3;
    let token_len = path[start..]
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .unwrap_or(path.len() - start);
    (token_len > 0).then(|| &path[start..start + token_len])
}

/// `path` taken relative to the folder `dir` (`""` for the root) and
/// normalized: `.` and empty parts dropped, `..` applied. `None` when it
/// climbs above the root.
pub fn join_relative(dir: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = dir.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    Some(parts.join("/"))
}

/// The folder of a relative path (`""` for a file at the root).
pub fn parent_dir(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The closest known name within a small edit distance.
pub fn closest<'a>(name: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let length = name.chars().count();
    known
        .into_iter()
        // The distance is at least the difference in length: a name much
        // longer than every known one (a value built in build.envd) is
        // near none, and is not compared character by character.
        .filter(|k| length.abs_diff(k.chars().count()) <= 2.max(k.len() / 3))
        .map(|k| (edit_distance(name, k), k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A value as messages quote it: `"..."`, at most 60 characters of it.
pub fn quoted(value: &str) -> String {
    const MAX: usize = 60;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let head: String = value.chars().take(MAX).collect();
        format!("{head:?}... ({} bytes)", value.len())
    }
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for j in 0..b.len() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != b[j]))
                .min(row[j] + 1)
                .min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// serde_yaml's message without its trailing " at line X column Y".
pub fn yaml_message(err: &serde_yaml_ng::Error) -> String {
    let message = err.to_string();
    match message.find(" at line ") {
        Some(i) => message[..i].to_string(),
        None => message,
    }
}

/// The byte range of the first match of `find` on a line of `text`: `find`
/// gets each line and returns the range of the match within it.
pub fn find_on_line(
    text: &str,
    find: impl Fn(&str) -> Option<Range<usize>>,
) -> Option<Range<usize>> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        if let Some(found) = find(line) {
            return Some(offset + found.start..offset + found.end);
        }
        offset += line.len();
    }
    None
}

/// Debian package names (policy 5.6.1), optionally `=version` or `/release`.
pub fn is_debian_package(spec: &str) -> bool {
    let name = spec.split(['=', '/']).next().unwrap_or("");
    name.len() >= 2
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ':')
        })
        && spec.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | ':' | '=' | '/' | '~' | '_')
        })
}

/// The byte index of the first `[` or `{` that opens more than `max`
/// flow collections at once in a YAML text, skipping quoted scalars and
/// comments. The YAML scanner's time grows with the square of that depth.
pub fn yaml_flow_too_deep(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' if i == 0 || bytes[i - 1].is_ascii_whitespace() => {
                i = bytes[i..]
                    .iter()
                    .position(|&b| b == b'\n')
                    .map_or(bytes.len(), |p| i + p);
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
            }
            b'\'' if i == 0 || !bytes[i - 1].is_ascii_alphanumeric() => {
                i += 1;
                // `''` is a quote inside a single-quoted scalar.
                while i < bytes.len() && !(bytes[i] == b'\'' && bytes.get(i + 1) != Some(&b'\'')) {
                    i += if bytes[i] == b'\'' { 2 } else { 1 };
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            _ => i += 1,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_in_urls_are_found_and_masked() {
        assert_eq!(url_login("https://pypi.org/simple"), None);
        assert_eq!(url_login("http://127.0.0.1:8000/simple/"), None);
        assert_eq!(
            url_login("http://alice:s3cret@127.0.0.1:8000/simple"),
            Some("user:password@")
        );
        assert_eq!(
            url_login("https://token@mirror/simple"),
            Some("user:password@")
        );
        assert_eq!(url_login("https://[::1]:8080/simple?user=a@b"), None);
        // A token path is a login to conda only: elsewhere /t/ is a folder.
        assert_eq!(url_login("https://files.example/t/data.zip"), None);
        assert_eq!(
            conda_url_login("https://conda.example/t/ab-12cd/main"),
            Some("a token path, /t/TOKEN/")
        );
        assert_eq!(conda_url_login("https://mirror/t/"), None);
        assert_eq!(
            mask_logins("https://g/a.git=https://ci:pw@m/a.git"),
            "https://g/a.git=https://***@m/a.git"
        );
        assert_eq!(
            mask_logins("a HTTPS://u:p@h/x and http://h/y and https://v:q@h/z."),
            "a HTTPS://***@h/x and http://h/y and https://***@h/z."
        );
        assert_eq!(
            masked_login("http://alice:s3cret@127.0.0.1:8000/simple"),
            "http://***@127.0.0.1:8000/simple"
        );
        assert_eq!(
            masked_login("https://conda.example/t/ab-12cd/main"),
            "https://conda.example/t/***/main"
        );
        assert_eq!(masked_login("https://x/simple"), "https://x/simple");
    }

    #[test]
    fn urls_in_a_text() {
        let text =
            "channels:\n  - https://a:b@m/c\ndefault_channels: [\"http://m/d\", https://e/f]\n";
        let urls: Vec<&str> = urls_in(text).into_iter().map(|(_, u)| u).collect();
        assert_eq!(urls, ["https://a:b@m/c", "http://m/d", "https://e/f"]);
        let (at, url) = urls_in(text)[0];
        assert_eq!(&text[at..at + url.len()], url);
    }

    #[test]
    fn urls_and_hosts() {
        assert!(is_http_url("https://pypi.tuna.tsinghua.edu.cn/simple"));
        assert!(is_http_url("http://127.0.0.1:8000/simple"));
        for bad in [
            "mirror/simple",
            "https://",
            "https:///x",
            "ftp://x",
            "http://a b",
        ] {
            assert!(!is_http_url(bad), "{bad}");
        }
        assert_eq!(
            host_of("https://pypi.tuna.tsinghua.edu.cn/simple"),
            "pypi.tuna.tsinghua.edu.cn"
        );
        assert_eq!(
            host_of("http://user:pw@127.0.0.1:8000/simple/"),
            "127.0.0.1:8000"
        );
    }

    #[test]
    fn relative_paths() {
        assert_eq!(join_relative("", "./a/../b/").as_deref(), Some("b"));
        assert_eq!(
            join_relative("reqs", "../base.txt").as_deref(),
            Some("base.txt")
        );
        assert_eq!(
            join_relative("reqs", "c.txt").as_deref(),
            Some("reqs/c.txt")
        );
        assert_eq!(join_relative("", "a\\b").as_deref(), Some("a\\b"));
        assert_eq!(join_relative("", "./").as_deref(), Some(""));
        assert_eq!(join_relative("reqs", "../../x"), None);
        assert_eq!(parent_dir("reqs/build.txt"), "reqs");
        assert_eq!(parent_dir("build.txt"), "");
    }

    #[test]
    fn closest_names() {
        assert_eq!(closest("nmae", ["name", "requirements"]), Some("name"));
        assert_eq!(
            closest("requirement", ["name", "requirements"]),
            Some("requirements")
        );
        assert_eq!(closest("xyz", ["name", "requirements"]), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn finds_the_first_matching_line() {
        let text = "a: 1\nkey: 2\nkey: 3\n";
        let found = find_on_line(text, |line| line.starts_with("key").then_some(0..3));
        assert_eq!(found, Some(5..8));
        assert_eq!(find_on_line(text, |_| None), None);
    }

    #[test]
    fn debian_package_names() {
        for ok in [
            "libgl1-mesa-glx",
            "g++",
            "python3.11",
            "curl=7.88.1-10+deb12u5",
            "nginx/bookworm-backports",
        ] {
            assert!(is_debian_package(ok), "{ok}");
        }
        for bad in ["", "A", "Foo", "x y", "a;b", "-y"] {
            assert!(!is_debian_package(bad), "{bad}");
        }
    }

    #[test]
    fn yaml_flow_depth() {
        assert_eq!(yaml_flow_too_deep("a: [[b], {c: [d]}]\n", 3), None);
        assert_eq!(yaml_flow_too_deep("a: [[b], {c: [d]}]\n", 2), Some(13));
        assert_eq!(yaml_flow_too_deep("a: [[[b]]]\n", 2), Some(5));
        // Brackets in quotes and comments do not count.
        assert_eq!(
            yaml_flow_too_deep("a: \"[[[\" # [[[\nb: '[[''['\n", 1),
            None
        );
        assert_eq!(
            yaml_flow_too_deep(&format!("a:{}", " [".repeat(40_000)), 64),
            Some(2 + 64 * 2 + 1)
        );
    }

    #[test]
    fn long_values_are_near_no_name_and_quoted_short() {
        let long = "ubor [".repeat(100_000);
        assert_eq!(closest(&long, ["ubuntu20.04", "aiges_cpu"]), None);
        assert_eq!(
            closest("ubuntu20.4", ["ubuntu20.04", "aiges_cpu"]),
            Some("ubuntu20.04")
        );
        assert_eq!(quoted("six"), "\"six\"");
        assert!(quoted(&long).ends_with("... (600000 bytes)"));
    }
}

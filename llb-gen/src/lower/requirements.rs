//! pip requirements files: checked line by line before the build, so a bad
//! line is an error at that line, and nested `-r`/`-c` files are found so
//! the context transfer includes them.

use std::ops::Range;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::limits::MAX_REQUIREMENTS_DEPTH;
use crate::pep508::is_url;
use crate::validate::{join_relative, parent_dir};

use super::context::{ContextFiles, read_text};

/// Options pip accepts in requirements files that take no value.
const FLAGS: &[&str] = &["--pre", "--prefer-binary", "--require-hashes", "--no-index"];
/// Options that take a value (as the next word or after `=`).
const VALUE_OPTIONS: &[&str] = &[
    "-i",
    "--index-url",
    "--extra-index-url",
    "-f",
    "--find-links",
    "--trusted-host",
    "--no-binary",
    "--only-binary",
    "--use-feature",
    "--config-settings",
];

/// The file and line that include another requirements file.
type IncludedAt = (SourceText, Range<usize>);

/// A requirements file and those it includes, checked.
#[derive(Debug, Default)]
pub struct Requirements {
    /// Every file read, the top file first.
    pub files: Vec<String>,
    /// The local folders installed editable (`-e .`), which an image
    /// installs as plain packages.
    pub editable: Vec<Editable>,
    /// Options pip ignores where the files give them.
    pub warnings: Vec<Diagnostic>,
}

/// An editable install of a local folder: the line, and the folder
/// relative to the context (envd ran pip in the context's folder).
#[derive(Debug)]
pub struct Editable {
    pub file: SourceText,
    pub line: Range<usize>,
    pub folder: String,
    /// Extras asked for (`[dev]`), as written.
    pub extras: String,
}

impl Requirements {
    /// The files with editable lines, rewritten so pip installs each
    /// folder from `mount` (where the context is mounted) as a plain
    /// package.
    pub fn without_editable(&self, mount: &str) -> Vec<(String, String)> {
        let mut rewritten: Vec<(String, String)> = vec![];
        for editable in &self.editable {
            let name = editable.file.name();
            if rewritten.iter().any(|(file, _)| file == name) {
                continue;
            }
            let mut text = editable.file.text().to_string();
            let mut lines: Vec<&Editable> = self
                .editable
                .iter()
                .filter(|e| e.file.name() == name)
                .collect();
            // From the last line up, so earlier lines keep their offsets.
            lines.sort_by_key(|e| std::cmp::Reverse(e.line.start));
            for e in lines {
                let plain = format!("{mount}/{}{}", e.folder, e.extras);
                text.replace_range(e.line.clone(), &plain);
            }
            rewritten.push((name.to_string(), text));
        }
        rewritten
    }
}

/// Reads `path` and the files it includes, checked line by line.
pub fn collect(
    files: &dyn ContextFiles,
    source: &SourceText,
    span: Range<usize>,
    path: &str,
) -> Result<Requirements, Diagnostic> {
    let mut seen: Vec<String> = vec![];
    let mut editable: Vec<Editable> = vec![];
    let mut warnings: Vec<Diagnostic> = vec![];
    // Each file with the line that included it and how deep it is.
    let mut pending: Vec<(String, Option<IncludedAt>, usize)> = vec![(path.to_string(), None, 0)];
    while let Some((path, included_at, depth)) = pending.pop() {
        if seen.contains(&path) {
            continue;
        }
        if let Some((parent, at)) = &included_at
            && depth > MAX_REQUIREMENTS_DEPTH
        {
            return Err(Diagnostic::error(
                parent,
                Some(at.clone()),
                format!(
                    "requirements files include each other more than {MAX_REQUIREMENTS_DEPTH} deep"
                ),
            )
            .with_help("is a folder linked into itself? `-r` paths grow with each step"));
        }
        let text = match &included_at {
            None => read_text(files, source, span.clone(), "requirements file", &path)?,
            Some((parent, at)) => read_text(files, parent, at.clone(), "requirements file", &path)?,
        };
        seen.push(path.clone());
        let checked = check(&text)?;
        for (include, at) in checked.includes {
            pending.push((include, Some((text.clone(), at)), depth + 1));
        }
        editable.extend(checked.editable);
        warnings.extend(checked.warnings);
    }
    Ok(Requirements {
        files: seen,
        editable,
        warnings,
    })
}

/// What one file's lines name: the files it includes, with the line
/// naming each, and its editable installs of local folders.
struct Checked {
    includes: Vec<(String, Range<usize>)>,
    editable: Vec<Editable>,
    warnings: Vec<Diagnostic>,
}

/// Checks every line; returns the context paths of `-r`/`-c` includes with
/// the span of the line naming them, and the editable local folders.
fn check(text: &SourceText) -> Result<Checked, Diagnostic> {
    let mut includes = vec![];
    let mut editable = vec![];
    let mut warnings = vec![];
    for (line, range) in logical_lines(text.text()) {
        let error = |message: String| Diagnostic::error(text, Some(range.clone()), message);
        let words: Vec<&str> = line.split_whitespace().collect();
        let Some(first) = words.first() else { continue };
        let (option, inline_value) = match first.split_once('=') {
            Some((o, v)) if o.starts_with('-') => (o, Some(v)),
            _ => (*first, None),
        };
        let value = inline_value.or_else(|| words.get(1).copied());
        match option {
            "-r" | "--requirement" | "-c" | "--constraint" => {
                let Some(value) = value else {
                    return Err(error(format!("{option} needs a file name")));
                };
                includes.push((
                    relative_to(text.name(), value).map_err(error)?,
                    range.clone(),
                ));
            }
            "-e" | "--editable" => match value {
                Some(v) if is_url(v) => {}
                Some(v) => {
                    let (folder, extras) = match v.find('[') {
                        Some(i) => v.split_at(i),
                        None => (v, ""),
                    };
                    let folder = join_relative("", folder)
                        .map(|f| if f.is_empty() { ".".to_string() } else { f })
                        .ok_or_else(|| {
                            error(format!(
                                "{option} {v}: the folder is outside the build context"
                            ))
                        })?;
                    if line.contains(['\'', '"', '$', '`']) || words.len() > 2 {
                        return Err(error(format!(
                            "{line:?}: an editable install here is a folder, and at most its extras"
                        )));
                    }
                    editable.push(Editable {
                        file: text.clone(),
                        line: range.clone(),
                        folder,
                        extras: extras.to_string(),
                    });
                }
                None => return Err(error(format!("{option} needs a folder or a URL"))),
            },
            o if FLAGS.contains(&o) => {}
            o if VALUE_OPTIONS.contains(&o) => {
                if value.is_none() {
                    return Err(error(format!("{o} needs a value")));
                }
                if matches!(o, "-f" | "--find-links") && !value.is_some_and(is_url) {
                    return Err(error(format!(
                        "{o} with a local path is not supported here; use an http(s) URL"
                    )));
                }
            }
            o if o.starts_with('-') => {
                return Err(error(format!("unknown option {o} in requirements file")));
            }
            _ => {
                for ignored in check_requirement(&line).map_err(error)? {
                    warnings.push(
                        Diagnostic::warning(
                            &crate::lint::IGNORED_PARAMETER,
                            text,
                            Some(range.clone()),
                            format!("pip ignores {ignored} on a requirement's line: only --hash, --config-settings and --global-option apply there"),
                        )
                        .with_help(format!("put {ignored} on a line of its own, where it applies to every requirement")),
                    );
                }
            }
        }
    }
    Ok(Checked {
        includes,
        editable,
        warnings,
    })
}

/// The options pip applies to the requirement on their line.
const REQUIREMENT_OPTIONS: &[&str] = &["--hash", "--config-settings", "--global-option"];

/// A requirement line: a specifier, then options (pip's: from the first
/// word that starts with `-`). Returns the options pip reads there and
/// ignores, as pip does (its other file options, such as
/// `--extra-index-url`).
fn check_requirement(line: &str) -> Result<Vec<String>, String> {
    let options_at = line
        .char_indices()
        .find(|(i, c)| c.is_whitespace() && line[i + c.len_utf8()..].starts_with('-'))
        .map_or(line.len(), |(i, _)| i);
    crate::pep508::check(line[..options_at].trim())?;
    let mut ignored = vec![];
    for word in line[options_at..].split_whitespace() {
        let Some(option) = word
            .strip_prefix('-')
            .map(|_| word.split('=').next().unwrap_or(word))
        else {
            continue; // an option's value
        };
        if REQUIREMENT_OPTIONS.contains(&option) {
            continue;
        }
        let known = FLAGS.contains(&option)
            || VALUE_OPTIONS.contains(&option)
            || matches!(
                option,
                "-r" | "--requirement" | "-c" | "--constraint" | "-e" | "--editable"
            );
        if !known {
            return Err(format!("unknown option {option} in requirements file"));
        }
        ignored.push(option.to_string());
    }
    Ok(ignored)
}

/// Resolves an include relative to the including file's folder, staying in the context.
fn relative_to(including: &str, path: &str) -> Result<String, String> {
    if path.starts_with('/') || is_url(path) {
        return Err(format!(
            "included file {path:?} must be a relative path in the build context"
        ));
    }
    join_relative(parent_dir(including), path)
        .ok_or_else(|| format!("included file {path:?} is outside the build context"))
}

/// Lines with comments removed and `\` continuations joined, each with the
/// byte range of its physical lines (from the first's start to the last's
/// end, without the line break).
fn logical_lines(text: &str) -> Vec<(String, Range<usize>)> {
    let mut out = vec![];
    let mut current = String::new();
    let mut start: Option<Range<usize>> = None;
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let range = offset..offset + raw.trim_end_matches(['\n', '\r']).len();
        offset += raw.len();
        let line = raw.trim_end_matches(['\n', '\r']);
        // A comment starts at `#` at line start or after whitespace.
        let code = match line.find(" #").or_else(|| line.find("\t#")) {
            Some(i) => &line[..i],
            None if line.trim_start().starts_with('#') => "",
            None => line,
        };
        let first = start.get_or_insert(range.clone()).start;
        match code.strip_suffix('\\') {
            Some(continued) => current.push_str(continued),
            None => {
                current.push_str(code);
                let line = current.trim().to_string();
                if !line.is_empty() {
                    out.push((line, first..range.end));
                }
                current.clear();
                start = None;
            }
        }
    }
    if !current.trim().is_empty()
        && let Some(range) = start
    {
        out.push((current.trim().to_string(), range));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_text(text: &str) -> Result<Vec<String>, String> {
        check(&SourceText::new("reqs/build.txt", text))
            .map(|c| c.includes.into_iter().map(|(p, _)| p).collect())
            .map_err(|d| d.render())
    }

    #[test]
    fn options_pip_ignores_on_a_requirement_line_are_warnings() {
        let file = SourceText::new(
            "requirements.txt",
            "torch --extra-index-url https://download.pytorch.org/whl/cu116\nnumpy>=1.2 --hash=sha256:abc --hash sha256:def\nsix\n",
        );
        let checked = check(&file).unwrap();
        let rendered: Vec<String> = checked.warnings.iter().map(|w| w.render()).collect();
        assert_eq!(rendered.len(), 1, "{rendered:?}");
        assert!(
            rendered[0].starts_with("requirements.txt:1:1: warning[IgnoredParameter]: pip ignores --extra-index-url on a requirement's line"),
            "{}",
            rendered[0]
        );
        let err = check_text("six --no-such-option\n").unwrap_err();
        assert!(err.contains("unknown option --no-such-option"), "{err}");
        assert!(check_text("torch --extra-index-url\n").is_ok());
    }

    #[test]
    fn editable_folders_become_plain_installs_from_the_mount() {
        let file = SourceText::new(
            "requirements.txt",
            "six\n-e .\n--editable ./lib[dev]\nflask\n",
        );
        let checked = check(&file).unwrap();
        let folders: Vec<(&str, &str)> = checked
            .editable
            .iter()
            .map(|e| (e.folder.as_str(), e.extras.as_str()))
            .collect();
        assert_eq!(folders, [(".", ""), ("lib", "[dev]")]);
        let requirements = Requirements {
            files: vec!["requirements.txt".into()],
            editable: checked.editable,
            warnings: vec![],
        };
        let rewritten = requirements.without_editable("/m");
        assert_eq!(
            rewritten,
            [(
                "requirements.txt".to_string(),
                "six\n/m/.\n/m/lib[dev]\nflask\n".to_string()
            )]
        );
        // An editable line split with a backslash is rewritten whole.
        let split = SourceText::new("r.txt", "-e \\\n  ./lib\nsix\n");
        let requirements = Requirements {
            files: vec!["r.txt".into()],
            editable: check(&split).unwrap().editable,
            warnings: vec![],
        };
        assert_eq!(
            requirements.without_editable("/m"),
            [("r.txt".to_string(), "/m/lib\nsix\n".to_string())]
        );
        assert!(
            check_text("-e ../outside\n")
                .unwrap_err()
                .contains("outside the build context")
        );
    }

    #[test]
    fn accepts_what_pip_accepts() {
        let text = "# comment\nnumpy==1.21 # pinned\ntorch>=1.10\nrequests[socks]; python_version>'3'\n\
                    --extra-index-url http://127.0.0.1/simple\n-i=http://127.0.0.1/simple\n--pre\n\
                    six \\\n  ==1.16.0\npkg @ https://example.invalid/pkg-1.0.whl\n-r ../base.txt\n-c constraints.txt\n\
                    -e git+https://example.invalid/repo.git#egg=x\nflask --hash=sha256:abc\n";
        assert_eq!(
            check_text(text).unwrap(),
            ["base.txt", "reqs/constraints.txt"]
        );
    }

    #[test]
    fn rejects_bad_lines_at_their_line() {
        let err = check_text("numpy\n--frobnicate\n").unwrap_err();
        assert!(
            err.starts_with("reqs/build.txt:2:1: error: unknown option --frobnicate"),
            "{err}"
        );
        let err = check_text("numpy\n\n=1.0\n").unwrap_err();
        assert!(err.starts_with("reqs/build.txt:3:1: error:"), "{err}");
        assert!(
            check_text("./pkg.whl\n")
                .unwrap_err()
                .contains("local_wheels")
        );
        assert!(
            check_text("-r ../../escape.txt\n")
                .unwrap_err()
                .contains("outside the build context")
        );
        assert!(
            check_text("-r\n")
                .unwrap_err()
                .contains("needs a file name")
        );
        assert!(
            check_text("-f ./wheels\n")
                .unwrap_err()
                .contains("local path")
        );
    }
}

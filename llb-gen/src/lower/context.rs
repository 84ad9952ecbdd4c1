//! Access to the build context: the files trait the frontend (through
//! BuildKit) and the offline compiler (from disk) implement, and the
//! narrowed `local://` sources steps read the context through.

use crate::diagnostics::{Diagnostic, SourceText};
use crate::limits::{MAX_CONTEXT_FILE_BYTES, describe_bytes};
use crate::llb::{Copy, FileOp, LlbError, Local, SourceLocation, State, WithOpOptions};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
}

/// Reads the build context. Paths are relative to its root and normalized
/// (`detectron2`, `conf/env.yaml`, `.` for the root).
pub trait ContextFiles {
    /// The file's bytes, or `None` when it does not exist. A reader may
    /// stop after `limits::MAX_CONTEXT_FILE_BYTES` + 1 bytes: a longer file
    /// is refused.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
    /// Whether the path is a file or a directory, or `None` when missing.
    fn kind(&self, path: &str) -> Result<Option<FileKind>, String>;
    /// A hint that these paths are about to be looked up: a reader that
    /// fetches them over the network may start now. Errors wait for the
    /// lookup itself. The default does nothing.
    fn prefetch(&self, _paths: &[String]) {}
}

/// Where the build context comes from: a local directory the client sends
/// (by name, tied to its session), or a state the client passed as an input.
#[derive(Clone, Debug)]
pub enum ContextSource {
    Local {
        name: String,
        session_id: Option<String>,
    },
    State(State),
}

impl Default for ContextSource {
    fn default() -> ContextSource {
        ContextSource::Local {
            name: "context".to_string(),
            session_id: None,
        }
    }
}

impl ContextSource {
    /// Whether this is the client's folder, which `.dockerignore` filters
    /// (a context given as an input state is taken as it is, and has no
    /// `.dockerignore` to read).
    pub fn is_local(&self) -> bool {
        matches!(self, ContextSource::Local { .. })
    }

    /// The context narrowed to `paths` (all of it for `.`), so editing a
    /// file only invalidates the steps that read it: a local transfers only
    /// those paths; an input state is narrowed by copies, whose cache keys
    /// are the copied content. `custom_name` is what progress output shows
    /// and `location` the call that reads it (neither changes the op's
    /// digest, so every reader shares one transfer). `exclude` are the
    /// `.dockerignore` patterns, which a local transfer leaves out; an
    /// input state is taken as the client made it.
    pub fn narrowed(
        &self,
        paths: &[String],
        exclude: &[String],
        custom_name: String,
        location: Option<SourceLocation>,
    ) -> Result<State, LlbError> {
        let whole = paths.iter().any(|p| p == ".");
        match self {
            ContextSource::Local { name, session_id } => {
                let mut local = Local::new(name.clone())
                    .shared_key_hint(name.clone())
                    .custom_name(custom_name);
                if let Some(location) = location {
                    local = local.location(location);
                }
                if !whole {
                    local = local.include_patterns(paths.iter().cloned());
                }
                if !exclude.is_empty() {
                    local = local.exclude_patterns(exclude.iter().cloned());
                }
                if let Some(id) = session_id {
                    local = local.session_id(id.clone());
                }
                local.build()
            }
            ContextSource::State(state) if whole => Ok(state.clone()),
            ContextSource::State(state) => {
                let mut op = paths
                    .iter()
                    .fold(FileOp::new(&State::scratch()), |op, path| {
                        op.copy(
                            Copy::new(state, format!("/{path}"), format!("/{path}"))
                                .contents_only(true)
                                .create_dest_path(true),
                        )
                    })
                    .custom_name(custom_name);
                if let Some(location) = location {
                    op = op.location(location);
                }
                op.build()
            }
        }
    }
}

/// Reads a context file a step names, as text, with located errors.
pub fn read_text(
    files: &dyn ContextFiles,
    source: &SourceText,
    span: std::ops::Range<usize>,
    what: &str,
    path: &str,
) -> Result<SourceText, Diagnostic> {
    let bytes = files
        .read(path)
        .map_err(|e| unreadable(source, &span, what, path, &e))?
        .ok_or_else(|| missing(source, &span, what, path))?;
    if bytes.len() > MAX_CONTEXT_FILE_BYTES {
        return Err(Diagnostic::error(
            source,
            Some(span),
            format!(
                "{what} {path:?} is more than {}, the most a file the build reads may be",
                describe_bytes(MAX_CONTEXT_FILE_BYTES)
            ),
        ));
    }
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostic::error(
            source,
            Some(span),
            format!("{what} {path:?} is not UTF-8 text"),
        )
    })?;
    // Files saved on Windows may start with a byte-order mark.
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    };
    Ok(SourceText::new(path, text))
}

/// Checks a path exists and returns its kind, with located errors.
pub fn require_kind(
    files: &dyn ContextFiles,
    source: &SourceText,
    span: std::ops::Range<usize>,
    what: &str,
    path: &str,
) -> Result<FileKind, Diagnostic> {
    files
        .kind(path)
        .map_err(|e| unreadable(source, &span, what, path, &e))?
        .ok_or_else(|| missing(source, &span, what, path))
}

fn unreadable(
    source: &SourceText,
    span: &std::ops::Range<usize>,
    what: &str,
    path: &str,
    error: &str,
) -> Diagnostic {
    Diagnostic::error(
        source,
        Some(span.clone()),
        format!("cannot read {what} {path:?}: {error}"),
    )
}

fn missing(
    source: &SourceText,
    span: &std::ops::Range<usize>,
    what: &str,
    path: &str,
) -> Diagnostic {
    Diagnostic::error(
        source,
        Some(span.clone()),
        format!("{what} {path:?} does not exist in the build context"),
    )
    .with_help(
        "paths are relative to the build context (the folder given to `docker buildx build`)",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A context whose every file holds these bytes.
    struct FileOf(&'static [u8]);

    impl ContextFiles for FileOf {
        fn read(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(Some(self.0.to_vec()))
        }
        fn kind(&self, _: &str) -> Result<Option<FileKind>, String> {
            Ok(Some(FileKind::File))
        }
    }

    #[test]
    fn context_files_lose_a_byte_order_mark() {
        let source = SourceText::new("build.envd", "install()");
        let text = read_text(
            &FileOf(b"\xef\xbb\xbfsix\r\n"),
            &source,
            0..1,
            "requirements file",
            "r.txt",
        );
        assert_eq!(text.unwrap().text(), "six\r\n");
    }

    /// A context whose every file is `size` bytes of `a`.
    struct FilesOf(usize);

    impl ContextFiles for FilesOf {
        fn read(&self, _: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(Some(vec![b'a'; self.0]))
        }
        fn kind(&self, _: &str) -> Result<Option<FileKind>, String> {
            Ok(Some(FileKind::File))
        }
    }

    #[test]
    fn context_files_past_the_size_bound_are_refused_at_the_call() {
        let source = SourceText::new(
            "build.envd",
            "install.python_packages(requirements=\"r.txt\")",
        );
        let read = |size| read_text(&FilesOf(size), &source, 0..5, "requirements file", "r.txt");
        assert!(read(MAX_CONTEXT_FILE_BYTES).is_ok());
        let error = read(MAX_CONTEXT_FILE_BYTES + 1).unwrap_err();
        assert_eq!(error.span, Some(0..5));
        assert!(
            error.message.contains("more than 4 MiB"),
            "{}",
            error.message
        );
    }
}

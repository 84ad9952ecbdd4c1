//! Access to the build context: the files trait the frontend (through
//! BuildKit) and the offline compiler (from disk) implement, and the
//! narrowed `local://` sources steps read the context through.

use crate::diagnostics::{Diagnostic, SourceText};
use crate::llb::{LlbError, Local, State};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileKind {
    File,
    Dir,
}

/// Reads the build context. Paths are relative to its root and normalized
/// (`detectron2`, `conf/env.yaml`, `.` for the root).
pub trait ContextFiles {
    /// The file's bytes, or `None` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
    /// Whether the path is a file or a directory, or `None` when missing.
    fn kind(&self, path: &str) -> Result<Option<FileKind>, String>;
}

/// How context sources are named and tied to the client's session.
#[derive(Clone, Debug)]
pub struct ContextSource {
    /// Name of the local the client sends (`context` unless `contextkey` says otherwise).
    pub name: String,
    pub session_id: Option<String>,
}

impl Default for ContextSource {
    fn default() -> ContextSource {
        ContextSource {
            name: "context".to_string(),
            session_id: None,
        }
    }
}

impl ContextSource {
    /// The context narrowed to `paths` (all of it for `.`), so editing a
    /// file only invalidates the steps that read it.
    pub fn narrowed(&self, paths: &[String]) -> Result<State, LlbError> {
        let mut local = Local::new(self.name.clone()).shared_key_hint(self.name.clone());
        if !paths.iter().any(|p| p == ".") {
            local = local.include_patterns(paths.iter().cloned());
        }
        if let Some(id) = &self.session_id {
            local = local.session_id(id.clone());
        }
        local.build()
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
        .map_err(|e| Diagnostic::error(source, Some(span.clone()), format!("cannot read {what} {path:?}: {e}")))?
        .ok_or_else(|| {
            Diagnostic::error(source, Some(span.clone()), format!("{what} {path:?} does not exist in the build context"))
                .with_help("paths are relative to the build context (the folder given to `docker buildx build`)")
        })?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Diagnostic::error(
            source,
            Some(span),
            format!("{what} {path:?} is not UTF-8 text"),
        )
    })?;
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
        .map_err(|e| Diagnostic::error(source, Some(span.clone()), format!("cannot read {what} {path:?}: {e}")))?
        .ok_or_else(|| {
            Diagnostic::error(source, Some(span), format!("{what} {path:?} does not exist in the build context"))
                .with_help("paths are relative to the build context (the folder given to `docker buildx build`)")
        })
}

//! Files a step puts in the image or reads from the context: layers built
//! on scratch and merged on (independent of the base, so variants compute
//! them once), config files written on scratch and copied on, and context
//! reads with errors located at the step's call.

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::Span;
use crate::llb::{Copy, FileOp, Merge, Mkdir, Mkfile, State, WithOpOptions};

use super::Lowering;
use super::context::{FileKind, read_text, require_kind};

impl Lowering<'_> {
    /// Copies `src` of `from` to `dest` on the image itself, with
    /// BuildKit's own rules (a folder that exists at `dest` takes the
    /// source inside it; missing parents are made), as envd v1 copied.
    /// `kind` is the source's, when known: a file's copy is marked as
    /// nesting nothing, for the Dockerfile export.
    pub(crate) fn copy_onto_image(
        &mut self,
        span: &Span,
        name: &str,
        from: &State,
        src: &str,
        dest: &str,
        kind: impl Into<Option<FileKind>>,
    ) -> Result<(), Diagnostic> {
        let file = kind.into() == Some(FileKind::File);
        let applied = FileOp::new(&self.state)
            .copy(
                Copy::new(from, src, dest)
                    .contents_only(file)
                    .create_dest_path(true),
            )
            .custom_name(self.op_name(name))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))?;
        self.state = applied;
        self.history(span, name, false);
        Ok(())
    }

    /// An image as a source of files, for the build's platform.
    pub(crate) fn image_source(&self, span: &Span, reference: &str) -> Result<State, Diagnostic> {
        crate::llb::Image::new(reference)
            .resolve_mode(self.options.resolve_mode)
            .platform(self.options.platform.clone())
            .custom_name(self.op_name(&format!("image {reference}")))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))
    }

    /// Adds files to the image. With merge ops the files are a layer built
    /// on scratch and merged on: the same op for every base, so variants
    /// compute it once (Dockerfile's `COPY --link`). Daemons without merge
    /// ops get the files applied onto the image directly.
    pub(crate) fn add_layer(
        &mut self,
        span: &Span,
        name: &str,
        actions: impl FnOnce(FileOp) -> FileOp,
    ) -> Result<(), Diagnostic> {
        let onto = if self.options.merge_layers {
            self.scratch()
        } else {
            self.state.clone()
        };
        let applied = actions(FileOp::new(&onto))
            .custom_name(self.op_name(name))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))?;
        self.state = if self.options.merge_layers {
            Merge::new([self.state.clone(), applied])
                .custom_name(self.op_name(&format!("{name} (merge)")))
                .location(self.location(span))
                .build()
        } else {
            applied
        };
        self.history(span, name, false);
        Ok(())
    }

    /// Writes a config file: one file op on the image itself. (Written on
    /// scratch and copied on, it was two ops, and BuildKit runs an op
    /// without inputs again on every build, where this one is cached.)
    /// It is not merged on: a merge in the chain makes every later merge
    /// (each `io.copy`) several times slower in BuildKit.
    pub(crate) fn config_file(
        &mut self,
        span: &Span,
        builtin: &str,
        path: &str,
        content: String,
    ) -> Result<(), Diagnostic> {
        let title = format!("{builtin} {path}");
        // An image may have no /etc/conda.
        self.state = FileOp::new(&self.state)
            .mkdir(Mkdir::new(parent_folder(path)).parents(true).mode(0o755))
            .mkfile(Mkfile::new(path, content).mode(0o644))
            .custom_name(self.op_name(&title))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))?;
        self.history(span, &title, false);
        Ok(())
    }

    /// The build context narrowed to `paths`, for the step named `step`.
    pub(crate) fn context(
        &self,
        span: &Span,
        step: &str,
        paths: &[String],
    ) -> Result<State, Diagnostic> {
        self.options
            .context
            .narrowed(
                paths,
                self.files.ignore().patterns(),
                format!("{step} (context)"),
                Some(self.location(span)),
            )
            .map_err(|e| self.llb_error(span, e))
    }

    /// Whether a context path the step names is a file or a folder; an
    /// error at the call when it is missing.
    pub(crate) fn require_kind(
        &self,
        span: &Span,
        what: &str,
        path: &str,
    ) -> Result<FileKind, Diagnostic> {
        require_kind(&self.files, self.source, span.range(), what, path)
    }

    /// A context file the step names, as text.
    pub(crate) fn read_text(
        &self,
        span: &Span,
        what: &str,
        path: &str,
    ) -> Result<SourceText, Diagnostic> {
        read_text(&self.files, self.source, span.range(), what, path)
    }
}

/// The folder an absolute path is in (`/` for a file at the root).
pub(crate) fn parent_folder(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "/",
        Some((dir, _)) => dir,
    }
}

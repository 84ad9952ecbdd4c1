//! `io.copy(host_path, envd_path)` (or `src`, `dest`): files from the build context, as a layer built on
//! scratch and merged onto the image (independent of the base, so variants
//! share it).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, context_path,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lint;
use crate::llb::Copy as CopyAction;
use crate::lower::{DOCKERIGNORE, FileKind, Lowering};

pub static SPEC: Spec = Spec {
    name: "io.copy",
    summary: "copy from the build context",
    params: Params::Declared(&[
        // envd before 0.2 named them `src` and `dest` (as AIGES' documents
        // do), envd v1 `source` and `target`.
        Param::positional(
            "host_path",
            Kind::Str,
            "a file or folder in the build context",
        )
        .aliases(&["src", "source"])
        .required(),
        Param::positional("envd_path", Kind::Str, "an absolute path in the image")
            .aliases(&["dest", "target"])
            .required(),
    ]),
    once: false,
    tools: &[],
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Copy {
    pub src: String,
    pub dest: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let src = context_path(&SPEC, "host_path", &args.required_str("host_path")?)?;
    let dest = args.required_str("envd_path")?;
    if !dest.starts_with('/') {
        return Err(BuiltinError::new(format!(
            "{}(): `envd_path` {dest:?} must be an absolute path in the image",
            SPEC.name
        ))
        .help(format!(
            "e.g. envd_path=\"/{}\"",
            dest.trim_start_matches("./")
        )));
    }
    recording.step(Copy { src, dest }.into())?;
    Ok(())
}

impl Lower for Copy {
    /// Copies like `cp -r SRC DEST/`: a directory lands at `DEST/<name>`
    /// (the context root's contents land in DEST); a file at DEST, or at
    /// `DEST/<name>` when DEST ends with `/`.
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let (src, dest) = (self.src.as_str(), self.dest.as_str());
        let kind = lowering.require_kind(span, "io.copy source", src)?;
        let name = src.rsplit('/').next().unwrap_or(src);
        let target = match (kind, src) {
            (FileKind::Dir, ".") => dest.to_string(),
            (FileKind::Dir, _) => join(dest, name),
            (FileKind::File, _) if dest.ends_with('/') => join(dest, name),
            (FileKind::File, _) => dest.to_string(),
        };
        if src == "." && lowering.context_is_local() && !lowering.files.ignore().excludes(".git") {
            lowering.warn(
                &lint::COPY_WHOLE_CONTEXT,
                span,
                format!(
                    "{}() copies the whole build context, and {DOCKERIGNORE} does not leave out .git",
                    SPEC.name
                ),
                "add a .dockerignore that lists .git (and other files the image does not need), or copy only the folders the service needs",
            );
        }
        let (from, shown) = if src == "." {
            ("/".to_string(), "./".to_string())
        } else {
            (format!("/{src}"), format!("./{src}"))
        };
        let title = format!("{} {shown} -> {dest}", SPEC.name);
        let context = lowering.context(span, &title, &[src.to_string()])?;
        lowering.add_layer(span, &title, |op| {
            op.copy(
                CopyAction::new(&context, from, target)
                    .contents_only(kind == FileKind::Dir)
                    .create_dest_path(true),
            )
        })
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![&self.src]
    }
}

fn join(dir: &str, name: &str) -> String {
    format!("{}/{name}", dir.trim_end_matches('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins() {
        assert_eq!(join("/", "detectron2"), "/detectron2");
        assert_eq!(join("/home/aiges/", "wrapper"), "/home/aiges/wrapper");
    }
}

//! `io.copy(host_path, envd_path)` (or `src`, `dest`): files from the build context, as a layer built on
//! scratch and merged onto the image (independent of the base, so variants
//! share it).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec, context_path,
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
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `io.copy(source, target, image)`: from the context, or from
/// an image, onto the image with BuildKit's copy rules, as envd v1 copied.
pub static V1: Spec = Spec {
    name: "io.copy",
    summary: "copy from the build context or an image (envd v1)",
    params: Params::Declared(&[
        Param::positional(
            "source",
            Kind::Str,
            "a file or folder in the build context, or in `image`",
        )
        .required(),
        Param::positional("target", Kind::Str, "an absolute path in the image").required(),
        Param::named(
            "image",
            Kind::Str,
            "an image to copy from, instead of the context",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: ONLY_V1,
    record: record_v1,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Copy {
    pub src: String,
    pub dest: String,
    /// envd v1's copy: onto the image, from `image` when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub v1: Option<V1From>,
}

/// Where envd v1's copy takes its files from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum V1From {
    Context,
    Image(String),
}

fn record_v1(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let image = args.str("image").filter(|image| !image.is_empty());
    let source = args.required_str("source")?;
    let src = match &image {
        // A path in the image: absolute there.
        Some(_) => format!("/{}", source.trim_start_matches('/')),
        None => context_path(&V1, "source", &source)?,
    };
    // A relative target is in the folder steps run in (the base image's
    // working folder), where envd 1.x's LLB copy put it (`lower_v1`).
    let dest = args.required_str("target")?;
    if dest.is_empty() {
        return Err(BuiltinError::new("io.copy(): `target` is empty"));
    }
    if let Some(image) = &image
        && let Err(e) = crate::llb::ImageRef::parse(image)
    {
        return Err(BuiltinError::new(format!(
            "io.copy(): `image` {image:?}: {e}"
        )));
    }
    let from = image.map_or(V1From::Context, V1From::Image);
    recording.step(
        Copy {
            src,
            dest,
            v1: Some(from),
        }
        .into(),
    )
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
    recording.step(
        Copy {
            src,
            dest,
            v1: None,
        }
        .into(),
    )?;
    Ok(())
}

impl Lower for Copy {
    /// Copies like `cp -r SRC DEST/`: a directory lands at `DEST/<name>`
    /// (the context root's contents land in DEST); a file at DEST, or at
    /// `DEST/<name>` when DEST ends with `/`.
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        if let Some(from) = &self.v1 {
            return self.lower_v1(lowering, span, from);
        }
        let (src, dest) = (self.src.as_str(), self.dest.as_str());
        let kind = lowering.require_kind(span, "io.copy source", src)?;
        let name = src.rsplit('/').next().unwrap_or(src);
        let target = match (kind, src) {
            (FileKind::Dir, ".") => dest.to_string(),
            (FileKind::Dir, _) => join(dest, name),
            (FileKind::File, _) if dest.ends_with('/') => join(dest, name),
            (FileKind::File, _) => dest.to_string(),
        };
        if src == "."
            && lowering.options.context.is_local()
            && !lowering.files.ignore().excludes(".git")
        {
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
                // A file's copy is the same either way; saying so tells
                // the Dockerfile export that nothing is nested.
                CopyAction::new(&context, from, target)
                    .contents_only(true)
                    .create_dest_path(true),
            )
        })
    }

    fn context_paths(&self) -> Vec<&str> {
        match &self.v1 {
            Some(V1From::Image(_)) => vec![],
            _ => vec![&self.src],
        }
    }

    fn builtin(&self) -> Option<&'static Spec> {
        self.v1.is_some().then_some(&V1)
    }
}

impl Copy {
    /// envd v1's copy: onto the image itself, with BuildKit's rules.
    fn lower_v1(
        &self,
        lowering: &mut Lowering<'_>,
        span: &Span,
        from: &V1From,
    ) -> Result<(), Diagnostic> {
        let dest = if self.dest.starts_with('/') {
            self.dest.clone()
        } else {
            join(lowering.exec_config.working_dir(), &self.dest)
        };
        let dest = dest.as_str();
        match from {
            V1From::Context => {
                let src = self.src.as_str();
                let kind = lowering.require_kind(span, "io.copy source", src)?;
                let shown = if src == "." {
                    "./".to_string()
                } else {
                    format!("./{src}")
                };
                let title = format!("io.copy {shown} -> {dest}");
                let context = lowering.context(span, &title, &[src.to_string()])?;
                let path = if src == "." {
                    "/".to_string()
                } else {
                    format!("/{src}")
                };
                lowering.copy_onto_image(span, &title, &context, &path, dest, kind)
            }
            V1From::Image(image) => {
                let title = format!("io.copy {image}:{} -> {dest}", self.src);
                let source = lowering.image_source(span, image)?;
                lowering.copy_onto_image(span, &title, &source, &self.src, dest, None)
            }
        }
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

//! `config.repo(url, description)`: where the environment's source lives,
//! as the image's OCI source and description labels.

use serde::Serialize;

use crate::builtins::{Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::Lowering;

/// The OCI annotation keys, used as labels (as `docker buildx` and GitHub do).
pub const SOURCE_LABEL: &str = "org.opencontainers.image.source";
pub const DESCRIPTION_LABEL: &str = "org.opencontainers.image.description";

pub static SPEC: Spec = Spec {
    name: "config.repo",
    summary: "image labels org.opencontainers.image.source and .description",
    params: Params::Declared(&[
        Param::positional("url", Kind::Str, "the repository's URL").required(),
        Param::positional("description", Kind::Str, "what the environment is for"),
    ]),
    once: true,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Repo {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let url = args.required_str("url")?;
    if url.trim().is_empty() || url.chars().any(char::is_whitespace) {
        return Err(BuiltinError::new(format!(
            "{}(): `url` {url:?} is not a URL",
            SPEC.name
        )));
    }
    let description = args.str("description").filter(|d| !d.is_empty());
    recording.step(Repo { url, description }.into())?;
    Ok(())
}

impl Lower for Repo {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        lowering.config.set_label(SOURCE_LABEL, &self.url);
        if let Some(description) = &self.description {
            lowering.config.set_label(DESCRIPTION_LABEL, description);
        }
        lowering.history(span, &format!("{} {}", SPEC.name, self.url), true);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

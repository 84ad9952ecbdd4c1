//! `config.conda_channel(channel)`: `/etc/conda/.condarc`, checked as YAML
//! with errors pointing into the string in build.envd.

use std::ops::Range;

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec};
use crate::checks::{yaml_flow_too_deep, yaml_message};
use crate::limits::MAX_YAML_FLOW_DEPTH;
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "config.conda_channel",
    summary: "`/etc/conda/.condarc`",
    params: Params::Declared(&[
        Param::positional("channel", Kind::Str, "the text of a .condarc (YAML)").required(),
        Param::positional(
            "use_mamba",
            Kind::Bool,
            "no effect: envd installed micromamba; here the base's conda is used",
        ),
    ]),
    once: true,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CondaChannel {
    pub condarc: String,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let condarc = args.required_str("channel")?;
    validate_condarc(&condarc, |index| {
        recording.locate_in_argument(&condarc, index)
    })?;
    if args.bool("use_mamba") {
        recording.warn(
            &crate::lint::IGNORED_PARAMETER,
            format!("{}(): `use_mamba` has no effect", SPEC.name),
            "envd installed micromamba in its own images; here the base image's conda installs packages",
        );
    }
    recording.step(CondaChannel { condarc }.into())?;
    Ok(())
}

/// A `.condarc` must be a YAML mapping; errors point at the line in build.envd.
/// `locate` maps a byte index in the YAML text to a span in build.envd.
fn validate_condarc(
    text: &str,
    locate: impl FnOnce(usize) -> Option<Range<usize>>,
) -> Result<(), BuiltinError> {
    let func = SPEC.name;
    if let Some(at) = yaml_flow_too_deep(text, MAX_YAML_FLOW_DEPTH) {
        let mut error = BuiltinError::new(format!(
            "{func}(): `channel` nests brackets more than {MAX_YAML_FLOW_DEPTH} deep"
        ));
        error.span = locate(at);
        return Err(error);
    }
    // Channel URLs with a login would be kept in /etc/conda/.condarc.
    if let Some((at, message)) = crate::checks::urls_in(text)
        .into_iter()
        .find_map(|(at, url)| crate::lower::conda_login_in_url(&format!("{func}(): the URL"), url).map(|m| (at, m)))
    {
        let mut error = BuiltinError::new(message).help(crate::lower::LOGIN_HELP);
        error.span = locate(at);
        return Err(error);
    }
    match serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text) {
        Ok(serde_yaml_ng::Value::Mapping(map)) if !map.is_empty() => Ok(()),
        Ok(_) => Err(BuiltinError::new(format!(
            "{func}(): `channel` must be .condarc YAML: a mapping such as `channels: [defaults]`"
        ))),
        Err(err) => {
            let mut error = BuiltinError::new(format!(
                "{func}(): `channel` is not valid YAML: {}",
                yaml_message(&err)
            ));
            error.span = err.location().and_then(|l| locate(l.index()));
            Err(error)
        }
    }
}

impl Lower for CondaChannel {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let mut text = shell::dedent(&self.condarc);
        // A site's mirror (ENVD_CONDA_CHANNEL) replaces every channel the
        // text names, in the image's .condarc and for later conda steps.
        if let Some(mirror) = lowering.site.conda_mirror.clone() {
            let condarc: serde_yaml_ng::Mapping =
                serde_yaml_ng::from_str(&text).map_err(|e| {
                    Diagnostic::error(
                        lowering.source,
                        Some(span.range()),
                        format!("{}(): `channel` is not valid YAML: {}", SPEC.name, yaml_message(&e)),
                    )
                })?;
            let (rewritten, defaults) = mirror.rewrite_condarc(&condarc);
            text = serde_yaml_ng::to_string(&rewritten).map_err(|e| {
                Diagnostic::error(
                    lowering.source,
                    Some(span.range()),
                    format!("{}(): cannot write the .condarc: {e}", SPEC.name),
                )
            })?;
            lowering.conda_env = mirror.env(Some(&defaults));
        }
        lowering.config_file(span, SPEC.name, "/etc/conda/.condarc", text)
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn condarc_must_be_a_mapping_and_errors_point_into_the_literal() {
        assert!(validate_condarc("channels:\n  - defaults\n", |_| None).is_ok());
        assert!(validate_condarc("- a\n- b\n", |_| None).is_err());
        assert!(validate_condarc("", |_| None).is_err());
        let err = validate_condarc("channels: [a\n", |i| Some(100 + i..101 + i)).unwrap_err();
        assert!(err.message.contains("not valid YAML"), "{}", err.message);
        assert!(err.span.unwrap().start >= 100);
    }
}

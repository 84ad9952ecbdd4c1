//! `config.conda_channel(channel)`: `/etc/conda/.condarc`, checked as YAML
//! with errors pointing into the string in build.envd. envd v1's twin
//! writes the environment's own, `/opt/conda/envs/envd/.condarc`, which
//! its conda steps read.

use std::ops::Range;

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V0, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::limits::MAX_YAML_FLOW_DEPTH;
use crate::lower::{Lowering, shell};
use crate::validate::{yaml_flow_too_deep, yaml_message};

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
    tools: &[Tool::Conda],
    syntaxes: ONLY_V0,
    record,
};

/// envd v1's `config.conda_channel(channel)`: the `.condarc` of
/// install.python()'s environment.
pub static V1: Spec = Spec {
    summary: "`/opt/conda/envs/envd/.condarc`, the environment's (envd v1)",
    params: Params::Declared(&[Param::positional(
        "channel",
        Kind::Str,
        "the text of a .condarc (YAML)",
    )
    .required()]),
    syntaxes: ONLY_V1,
    ..SPEC
};

/// Where envd v1 wrote the `.condarc`.
pub const V1_CONDARC: &str = "/opt/conda/envs/envd/.condarc";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CondaChannel {
    pub condarc: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub v1: bool,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let condarc = args.required_str("channel")?;
    validate_condarc(&condarc, |index| {
        recording.locate_in_argument(&condarc, index)
    })?;
    // conda drops keys it does not know without a word: say so here.
    if let Ok(serde_yaml_ng::Value::Mapping(map)) =
        serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&condarc)
    {
        for key in map.keys().filter_map(serde_yaml_ng::Value::as_str) {
            if CONDA_SETTINGS.contains(&key) {
                continue;
            }
            // The key where a line starts with it (a top-level key).
            let at = line_starting_with(&condarc, &format!("{key}:"))
                .and_then(|index| recording.locate_in_argument(&condarc, index));
            let help = if map
                .get(key)
                .and_then(serde_yaml_ng::Value::as_str)
                .is_some_and(|v| v.contains("://"))
            {
                "as an entry of custom_channels (a channel name and its mirror), indent it under `custom_channels:`".to_string()
            } else {
                "remove it, or name a setting conda has (`conda config --describe` lists them)"
                    .to_string()
            };
            recording.warn_at(
                &crate::lint::CONDARC_KEY_IGNORED,
                at,
                format!(
                    "{}(): `{key}` is not a conda setting: conda ignores it",
                    SPEC.name
                ),
                &help,
            );
        }
    }
    let v1 = args.spec().syntaxes == ONLY_V1;
    if !v1 && args.bool("use_mamba") {
        recording.warn(
            &crate::lint::IGNORED_PARAMETER,
            format!("{}(): `use_mamba` has no effect", SPEC.name),
            "envd installed micromamba in its own images; here the base image's conda installs packages",
        );
    }
    recording.step(CondaChannel { condarc, v1 }.into())?;
    Ok(())
}

/// The settings conda 26.7 reads from a `.condarc` (`context.list_parameters()`),
/// and the older names it still takes.
const CONDA_SETTINGS: &[&str] = &[
    "add_anaconda_token",
    "add_pip_as_python_dependency",
    "aggressive_update_packages",
    "allow_conda_downgrades",
    "allow_cycles",
    "allow_non_channel_urls",
    "allow_softlinks",
    "allowlist_channels",
    "always_copy",
    "always_softlink",
    "always_yes",
    "anaconda_upload",
    "auto_activate",
    "auto_activate_base",
    "auto_stack",
    "auto_update_conda",
    "bld_path",
    "changeps1",
    "channel_alias",
    "channel_priority",
    "channel_settings",
    "channels",
    "client_ssl_cert",
    "client_ssl_cert_key",
    "clobber",
    "conda_build",
    "console",
    "create_default_packages",
    "croot",
    "custom_channels",
    "custom_multichannels",
    "debug",
    "default_activation_env",
    "default_channels",
    "default_python",
    "default_threads",
    "denylist_channels",
    "deps_modifier",
    "dev",
    "disallowed_packages",
    "download_only",
    "dry_run",
    "enable_private_envs",
    "env_prompt",
    "environment_specifier",
    "envs_dirs",
    "envs_path",
    "envvars_force_uppercase",
    "error_upload_url",
    "execute_threads",
    "experimental",
    "export_platforms",
    "extra_safety_checks",
    "fetch_threads",
    "force",
    "force_32bit",
    "force_reinstall",
    "force_remove",
    "ignore_pinned",
    "json",
    "list_fields",
    "local_repodata_ttl",
    "migrated_channel_aliases",
    "migrated_custom_channels",
    "no_lock",
    "no_plugins",
    "non_admin_enabled",
    "notify_outdated_conda",
    "number_channel_notices",
    "offline",
    "override_channels_enabled",
    "override_virtual_packages",
    "path_conflict",
    "pinned_packages",
    "pkgs_dirs",
    "plugins",
    "prefix_data_interoperability",
    "preview",
    "protect_frozen_envs",
    "proxy_servers",
    "quiet",
    "register_envs",
    "remote_backoff_factor",
    "remote_connect_timeout_secs",
    "remote_max_retries",
    "remote_read_timeout_secs",
    "repodata_fns",
    "repodata_threads",
    "repodata_use_shards",
    "repodata_use_zst",
    "report_errors",
    "rollback_enabled",
    "root_prefix",
    "safety_checks",
    "sat_solver",
    "separate_format_cache",
    "shortcuts",
    "shortcuts_only",
    "show_channel_urls",
    "signing_metadata_url_base",
    "solver",
    "solver_ignore_timestamps",
    "ssl_verify",
    "subdir",
    "subdirs",
    "target_prefix_override",
    "trace",
    "track_features",
    "unsatisfiable_hints",
    "unsatisfiable_hints_check_depth",
    "update_modifier",
    "use_index_cache",
    "use_local",
    "use_only_tar_bz2",
    "verbosity",
    "verify_threads",
    "whitelist_channels",
    // The older names conda still takes for some (aliases).
    "add_binstar_token",
    "binstar_upload",
    "channel",
    "client_cert",
    "client_cert_key",
    "conda-build",
    "copy",
    "disallow",
    "env_spec",
    "experimental_solver",
    "extra_platforms",
    "pip_interop_enabled",
    "root_dir",
    "self_update",
    "softlink",
    "verbose",
    "verify_ssl",
    "virtual_packages",
    "yes",
];

/// The byte index of the first line whose text (after its indent) starts
/// with `prefix`.
fn line_starting_with(text: &str, prefix: &str) -> Option<usize> {
    let mut at = 0;
    for line in text.split_inclusive('\n') {
        let indent = line.len() - line.trim_start().len();
        if line.trim_start().starts_with(prefix) {
            return Some(at + indent);
        }
        at += line.len();
    }
    None
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
    if let Some((at, message)) = crate::validate::urls_in(text)
        .into_iter()
        .find_map(|(at, url)| {
            crate::lower::conda_login_in_url(&format!("{func}(): the URL"), url).map(|m| (at, m))
        })
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
        // A site's mirror (ENVD_CONDA_CHANNEL) replaces every channel the
        // text names, in the image's .condarc and for later conda steps.
        let text = lowering.condarc_for_site(
            span,
            SPEC.name,
            "`channel`",
            shell::dedent(&self.condarc),
        )?;
        if self.v1 {
            // conda reads it when a step names the environment
            // (conda_packages sets CONDA_PREFIX), and checks it there.
            return lowering.config_file(span, SPEC.name, V1_CONDARC, text);
        }
        lowering.config_file(span, SPEC.name, "/etc/conda/.condarc", text)?;
        // conda reads the file only when a later step runs it: let a base
        // with conda read it now, so a text conda refuses fails here.
        let failure = lowering.failure(
            span,
            "conda refuses the .condarc this call writes (its message is above)",
        );
        let script = format!(
            "if command -v conda >/dev/null 2>&1; then conda config --show >/dev/null || {{ echo {} >&2; exit 1; }}; fi\n",
            shell::quote(&failure)
        );
        lowering.exec_step(
            span,
            &format!("{}: conda reads it", SPEC.name),
            script,
            vec![],
        )
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }

    fn builtin(&self) -> Option<&'static Spec> {
        Some(if self.v1 { &V1 } else { &SPEC })
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

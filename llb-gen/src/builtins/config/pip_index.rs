//! `config.pip_index(url, extra_url, trust)`: `/etc/pip.conf`, and the same
//! settings as `PIP_*` variables for later pip and run steps. A site mirror
//! (`ENVD_PIP_INDEX`) replaces the file's indexes.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, Tool, http_url,
    warn_unused_mode,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lower::{Lowering, PipIndexSettings};
use crate::validate::host_of;

pub static SPEC: Spec = Spec {
    name: "config.pip_index",
    summary: "`/etc/pip.conf`",
    params: Params::Declared(&[
        Param::positional("url", Kind::Str, "the index URL").required(),
        Param::named("extra_url", Kind::Str, "an extra index URL"),
        Param::named("trust", Kind::Bool, "trust the indexes' hosts (plain http)"),
        Param::named(
            "mode",
            Kind::Str,
            "accepted with a warning: envd never implemented it",
        ),
    ]),
    once: true,
    tools: &[Tool::Pip],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PipIndex {
    pub url: String,
    pub extra_url: Option<String>,
    pub trust: bool,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let url = http_url(&SPEC, "url", &args.required_str("url")?)?;
    let extra_url = match args.str("extra_url") {
        Some(extra) if !extra.is_empty() => Some(http_url(&SPEC, "extra_url", &extra)?),
        _ => None,
    };
    let trust = args.bool("trust");
    warn_unused_mode(&SPEC, args, recording);
    let plain_http: Vec<&str> = std::iter::once(&url)
        .chain(&extra_url)
        .filter(|u| u.to_ascii_lowercase().starts_with("http://") && !pip_trusts_plain_http(u))
        .map(String::as_str)
        .collect();
    if !trust && let Some(first) = plain_http.first() {
        recording.warn(
            &crate::lint::PIP_INDEX_INSECURE,
            format!(
                "{}(): {first:?} is plain http, and `trust` is not set: pip refuses such an index",
                SPEC.name
            ),
            "add trust=True for a mirror you trust, or use https",
        );
    }
    recording.step(
        PipIndex {
            url,
            extra_url,
            trust,
        }
        .into(),
    )?;
    Ok(())
}

/// pip takes plain http from the loopback host without `trusted-host`
/// (its secure origins include localhost, 127.0.0.0/8 and ::1).
fn pip_trusts_plain_http(url: &str) -> bool {
    let host = host_of(url).to_ascii_lowercase();
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => host.rsplit_once(':').map_or(host.as_str(), |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Lower for PipIndex {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let settings = match &lowering.site.pip_mirror {
            Some(mirror) => PipIndexSettings::mirror(mirror, self.trust),
            None => PipIndexSettings {
                url: self.url.clone(),
                extra_url: self.extra_url.clone(),
                trust: self.trust,
            },
        };
        // The variables win over a base image's own user-level pip config.
        lowering.pip_env = settings.env();
        lowering.config_file(span, SPEC.name, "/etc/pip.conf", settings.conf())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_indexes_need_no_trust() {
        assert!(pip_trusts_plain_http("http://127.0.0.1:8000/simple"));
        assert!(pip_trusts_plain_http("http://localhost/simple"));
        assert!(pip_trusts_plain_http("http://[::1]:3141/root/pypi"));
        assert!(!pip_trusts_plain_http("http://mirror.internal:8080/simple"));
        assert!(!pip_trusts_plain_http("http://10.0.0.7/simple"));
        assert!(pip_trusts_plain_http("HTTP://LOCALHOST:8000/simple"));
        assert!(!pip_trusts_plain_http("http://127.mirror.example/simple"));
    }
}

//! `install.system_packages(name)`: `apt-get install` with apt's archives
//! and lists cached across builds. `install.apt_packages` is the same
//! install under envd's other name.

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, nothing_to_install,
    package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{CacheMount, CacheSharing, Mount};
use crate::lower::{APT_CACHE_ID, APT_LISTS_ID, Lowering, shell};

pub static SPEC: Spec = Spec {
    name: "install.system_packages",
    summary: "`apt-get install` with the apt caches",
    params: Params::Declared(&[NAME]),
    once: false,
    record,
};

/// The parameter of both apt builtins.
pub(in crate::builtins) const NAME: Param = Param::positional(
    "name",
    Kind::StrList,
    "Debian package names, optionally `=version` or `/release`",
);

const APT_ARCHIVES_DIR: &str = "/var/cache/apt";
/// Only the lists: `/var/lib/apt/extended_states` belongs to the image.
const APT_LISTS_DIR: &str = "/var/lib/apt/lists";

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SystemPackages {
    pub names: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names_of(&SPEC, args)?;
    recording.step(SystemPackages { names }.into());
    Ok(())
}

/// The checked `name` list of an apt builtin's call.
pub(in crate::builtins) fn package_names_of(
    spec: &Spec,
    args: &Args,
) -> Result<Vec<String>, BuiltinError> {
    let names = package_names(spec, "name", args.str_list("name"), is_apt_package)?;
    if names.is_empty() {
        return Err(nothing_to_install(spec, "name=[...]"));
    }
    Ok(names)
}

impl Lower for SystemPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        apt_install(lowering, span, &SPEC, &self.names)
    }
}

/// apt-get with the archives and lists cached across builds. Docker
/// images ship a hook that deletes downloaded packages after every
/// install; it is moved aside for the step and put back after it.
pub(in crate::builtins) fn apt_install(
    lowering: &mut Lowering<'_>,
    span: &Span,
    spec: &Spec,
    names: &[String],
) -> Result<(), Diagnostic> {
    let script = format!(
        r#"set -eu
command -v apt-get >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}
hook=/etc/apt/apt.conf.d/docker-clean
if [ -f "$hook" ]; then mv "$hook" /tmp/envd-frontend-docker-clean; trap 'mv /tmp/envd-frontend-docker-clean "$hook"' EXIT; fi
export DEBIAN_FRONTEND=noninteractive
apt-get -o APT::Keep-Downloaded-Packages=true update
apt-get -o APT::Keep-Downloaded-Packages=true install -y --no-install-recommends {}
"#,
        shell::quote(&lowering.failure(
            span,
            &format!(
                "{} needs apt-get (a Debian or Ubuntu base image)",
                spec.name
            )
        )),
        shell::join(names)
    );
    let mounts: Vec<Mount> = vec![
        CacheMount::new(APT_ARCHIVES_DIR, APT_CACHE_ID)
            .sharing(CacheSharing::Locked)
            .into(),
        CacheMount::new(APT_LISTS_DIR, APT_LISTS_ID)
            .sharing(CacheSharing::Locked)
            .into(),
    ];
    let name = format!("{} {}", spec.name, names.join(", "));
    lowering.exec_step(span, &name, script, mounts)
}

/// Debian package names (policy 5.6.1), optionally `=version` or `/release`.
fn is_apt_package(spec: &str) -> bool {
    let name = spec.split(['=', '/']).next().unwrap_or("");
    name.len() >= 2
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && name.chars().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | ':')
        })
        && spec.chars().all(|c| {
            c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.' | ':' | '=' | '/' | '~' | '_')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apt_package_names() {
        for ok in [
            "libgl1-mesa-glx",
            "g++",
            "python3.11",
            "curl=7.88.1-10+deb12u5",
            "nginx/bookworm-backports",
        ] {
            assert!(is_apt_package(ok), "{ok}");
        }
        for bad in ["", "A", "Foo", "x y", "a;b", "-y"] {
            assert!(!is_apt_package(bad), "{bad}");
        }
    }
}

//! apt-get installs: the archives and lists cached across builds and
//! shared by every project and variant (locked: one build at a time).

use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{CacheMount, CacheSharing, Mount};

use super::{APT_CACHE_ID, APT_LISTS_ID, Lowering, secrets, shell};

const APT_ARCHIVES_DIR: &str = "/var/cache/apt";
/// Only the lists: `/var/lib/apt/extended_states` belongs to the image.
const APT_LISTS_DIR: &str = "/var/lib/apt/lists";

impl Lowering<'_> {
    /// apt-get with the archives and lists cached across builds. Docker
    /// images ship a hook that deletes downloaded packages after every
    /// install; it is moved aside for the step and put back after it.
    pub(crate) fn apt_install(
        &mut self,
        span: &Span,
        builtin: &str,
        names: &[String],
    ) -> Result<(), Diagnostic> {
        let script = format!(
            r#"set -eu
command -v apt-get >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}
hook=/etc/apt/apt.conf.d/docker-clean
if [ -f "$hook" ]; then mv "$hook" /tmp/envd-frontend-docker-clean; trap 'mv /tmp/envd-frontend-docker-clean "$hook"' EXIT; fi
export DEBIAN_FRONTEND=noninteractive
{}
{}
"#,
            shell::quote(&self.failure(
                span,
                &format!("{} needs apt-get (a Debian or Ubuntu base image)", builtin)
            )),
            self.with_login_hint(span, "apt-get", "apt-get -o APT::Keep-Downloaded-Packages=true update"),
            self.with_login_hint(
                span,
                "apt-get",
                &format!(
                    "apt-get -o APT::Keep-Downloaded-Packages=true install -y --no-install-recommends {}",
                    shell::join(names)
                )
            ),
        );
        let mounts: Vec<Mount> = vec![
            CacheMount::new(APT_ARCHIVES_DIR, APT_CACHE_ID)
                .sharing(CacheSharing::Locked)
                .into(),
            CacheMount::new(APT_LISTS_DIR, APT_LISTS_ID)
                .sharing(CacheSharing::Locked)
                .into(),
            secrets::apt_auth_mount(),
        ];
        let name = format!("{} {}", builtin, names.join(", "));
        self.exec_step(span, &name, script, mounts)
    }
}

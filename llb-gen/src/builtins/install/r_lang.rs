//! envd v1's `install.r_lang()`: R (`r-base`) from CRAN's apt repository
//! for Ubuntu, as envd 1.3.4 installed it. envd fetched CRAN's signing key
//! with wget inside the step and named Ubuntu 22.04's suite; here BuildKit
//! fetches the key (apt reads it armored), and the suite is the base's own
//! Ubuntu release. The apt step has the apt caches, as install.apt_packages.

use serde::Serialize;

use crate::builtins::{Args, BuiltinError, Lower, ONLY_V1, Params, Recording, Spec, Tool};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::Copy;
use crate::lower::Lowering;
use crate::lower::downloads::{Fetch, file_name};
use crate::lower::shell;

/// CRAN's apt repository for Ubuntu, and the key it is signed with.
pub const CRAN_UBUNTU: &str = "https://cloud.r-project.org/bin/linux/ubuntu";
const CRAN_KEY: &str = "https://cloud.r-project.org/bin/linux/ubuntu/marutter_pubkey.asc";
const KEYRING: &str = "/usr/share/keyrings/r-project.asc";

pub static SPEC: Spec = Spec {
    name: "install.r_lang",
    summary: "R (r-base) from CRAN's apt repository for Ubuntu (envd v1)",
    params: Params::Declared(&[]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RLang {}

fn record(_: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    recording.step(RLang {}.into())
}

impl Lower for RLang {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let mirrors = &lowering.site.download_mirrors;
        let fetch = Fetch {
            url: mirrors.rewrite(CRAN_KEY),
            checksum: None,
        };
        let repository = mirrors.rewrite(CRAN_UBUNTU);
        let key = lowering.download(span, "CRAN's signing key", &fetch, file_name(CRAN_KEY))?;
        lowering.add_layer(span, &format!("{} {KEYRING}", SPEC.name), |op| {
            op.copy(
                Copy::new(&key, format!("/{}", file_name(CRAN_KEY)), KEYRING)
                    .contents_only(true)
                    .create_dest_path(true),
            )
        })?;
        let not_ubuntu = lowering.failure(
            span,
            "install.r_lang needs an Ubuntu base image: CRAN's apt repository is Ubuntu's (envd 1.x named Ubuntu 22.04's)",
        );
        let script = format!(
            "set -eu\n\
             . /etc/os-release\n\
             [ \"${{ID:-}}\" = ubuntu ] && [ -n \"${{VERSION_CODENAME:-}}\" ] || {{ echo {} >&2; exit 1; }}\n\
             printf 'deb [signed-by={KEYRING}] %s %s-cran40/\\n' {} \"$VERSION_CODENAME\" > /etc/apt/sources.list.d/r-project.list\n",
            shell::quote(&not_ubuntu),
            shell::quote(&repository)
        );
        lowering.exec_step_in(
            span,
            &format!("{} CRAN's apt repository", SPEC.name),
            script,
            vec![],
            "/",
        )?;
        lowering.apt_install(span, SPEC.name, &["r-base".to_string()])?;
        lowering.own_for_dev("/usr/local/lib/R/site-library");
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

//! envd v1's `install.rust(version)`: Rust by rustup, with `CARGO_HOME`
//! /opt/rust and its `bin` on PATH, as envd 1.3.4 installed it. envd ran
//! rustup's installer script with curl inside the step; here BuildKit
//! fetches rustup-init itself (rustup's newest, as the script took), and
//! the step runs it, downloading the toolchain as pip downloads packages.
//! `version` is the toolchain (envd's documented meaning; envd passed it to
//! the script as rustup's own version, which failed for `1.72.0`).

use serde::Serialize;

use crate::builtins::{
    Args, BuiltinError, Kind, Lower, ONLY_V1, Param, Params, Recording, Spec, Tool,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::BindMount;
use crate::lower::Lowering;
use crate::lower::downloads::Fetch;
use crate::lower::shell;

/// Where rustup-init and Rust's toolchains come from.
pub const RUST_DIST: &str = "https://static.rust-lang.org";
/// Where rustup-init is mounted for the step.
const RUSTUP_MOUNT: &str = "/tmp/envd-frontend/rustup";

pub static SPEC: Spec = Spec {
    name: "install.rust",
    summary: "Rust by rustup, CARGO_HOME /opt/rust on PATH (envd v1)",
    params: Params::Declared(&[Param::positional(
        "version",
        Kind::Str,
        "the toolchain, e.g. `1.72.0`; the newest stable when not given",
    )]),
    once: true,
    tools: &[Tool::Download],
    syntaxes: ONLY_V1,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rust {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let version = args.str("version").filter(|v| !v.is_empty());
    if let Some(v) = &version
        && !crate::builtins::is_version_word(v)
    {
        return Err(BuiltinError::new(format!(
            "{}(): `version` {v:?} is no Rust toolchain",
            SPEC.name
        ))
        .help("e.g. install.rust(version=\"1.72.0\"), or stable, beta, nightly"));
    }
    recording.step(Rust { version }.into())
}

impl Lower for Rust {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let triple = match lowering.options.platform.architecture.as_str() {
            "amd64" => "x86_64-unknown-linux-gnu",
            "arm64" => "aarch64-unknown-linux-gnu",
            other => {
                return Err(Diagnostic::error(
                    lowering.source,
                    Some(span.range()),
                    format!(
                        "{}(): rustup is built here for amd64 and arm64, not {other}",
                        SPEC.name
                    ),
                ));
            }
        };
        let mirrors = &lowering.site.download_mirrors;
        let fetch = Fetch {
            url: mirrors.rewrite(&format!("{RUST_DIST}/rustup/dist/{triple}/rustup-init")),
            checksum: None,
        };
        let rustup = lowering.download(span, "rustup-init", &fetch, "rustup-init")?;
        let mut script = String::from("set -eu\nexport CARGO_HOME=/opt/rust\n");
        // rustup fetches the toolchain from the same place.
        if let Some(dist) = mirrors.folder_mirror(&format!("{RUST_DIST}/")) {
            script.push_str(&format!(
                "export RUSTUP_DIST_SERVER={} RUSTUP_UPDATE_ROOT={}\n",
                shell::quote(&dist),
                shell::quote(&format!("{dist}/rustup"))
            ));
        }
        let toolchain = self
            .version
            .as_ref()
            .map(|v| format!(" --default-toolchain {}", shell::quote(v)))
            .unwrap_or_default();
        script.push_str(&format!(
            "{RUSTUP_MOUNT}/rustup-init -y -q --no-modify-path{toolchain}\n"
        ));
        let title = format!(
            "{} {}",
            SPEC.name,
            self.version.as_deref().unwrap_or("stable")
        );
        lowering.exec_step_in(
            span,
            &title,
            script,
            vec![BindMount::new(RUSTUP_MOUNT, &rustup).into()],
            "/",
        )?;
        lowering.append_path(&["/opt/rust/bin"]);
        Ok(())
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

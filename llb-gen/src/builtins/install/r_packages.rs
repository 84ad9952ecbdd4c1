//! `install.r_packages(name)`: R packages from CRAN (or the mirror
//! `config.cran_mirror` set), installed with `Rscript`. Downloads are kept
//! in a cache mount. The base image must have R; the step fails at the
//! call's line when it has none, or when a package did not install (R's
//! `install.packages` only warns).

use serde::Serialize;

use crate::builtins::config::package_mirror::CRAN as MIRROR_KIND;
use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, nothing_to_install,
    package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{CacheMount, CacheSharing};
use crate::lower::{Lowering, shell};

/// envd's CRAN when no mirror is set.
pub const DEFAULT_CRAN: &str = "https://cran.rstudio.com";
/// Where R keeps the package files it downloads (a cache mount).
pub const CRAN_CACHE_DIR: &str = "/var/cache/envd-frontend/cran";
const CRAN_CACHE_ID: &str = "envd-frontend/cran";

pub static SPEC: Spec = Spec {
    name: "install.r_packages",
    summary: "R packages from CRAN, with `Rscript` and a download cache",
    params: Params::Declared(&[
        Param::positional("name", Kind::StrList, "CRAN package names").required(),
    ]),
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RPackages {
    pub names: Vec<String>,
}

/// CRAN's rule for package names: letters, digits and dots, starting with
/// a letter and not ending with a dot.
fn is_r_package(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && !name.ends_with('.')
        && name.len() >= 2
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.')
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let names = package_names(&SPEC, "name", args.str_list("name"), is_r_package)?;
    if names.is_empty() {
        nothing_to_install(&SPEC, "name=[...]", recording);
        return Ok(());
    }
    recording.step(RPackages { names }.into())?;
    Ok(())
}

/// `text` as an R string literal.
fn r_string(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

impl Lower for RPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let mirror = lowering
            .mirror(MIRROR_KIND)
            .unwrap_or_else(|| DEFAULT_CRAN.to_string());
        let packages: Vec<String> = self.names.iter().map(|n| format!("\"{n}\"")).collect();
        let not_installed =
            r_string(&lowering.failure(span, "install.r_packages could not install: "));
        let expression = format!(
            "options(repos = c(CRAN = \"{mirror}\")); pkgs <- c({}); \
             install.packages(pkgs, destdir = \"{CRAN_CACHE_DIR}\"); \
             missing <- pkgs[!vapply(pkgs, requireNamespace, logical(1), quietly = TRUE)]; \
             if (length(missing) > 0) {{ message({not_installed}, paste(missing, collapse = \", \")); quit(status = 1) }}",
            packages.join(", ")
        );
        let no_r = lowering.failure(
            span,
            "install.r_packages needs R (Rscript) on the base image's PATH",
        );
        let script = format!(
            "set -eu\ncommand -v Rscript >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}\nmkdir -p {CRAN_CACHE_DIR}\nRscript -e {}\n",
            shell::quote(&no_r),
            shell::quote(&expression)
        );
        let name = format!("{} {}", SPEC.name, self.names.join(", "));
        let cache = CacheMount::new(CRAN_CACHE_DIR, CRAN_CACHE_ID)
            .sharing(CacheSharing::Locked)
            .into();
        lowering.exec_step(span, &name, script, vec![cache])
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_strings() {
        assert!(is_r_package("data.table") && is_r_package("R6"));
        assert!(!is_r_package("data table") && !is_r_package("x") && !is_r_package("1a"));
        assert_eq!(r_string("a \"b\" \\"), "\"a \\\"b\\\" \\\\\"");
    }
}

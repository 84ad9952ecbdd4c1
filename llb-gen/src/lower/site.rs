//! Site settings given as build args, for air-gapped sites and for images
//! whose Python differs from what build files say: a pip mirror that
//! replaces the index build.envd configures, and the Python version to
//! require instead of `base(language=...)`'s.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::PythonRequest;
use crate::lang::parse_language;

/// `--build-arg ENVD_PIP_INDEX=http://mirror/simple`: every pip step uses
/// this index; `config.pip_index` writes it to pip.conf in place of its own.
pub const PIP_INDEX_ARG: &str = "ENVD_PIP_INDEX";
/// `--build-arg ENVD_PYTHON_VERSION=3.11`: the Python the image must have,
/// replacing the version of `base(language=...)`.
pub const PYTHON_VERSION_ARG: &str = "ENVD_PYTHON_VERSION";

#[derive(Clone, Debug, Default)]
pub struct SiteSettings {
    pub pip_index: Option<String>,
    pub python: Option<PythonRequest>,
}

impl SiteSettings {
    pub fn from_build_args(args: &BTreeMap<String, String>) -> Result<SiteSettings, Diagnostic> {
        let arg_source =
            |key: &str, value: &str| SourceText::new(format!("--build-arg {key}"), value);
        let pip_index = match args.get(PIP_INDEX_ARG) {
            Some(url) if is_http_url(url) => Some(url.clone()),
            Some(url) => {
                let source = arg_source(PIP_INDEX_ARG, url);
                return Err(Diagnostic::error(
                    &source,
                    Some(0..url.len()),
                    "not an http(s) URL of a package index",
                ));
            }
            None => None,
        };
        let python = match args.get(PYTHON_VERSION_ARG) {
            Some(version) => Some(parse_language(&format!("python{version}")).map_err(|e| {
                Diagnostic::error(
                    &arg_source(PYTHON_VERSION_ARG, version),
                    Some(0..version.len()),
                    e.message,
                )
                .with_help("e.g. 3.11")
            })?),
            None => None,
        };
        Ok(SiteSettings { pip_index, python })
    }

    /// The `PIP_*` variables pip steps get before any `config.pip_index`.
    pub fn pip_env(&self) -> Vec<(String, String)> {
        self.pip_index
            .iter()
            .flat_map(|url| {
                let mut env = vec![("PIP_INDEX_URL".to_string(), url.clone())];
                if url.starts_with("http://") {
                    env.push((
                        "PIP_TRUSTED_HOST".to_string(),
                        super::files::host_of(url).to_string(),
                    ));
                }
                env
            })
            .collect()
    }
}

fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/')) && !url.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(pairs: &[(&str, &str)]) -> Result<SiteSettings, Diagnostic> {
        SiteSettings::from_build_args(
            &pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn parses_and_checks_site_settings() {
        let s = settings(&[
            ("ENVD_PIP_INDEX", "http://127.0.0.1:8000/simple"),
            ("ENVD_PYTHON_VERSION", "3.11"),
        ])
        .unwrap();
        assert_eq!(s.python.unwrap().version(), "3.11");
        assert_eq!(
            s.pip_index.as_deref().map(|_| settings(&[(
                "ENVD_PIP_INDEX",
                "http://127.0.0.1:8000/simple"
            )])
            .unwrap()
            .pip_env()),
            Some(vec![
                (
                    "PIP_INDEX_URL".to_string(),
                    "http://127.0.0.1:8000/simple".to_string()
                ),
                ("PIP_TRUSTED_HOST".to_string(), "127.0.0.1:8000".to_string())
            ])
        );
        let err = settings(&[("ENVD_PIP_INDEX", "mirror/simple")]).unwrap_err();
        assert!(
            err.render()
                .starts_with("--build-arg ENVD_PIP_INDEX:1:1: error: not an http(s) URL"),
            "{}",
            err.render()
        );
        assert!(settings(&[("ENVD_PYTHON_VERSION", "2.7")]).is_err());
        assert!(settings(&[("ENVD_PYTHON_VERSION", "three")]).is_err());
        assert!(settings(&[]).unwrap().pip_env().is_empty());
    }
}

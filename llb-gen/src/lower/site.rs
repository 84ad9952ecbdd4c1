//! Site settings given as build args, for air-gapped sites and for images
//! whose Python differs from what build files say: a pip mirror that
//! replaces the index build.envd configures, and the Python version to
//! require instead of `base(language=...)`'s.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::PythonRequest;
use crate::validate::{host_of, is_http_url, masked_login};

use super::conda_mirror::{CONDA_CHANNEL_ARG, CondaMirror};
use super::downloads::{DOWNLOAD_MIRRORS_ARG, DownloadMirrors};

/// `--build-arg ENVD_PIP_INDEX=http://mirror/simple`: every pip step uses
/// this index; the file's own index setting writes it to pip.conf instead.
pub const PIP_INDEX_ARG: &str = "ENVD_PIP_INDEX";
/// `--build-arg ENVD_PYTHON_VERSION=3.11`: the Python the image must have,
/// replacing the version of `base(language=...)`.
pub const PYTHON_VERSION_ARG: &str = "ENVD_PYTHON_VERSION";

#[derive(Clone, Debug, Default)]
pub struct SiteSettings {
    pub pip_mirror: Option<String>,
    pub python: Option<PythonRequest>,
    /// `ENVD_CONDA_CHANNEL`: where every conda channel comes from.
    pub conda_mirror: Option<CondaMirror>,
    /// `ENVD_DOWNLOAD_MIRRORS`: where envd v1's tool downloads come from.
    pub download_mirrors: DownloadMirrors,
}

/// Every site setting with what it does, as the outline and the README's
/// table describe it. `ENVD_BASE_IMAGE_<NAME>` stands for one per base
/// name.
pub const SETTINGS: &[(&str, &str)] = &[
    (
        super::OVERRIDE_ANY,
        "an image that replaces the base image, whatever base() names",
    ),
    (
        "ENVD_BASE_IMAGE_<NAME>",
        "the image of a base name (ENVD_BASE_IMAGE_AIGES_GPU for aiges_gpu)",
    ),
    (
        super::INSTALL_BASE_ARG,
        "a base the steps run on, whose changes are merged onto the base (base families)",
    ),
    (
        PYTHON_VERSION_ARG,
        "the Python version the image must have, instead of base()'s",
    ),
    (
        PIP_INDEX_ARG,
        "a pip mirror every pip step uses, instead of config.pip_index's",
    ),
    (
        CONDA_CHANNEL_ARG,
        "a conda mirror every channel the build names is taken from",
    ),
    (
        DOWNLOAD_MIRRORS_ARG,
        "where envd v1's downloads (uv, Miniconda, Go, ...) and tool images come from: PREFIX=REPLACEMENT rules, space-separated; REPLACEMENT#sha256=HEX checks that rule's files against HEX",
    ),
    (
        "ENVD_INCLUDE_MIRRORS",
        "where included repositories are fetched from: URL=git-url or URL=context:FOLDER, space-separated",
    ),
    (
        "ENVD_FRONTEND_LOOKUP_TIMEOUT",
        "seconds each lookup in the daemon may take (default 300)",
    ),
    (
        "ENVD_FRONTEND_REPORT",
        "1: show a step with the frontend's timings and memory",
    ),
    (
        "ENVD_FRONTEND_EXPORT",
        "dockerfile: the build's result is a Dockerfile that builds the same image (/Dockerfile, for --output type=local)",
    ),
];

/// What setting `name` does (from [`SETTINGS`]); empty for a name that is
/// no setting.
pub fn describe_setting(name: &str) -> &'static str {
    SETTINGS
        .iter()
        .find(|(setting, _)| *setting == name)
        .map_or("", |(_, description)| description)
}

/// The site settings the frontend itself reads (not the compiler): named
/// here so that a misspelt setting can be told from them. The frontend's
/// tests check its constants are listed.
pub const FRONTEND_SETTINGS: &[&str] = &[
    "ENVD_INCLUDE_MIRRORS",
    "ENVD_FRONTEND_REPORT",
    "ENVD_FRONTEND_LOOKUP_TIMEOUT",
    "ENVD_FRONTEND_EXPORT",
    HIDDEN_TEST_SETTING,
];

/// The end-to-end suite's trigger of a panic: known, never listed.
const HIDDEN_TEST_SETTING: &str = "ENVD_FRONTEND_TEST_PANIC";

/// Every `ENVD_*` setting but the per-name base overrides.
pub fn known_settings() -> Vec<&'static str> {
    let mut known = vec![
        super::OVERRIDE_ANY,
        PIP_INDEX_ARG,
        PYTHON_VERSION_ARG,
        CONDA_CHANNEL_ARG,
        super::INSTALL_BASE_ARG,
        DOWNLOAD_MIRRORS_ARG,
    ];
    known.extend_from_slice(FRONTEND_SETTINGS);
    known
}

/// A warning for each `ENVD_*` build arg no setting has that name (a
/// misspelt setting would be ignored), naming the nearest setting.
/// `ENVD_BASE_IMAGE_*` are checked with the base table.
pub fn unknown_setting_warnings(args: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let known = known_settings();
    args.keys()
        .filter(|key| {
            key.starts_with("ENVD_")
                && !key.starts_with(super::OVERRIDE_PREFIX)
                && !known.contains(&key.as_str())
        })
        .map(|key| {
            let source = SourceText::new(format!("--build-arg {key}"), "");
            let mut warning = Diagnostic::warning(
                &crate::lint::UNKNOWN_SETTING,
                &source,
                None,
                format!("{key} is not a setting of envd-frontend, and changes nothing"),
            );
            let listed: Vec<&str> = known
                .iter()
                .copied()
                .filter(|k| *k != HIDDEN_TEST_SETTING)
                .collect();
            if let Some(close) = crate::validate::closest(key, listed.iter().copied()) {
                warning = warning.with_help(format!("did you mean {close}?"));
            }
            warning.with_help(format!(
                "the settings: {}, ENVD_BASE_IMAGE_<NAME>",
                listed.join(", ")
            ))
        })
        .collect()
}

/// The mirror URL build arg `key` gives, if any: an http(s) URL without
/// a login (`login` finds one; the error shows the value masked).
fn mirror_url(
    args: &BTreeMap<String, String>,
    key: &str,
    login: fn(&str, &str) -> Option<String>,
    what: &str,
    help: Option<&str>,
) -> Result<Option<String>, Diagnostic> {
    let Some(url) = args.get(key) else {
        return Ok(None);
    };
    let error = |shown: &str, message: String| {
        let source = SourceText::new(format!("--build-arg {key}"), shown);
        Diagnostic::error(&source, Some(0..shown.len()), message)
    };
    if let Some(message) = login(key, url) {
        return Err(error(&masked_login(url), message).with_help(super::LOGIN_HELP));
    }
    if !is_http_url(url) {
        let mut error = error(url, format!("not an http(s) URL of {what}"));
        if let Some(help) = help {
            error = error.with_help(help);
        }
        return Err(error);
    }
    Ok(Some(url.clone()))
}

impl SiteSettings {
    pub fn from_build_args(args: &BTreeMap<String, String>) -> Result<SiteSettings, Diagnostic> {
        let arg_source =
            |key: &str, value: &str| SourceText::new(format!("--build-arg {key}"), value);
        let pip_mirror = mirror_url(
            args,
            PIP_INDEX_ARG,
            super::login_in_url,
            "a package index",
            None,
        )?;
        let python = match args.get(PYTHON_VERSION_ARG) {
            Some(version) => Some(PythonRequest::parse(&format!("python{version}")).map_err(
                |e| {
                    Diagnostic::error(
                        &arg_source(PYTHON_VERSION_ARG, version),
                        Some(0..version.len()),
                        format!("base(): {}", e.message),
                    )
                    .with_help("e.g. 3.11")
                },
            )?),
            None => None,
        };
        let conda_mirror = mirror_url(
            args,
            CONDA_CHANNEL_ARG,
            super::conda_login_in_url,
            "a conda mirror",
            Some("the URL under which the mirror serves channels by name: URL/conda-forge, URL/pkgs/main"),
        )?
        .map(|url| CondaMirror::new(&url));
        Ok(SiteSettings {
            pip_mirror,
            python,
            conda_mirror,
            download_mirrors: DownloadMirrors::from_build_args(args)?,
        })
    }

    /// The `PIP_*` variables pip steps get before build.envd sets an index.
    pub fn pip_env(&self) -> Vec<(String, String)> {
        self.pip_mirror
            .iter()
            .flat_map(|mirror| PipIndexSettings::mirror(mirror, false).env())
            .collect()
    }
}

/// A pip index setting, as pip.conf and as the `PIP_*` variables steps get.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PipIndexSettings {
    pub url: String,
    pub extra_url: Option<String>,
    pub trust: bool,
}

impl PipIndexSettings {
    /// A site mirror: the only index, trusted when it is plain http.
    pub fn mirror(url: &str, trust: bool) -> PipIndexSettings {
        PipIndexSettings {
            url: url.to_string(),
            extra_url: None,
            trust: trust || url.starts_with("http://"),
        }
    }

    /// The hosts pip is told to trust: none unless `trust`, else each index's once.
    fn trusted_hosts(&self) -> Vec<&str> {
        if !self.trust {
            return vec![];
        }
        let mut hosts = vec![host_of(&self.url)];
        if let Some(extra) = &self.extra_url
            && !hosts.contains(&host_of(extra))
        {
            hosts.push(host_of(extra));
        }
        hosts
    }

    /// `/etc/pip.conf`.
    pub fn conf(&self) -> String {
        let mut conf = format!("[global]\nindex-url = {}\n", self.url);
        if let Some(extra) = &self.extra_url {
            conf.push_str(&format!("extra-index-url = {extra}\n"));
        }
        let hosts = self.trusted_hosts();
        if !hosts.is_empty() {
            conf.push_str(&format!("trusted-host = {}\n", hosts.join(" ")));
        }
        conf
    }

    /// `PIP_INDEX_URL`, `PIP_EXTRA_INDEX_URL`, `PIP_TRUSTED_HOST`.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![("PIP_INDEX_URL".to_string(), self.url.clone())];
        if let Some(extra) = &self.extra_url {
            env.push(("PIP_EXTRA_INDEX_URL".to_string(), extra.clone()));
        }
        let hosts = self.trusted_hosts();
        if !hosts.is_empty() {
            env.push(("PIP_TRUSTED_HOST".to_string(), hosts.join(" ")));
        }
        env
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_is_described_and_every_description_is_a_setting() {
        for setting in known_settings() {
            if setting != HIDDEN_TEST_SETTING {
                assert!(!describe_setting(setting).is_empty(), "{setting}");
            }
        }
        for (setting, _) in SETTINGS {
            assert!(
                known_settings().contains(setting)
                    || setting.starts_with(super::super::OVERRIDE_PREFIX),
                "{setting}"
            );
        }
    }

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
            s.pip_mirror.as_deref().map(|_| settings(&[(
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

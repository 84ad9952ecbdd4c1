//! A site's conda mirror (`--build-arg ENVD_CONDA_CHANNEL=URL`), conda's
//! twin of `ENVD_PIP_INDEX`: every channel the build names is taken from
//! the mirror, as conda's own `channel_alias`, `default_channels` and
//! `custom_channels` would take it. A named channel (`conda-forge`) maps to
//! the same name under the mirror; `defaults` to the mirror's `pkgs/main`
//! and `pkgs/r` (conda's own default channels), or to the mapped
//! `default_channels` a `.condarc` names; a channel URL to its name under
//! the mirror.

use serde_yaml_ng::{Mapping, Value};

use super::Lowering;
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::validate::yaml_message;

/// `--build-arg ENVD_CONDA_CHANNEL=http://mirror/conda`.
pub const CONDA_CHANNEL_ARG: &str = "ENVD_CONDA_CHANNEL";

/// The channels conda's `defaults` stands for, by their names under a
/// mirror (conda's `DEFAULT_CHANNELS_UNIX` on repo.anaconda.com).
const DEFAULT_CHANNEL_NAMES: &[&str] = &["pkgs/main", "pkgs/r"];

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondaMirror {
    /// The mirror's URL, without a trailing `/`.
    root: String,
}

impl Lowering<'_> {
    /// A `.condarc` text a step writes, as the image gets it: with a site's
    /// mirror (`ENVD_CONDA_CHANNEL`), every channel it names is the
    /// mirror's (conda merges `default_channels` from every source, so the
    /// variables later steps get cannot replace a URL the file names), and
    /// later conda steps get the mirror's settings for it. `builtin` and
    /// `what` name the text in errors.
    pub(crate) fn condarc_for_site(
        &mut self,
        span: &Span,
        builtin: &str,
        what: &str,
        text: String,
    ) -> Result<String, Diagnostic> {
        let Some(mirror) = self.site.conda_mirror.clone() else {
            return Ok(text);
        };
        let at_call = |message: String| {
            Diagnostic::error(
                self.source,
                Some(span.range()),
                format!("{builtin}(): {message}"),
            )
        };
        let condarc: Mapping = serde_yaml_ng::from_str(&text)
            .map_err(|e| at_call(format!("{what} is not valid YAML: {}", yaml_message(&e))))?;
        let (rewritten, defaults) = mirror.rewrite_condarc(&condarc);
        let text = serde_yaml_ng::to_string(&rewritten)
            .map_err(|e| at_call(format!("cannot write the .condarc: {e}")))?;
        self.conda_env = mirror.env(Some(&defaults));
        Ok(text)
    }
}

impl CondaMirror {
    pub fn new(url: &str) -> CondaMirror {
        CondaMirror {
            root: url.trim_end_matches('/').to_string(),
        }
    }

    pub fn url(&self) -> &str {
        &self.root
    }

    /// A channel as a step names it (`-c`, an env file's `channels:`): a
    /// name is kept (conda finds it under `channel_alias`, which steps get
    /// as the mirror), a URL becomes its name under the mirror.
    pub fn channel(&self, channel: &str) -> String {
        match channel_name(channel) {
            Some(name) if is_url(channel) => format!("{}/{name}", self.root),
            _ => channel.to_string(),
        }
    }

    /// A package spec whose channel is a URL (`https://host/ch::numpy`)
    /// with that channel taken from the mirror; other specs as they are.
    pub fn spec(&self, spec: &str) -> String {
        match spec.rsplit_once("::") {
            Some((channel, package)) => format!("{}::{package}", self.channel(channel)),
            None => spec.to_string(),
        }
    }

    /// conda's settings for each conda step, as its `CONDA_*` variables,
    /// which win over every `.condarc` (the base image's too).
    /// `default_channels` are those a `.condarc` of build.envd named, if
    /// it named any.
    pub fn env(&self, default_channels: Option<&[String]>) -> Vec<(String, String)> {
        let defaults = match default_channels {
            Some(listed) => listed.join(","),
            None => self.default_channels().join(","),
        };
        vec![
            ("CONDA_CHANNEL_ALIAS".to_string(), self.root.clone()),
            ("CONDA_DEFAULT_CHANNELS".to_string(), defaults),
        ]
    }

    pub(crate) fn default_channels(&self) -> Vec<String> {
        DEFAULT_CHANNEL_NAMES
            .iter()
            .map(|name| format!("{}/{name}", self.root))
            .collect()
    }

    /// A `.condarc` (a YAML mapping) with every channel taken from the
    /// mirror: `channels` and `custom_multichannels` URLs mapped,
    /// `default_channels` mapped (or set), `custom_channels` pointed at the
    /// mirror, `channel_alias` set. Returns the text and the default
    /// channels it names.
    pub fn rewrite_condarc(&self, condarc: &Mapping) -> (Mapping, Vec<String>) {
        let mut out = condarc.clone();
        let map_list = |value: &Value| -> Value {
            match value {
                Value::Sequence(items) => {
                    Value::Sequence(dedup(items.iter().map(|item| match item.as_str() {
                        Some(channel) => Value::String(self.channel(channel)),
                        None => item.clone(),
                    })))
                }
                other => other.clone(),
            }
        };
        if let Some(channels) = condarc.get("channels") {
            out.insert("channels".into(), map_list(channels));
        }
        let defaults: Vec<String> = match condarc.get("default_channels") {
            Some(Value::Sequence(items)) => {
                let mapped: Vec<String> = items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|c| match channel_name(c) {
                        Some(name) => format!("{}/{name}", self.root),
                        // A bare name among the defaults: under the alias.
                        None => format!("{}/{c}", self.root),
                    })
                    .collect();
                dedup(mapped.into_iter())
            }
            _ => self.default_channels(),
        };
        out.insert(
            "default_channels".into(),
            Value::Sequence(defaults.iter().cloned().map(Value::String).collect()),
        );
        if let Some(Value::Mapping(custom)) = condarc.get("custom_channels") {
            let pointed: Mapping = custom
                .keys()
                .map(|name| (name.clone(), Value::String(self.root.clone())))
                .collect();
            out.insert("custom_channels".into(), Value::Mapping(pointed));
        }
        if let Some(Value::Mapping(multi)) = condarc.get("custom_multichannels") {
            let mapped: Mapping = multi
                .iter()
                .map(|(name, list)| (name.clone(), map_list(list)))
                .collect();
            out.insert("custom_multichannels".into(), Value::Mapping(mapped));
        }
        out.insert("channel_alias".into(), Value::String(self.root.clone()));
        (out, defaults)
    }
}

/// Items in order, each once.
pub fn dedup<T: PartialEq>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = vec![];
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// A channel URL the mirror stands for: http(s), not a local `file://`
/// channel.
fn is_url(channel: &str) -> bool {
    let lower = channel.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// conda's platform folders (`KNOWN_SUBDIRS`): a channel URL may end in one.
const SUBDIRS: &[&str] = &[
    "noarch",
    "emscripten-wasm32",
    "wasi-wasm32",
    "freebsd-64",
    "linux-32",
    "linux-64",
    "linux-aarch64",
    "linux-armv6l",
    "linux-armv7l",
    "linux-ppc64",
    "linux-ppc64le",
    "linux-riscv64",
    "linux-s390x",
    "osx-64",
    "osx-arm64",
    "win-32",
    "win-64",
    "win-arm64",
    "zos-z",
];

/// A channel URL's name, as conda names channels on the hosts mirrors
/// copy: what follows `/pkgs/` keeps its prefix (`pkgs/main`, as on
/// repo.anaconda.com), what follows `/cloud/` does not (`conda-forge`, as
/// mirrors of conda.anaconda.org lay it out); otherwise the last part of
/// the path, with a label kept (`conda-forge/label/dev`). A platform
/// folder (`linux-64`, `noarch`) at the end is not part of the name.
/// `None` for a URL without a path, or not a URL.
pub fn channel_name(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let path = rest.split_once('/').map_or("", |(_, p)| p);
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let mut parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if parts.last().is_some_and(|last| SUBDIRS.contains(last)) {
        parts.pop();
    }
    let label = parts
        .iter()
        .rposition(|p| *p == "label")
        .filter(|at| *at > 0);
    let (parts, label) = match label {
        Some(at) => (&parts[..at], parts[at..].join("/")),
        None => (&parts[..], String::new()),
    };
    let name = if let Some(at) = parts.iter().rposition(|p| *p == "pkgs")
        && at + 1 < parts.len()
    {
        parts[at..].join("/")
    } else if let Some(at) = parts.iter().rposition(|p| *p == "cloud")
        && at + 1 < parts.len()
    {
        parts[at + 1..].join("/")
    } else {
        (*parts.last()?).to_string()
    };
    Some(if label.is_empty() {
        name
    } else {
        format!("{name}/{label}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIRROR: &str = "http://127.0.0.1:8080/conda/";

    #[test]
    fn channel_names_as_mirrors_lay_them_out() {
        for (url, name) in [
            ("https://repo.anaconda.com/pkgs/main", "pkgs/main"),
            (
                "https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/free/",
                "pkgs/free",
            ),
            (
                "https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/pytorch/",
                "pytorch",
            ),
            (
                "https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud",
                "cloud",
            ),
            ("https://conda.anaconda.org/conda-forge", "conda-forge"),
            (
                "https://conda.anaconda.org/conda-forge/linux-64",
                "conda-forge",
            ),
            ("https://nexus.corp/repository/conda-proxy/", "conda-proxy"),
            (
                "https://conda.anaconda.org/conda-forge/label/dev",
                "conda-forge/label/dev",
            ),
            (
                "https://conda.anaconda.org/conda-forge/linux-ppc64le",
                "conda-forge",
            ),
            ("https://host/foo-64/", "foo-64"),
        ] {
            assert_eq!(channel_name(url).as_deref(), Some(name), "{url}");
        }
        assert_eq!(channel_name("https://host"), None);
        assert_eq!(channel_name("conda-forge"), None);
        let mirror = CondaMirror::new(MIRROR);
        // Local channels and URLs without a name stay as they are.
        assert_eq!(mirror.channel("file:///srv/channel"), "file:///srv/channel");
        assert_eq!(mirror.channel("https://host"), "https://host");
        assert_eq!(
            mirror.spec("https://conda.anaconda.org/conda-forge::numpy=1.24"),
            "http://127.0.0.1:8080/conda/conda-forge::numpy=1.24"
        );
        assert_eq!(mirror.spec("conda-forge::numpy"), "conda-forge::numpy");
    }

    #[test]
    fn steps_keep_names_and_take_urls_from_the_mirror() {
        let mirror = CondaMirror::new(MIRROR);
        assert_eq!(mirror.url(), "http://127.0.0.1:8080/conda");
        assert_eq!(mirror.channel("defaults"), "defaults");
        assert_eq!(mirror.channel("pytorch"), "pytorch");
        assert_eq!(
            mirror.channel("https://conda.anaconda.org/conda-forge"),
            "http://127.0.0.1:8080/conda/conda-forge"
        );
        assert_eq!(
            mirror.env(None),
            [
                (
                    "CONDA_CHANNEL_ALIAS".to_string(),
                    "http://127.0.0.1:8080/conda".to_string()
                ),
                (
                    "CONDA_DEFAULT_CHANNELS".to_string(),
                    "http://127.0.0.1:8080/conda/pkgs/main,http://127.0.0.1:8080/conda/pkgs/r"
                        .to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_condarc_takes_every_channel_from_the_mirror() {
        let condarc: Mapping = serde_yaml_ng::from_str(
            "channels:\n  - defaults\n  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud/pytorch/\ndefault_channels:\n  - https://repo.anaconda.com/pkgs/main\n  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/main/\n  - https://mirrors.tuna.tsinghua.edu.cn/anaconda/pkgs/free/\ncustom_channels:\n  conda-forge: https://mirrors.tuna.tsinghua.edu.cn/anaconda/cloud\nshow_channel_urls: true\n",
        )
        .unwrap();
        let (rewritten, defaults) = CondaMirror::new(MIRROR).rewrite_condarc(&condarc);
        let text = serde_yaml_ng::to_string(&rewritten).unwrap();
        assert_eq!(
            defaults,
            [
                "http://127.0.0.1:8080/conda/pkgs/main",
                "http://127.0.0.1:8080/conda/pkgs/free"
            ]
        );
        assert!(
            !text.contains("tuna") && !text.contains("anaconda.com"),
            "{text}"
        );
        assert!(
            text.contains("- http://127.0.0.1:8080/conda/pytorch\n"),
            "{text}"
        );
        assert!(
            text.contains("conda-forge: http://127.0.0.1:8080/conda\n"),
            "{text}"
        );
        assert!(
            text.contains("channel_alias: http://127.0.0.1:8080/conda\n"),
            "{text}"
        );
        assert!(text.contains("show_channel_urls: true"), "{text}");
        // Without default_channels, conda's own under the mirror.
        let (_, defaults) = CondaMirror::new(MIRROR).rewrite_condarc(&Mapping::new());
        assert_eq!(defaults.len(), 2);
    }
}

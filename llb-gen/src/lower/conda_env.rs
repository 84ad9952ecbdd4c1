//! conda environment files (`conda env export > env.yaml`): parsed, checked
//! with errors located in the file, and rewritten for the image: host
//! `name`/`prefix` dropped, the call's channels added, and the nested
//! `pip:` list taken out so pip runs with the pip cache and index. A file
//! exported on Windows or macOS (its `prefix:` says which) pins conda build
//! strings of that platform, which Linux channels do not have: they are
//! dropped, with a warning that names them.

use serde_yaml_ng::{Mapping, Value};

use crate::diagnostics::{Diagnostic, SourceText};
use crate::limits::MAX_YAML_FLOW_DEPTH;
use crate::lint::CONDA_EXPORT_PLATFORM;
use crate::validate::{find_on_line, yaml_flow_too_deep, yaml_message};

/// What an env file asks for, ready to install.
#[derive(Debug, PartialEq)]
pub struct EnvFile {
    /// The rewritten file `conda env update` reads.
    pub conda_yaml: String,
    /// Packages from the nested `pip:` list.
    pub pip: Vec<String>,
    /// Channels the conda part uses, for the progress name.
    pub channels: Vec<String>,
    /// What the rewrite dropped, to tell the user.
    pub warnings: Vec<Diagnostic>,
}

/// Where `conda env export` ran, as its `prefix:` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ExportPlatform {
    Linux,
    Windows,
    MacOs,
}

impl ExportPlatform {
    fn of_prefix(prefix: &str) -> Option<ExportPlatform> {
        let bytes = prefix.as_bytes();
        if bytes.len() >= 3
            && bytes[0].is_ascii_alphabetic()
            && bytes[1] == b':'
            && matches!(bytes[2], b'\\' | b'/')
        {
            Some(ExportPlatform::Windows)
        } else if prefix.starts_with("/Users/") {
            Some(ExportPlatform::MacOs)
        } else if prefix.starts_with('/') {
            Some(ExportPlatform::Linux)
        } else {
            None
        }
    }

    fn name(self) -> &'static str {
        match self {
            ExportPlatform::Linux => "Linux",
            ExportPlatform::Windows => "Windows",
            ExportPlatform::MacOs => "macOS",
        }
    }
}

/// Packages `conda env export` lists on Windows that exist only there.
const WINDOWS_ONLY_PACKAGES: &[&str] = &[
    "vc",
    "vs2015_runtime",
    "vc14_runtime",
    "ucrt",
    "pywin32",
    "pywin32-ctypes",
    "pywinpty",
    "wincertstore",
    "win_inet_pton",
    "menuinst",
    "msys2-conda-epoch",
];

const KNOWN_KEYS: &[&str] = &["name", "prefix", "channels", "dependencies", "variables"];

/// Parses and rewrites an env file; `extra_channels` (from the call) come first.
/// With a site's conda `mirror`, every channel is taken from it.
pub fn rewrite(
    text: &SourceText,
    extra_channels: &[String],
    mirror: Option<&super::CondaMirror>,
) -> Result<EnvFile, Diagnostic> {
    super::check_kept_text(
        text,
        "an environment file is written into the build's definition, its cache keys and history",
    )?;
    let root = parse_mapping(text)?;
    let mut channels = channels(text, &root, extra_channels)?;
    if let Some(mirror) = mirror {
        channels = super::conda_mirror::dedup(channels.iter().map(|c| mirror.channel(c)));
    }
    let (dependencies, pip) = dependencies(text, &root)?;
    let exported_on = root
        .get("prefix")
        .and_then(Value::as_str)
        .and_then(ExportPlatform::of_prefix);
    let (dependencies, warnings) = for_linux(text, dependencies, exported_on);
    // `name` and `prefix` describe the exporting machine (even Windows paths); drop them.
    let mut out = Mapping::new();
    if !channels.is_empty() {
        out.insert(
            "channels".into(),
            Value::Sequence(channels.iter().cloned().map(Value::String).collect()),
        );
    }
    out.insert("dependencies".into(), Value::Sequence(dependencies));
    if let Some(vars) = root.get("variables") {
        out.insert("variables".into(), vars.clone());
    }
    let conda_yaml = serde_yaml_ng::to_string(&Value::Mapping(out)).map_err(|e| {
        Diagnostic::error(
            text,
            Some(0..0),
            format!("cannot rewrite the environment file: {e}"),
        )
    })?;
    Ok(EnvFile {
        conda_yaml,
        pip,
        channels,
        warnings,
    })
}

/// The dependencies a Linux build can install: for a file exported on
/// another platform, build strings dropped (`numpy=1.21.5=py39h..._0` ->
/// `numpy=1.21.5`) and that platform's own packages left out, each named
/// in a warning at the file's `prefix:`.
fn for_linux(
    text: &SourceText,
    dependencies: Vec<Value>,
    exported_on: Option<ExportPlatform>,
) -> (Vec<Value>, Vec<Diagnostic>) {
    let Some(platform) = exported_on.filter(|p| *p != ExportPlatform::Linux) else {
        return (dependencies, vec![]);
    };
    let mut kept = vec![];
    let mut stripped: Vec<String> = vec![];
    let mut left_out: Vec<String> = vec![];
    for dependency in dependencies {
        let Value::String(spec) = &dependency else {
            kept.push(dependency);
            continue;
        };
        let name = spec.split(['=', '<', '>', '!', ' ']).next().unwrap_or(spec);
        if platform == ExportPlatform::Windows
            && (WINDOWS_ONLY_PACKAGES.contains(&name) || name.starts_with("m2w64-"))
        {
            left_out.push(spec.clone());
            continue;
        }
        let parts: Vec<&str> = spec.split('=').collect();
        if !spec.contains("==") && parts.len() == 3 && !parts[2].is_empty() {
            stripped.push(spec.clone());
            kept.push(Value::String(format!("{}={}", parts[0], parts[1])));
        } else {
            kept.push(dependency);
        }
    }
    let at = key_span(text.text(), "prefix");
    let mut warnings = vec![];
    if !stripped.is_empty() {
        warnings.push(
            Diagnostic::warning(
                &CONDA_EXPORT_PLATFORM,
                text,
                at.clone(),
                format!(
                    "this file was exported on {}: dropped the build strings of {} {}, which Linux channels do not have: {}",
                    platform.name(),
                    stripped.len(),
                    if stripped.len() == 1 { "package" } else { "packages" },
                    stripped.join(", ")
                ),
            )
            .with_help("conda picks the Linux build of each pinned version"),
        );
    }
    if !left_out.is_empty() {
        warnings.push(Diagnostic::warning(
            &CONDA_EXPORT_PLATFORM,
            text,
            at,
            format!(
                "this file was exported on {}: left out {}-only packages: {}",
                platform.name(),
                platform.name(),
                left_out.join(", ")
            ),
        ));
    }
    (kept, warnings)
}

/// The file as a YAML mapping of known keys.
fn parse_mapping(text: &SourceText) -> Result<Mapping, Diagnostic> {
    if let Some(at) = yaml_flow_too_deep(text.text(), MAX_YAML_FLOW_DEPTH) {
        return Err(Diagnostic::error(
            text,
            Some(at..at + 1),
            format!("brackets nest more than {MAX_YAML_FLOW_DEPTH} deep"),
        ));
    }
    let root: Value = serde_yaml_ng::from_str(text.text()).map_err(|e| {
        // Errors about the whole document (too many alias expansions)
        // have no location: they are shown at its start.
        let span = e.location().map_or(0..0, |l| text.span_before(l.index()));
        Diagnostic::error(
            text,
            Some(span),
            format!("not a valid conda environment file: {}", yaml_message(&e)),
        )
    })?;
    let Value::Mapping(root) = root else {
        return Err(Diagnostic::error(
            text,
            Some(0..0),
            "a conda environment file must be a mapping with `dependencies:`",
        ));
    };
    for key in root.keys() {
        let name = key.as_str().unwrap_or("");
        if !KNOWN_KEYS.contains(&name) {
            return Err(Diagnostic::error(
                text,
                key_span(text.text(), name),
                format!("unknown key {name:?} in a conda environment file"),
            )
            .with_help(format!("known keys: {}", KNOWN_KEYS.join(", "))));
        }
    }
    Ok(root)
}

/// The call's channels, then the file's, each once.
fn channels(
    text: &SourceText,
    root: &Mapping,
    extra_channels: &[String],
) -> Result<Vec<String>, Diagnostic> {
    let mut channels: Vec<String> = extra_channels.to_vec();
    let Some(value) = root.get("channels") else {
        return Ok(channels);
    };
    let listed = strings(value).ok_or_else(|| {
        Diagnostic::error(
            text,
            key_span(text.text(), "channels"),
            "`channels` must be a list of channel names",
        )
    })?;
    for channel in listed {
        if let Some(message) = super::conda_login_in_url("the channel", &channel) {
            // The excerpt shows the file with the login masked.
            let masked = crate::validate::masked_login(&channel);
            let start = text.text().find(&channel).unwrap_or(0);
            let shown = SourceText::new(text.name(), text.text().replace(&channel, &masked));
            return Err(
                Diagnostic::error(&shown, Some(start..start + masked.len()), message)
                    .with_help(super::LOGIN_HELP),
            );
        }
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    Ok(channels)
}

/// The conda dependencies, and the requirements of the nested `pip:` list.
fn dependencies(
    text: &SourceText,
    root: &Mapping,
) -> Result<(Vec<Value>, Vec<String>), Diagnostic> {
    let at_key = |key: &str| key_span(text.text(), key);
    let deps = match root.get("dependencies") {
        Some(Value::Sequence(deps)) => deps,
        Some(_) => {
            return Err(Diagnostic::error(
                text,
                at_key("dependencies"),
                "`dependencies` must be a list",
            ));
        }
        None => {
            return Err(Diagnostic::error(
                text,
                Some(0..0),
                "the environment file has no `dependencies:` list",
            ));
        }
    };
    let mut conda: Vec<Value> = vec![];
    let mut pip: Vec<String> = vec![];
    for dep in deps {
        match dep {
            Value::String(spec) => conda.push(Value::String(spec.clone())),
            Value::Mapping(map) if map.len() == 1 && map.get("pip").is_some() => {
                let list = map.get("pip").and_then(strings).ok_or_else(|| {
                    Diagnostic::error(
                        text,
                        at_key("pip"),
                        "the `pip:` entry must be a list of requirements",
                    )
                })?;
                pip.extend(list);
            }
            other => {
                let shown = serde_yaml_ng::to_string(other).unwrap_or_default();
                let span = text
                    .text()
                    .find(shown.trim())
                    .map(|i| i..i + shown.trim().len())
                    .or(at_key("dependencies"));
                return Err(Diagnostic::error(
                    text,
                    span,
                    format!("unexpected dependency `{}`", shown.trim()),
                )
                .with_help(
                    "dependencies are conda specs (\"numpy=1.21\") or one `- pip: [...]` list",
                ));
            }
        }
    }
    Ok((conda, pip))
}

fn strings(value: &Value) -> Option<Vec<String>> {
    match value {
        Value::Sequence(items) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
            .collect(),
        _ => None,
    }
}

/// Span of the first `key:` in the text, to locate errors about its value.
fn key_span(text: &str, key: &str) -> Option<std::ops::Range<usize>> {
    find_on_line(text, |line| {
        let trimmed = line.trim_start().trim_start_matches("- ");
        let is_key = trimmed
            .strip_prefix(key)
            .is_some_and(|r| r.trim_start().starts_with(':'));
        let start = line.find(key).unwrap_or(0);
        is_key.then_some(start..start + key.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(text: &str) -> Result<EnvFile, String> {
        rewrite(
            &SourceText::new("env.yaml", text),
            &["pytorch".to_string()],
            None,
        )
        .map_err(|d| d.render())
    }

    #[test]
    fn rewrites_exported_files() {
        let out = env(
            "name: detectron\nchannels:\n  - defaults\n  - pytorch\ndependencies:\n  - python=3.8.13=h12debd9_0\n  - numpy=1.21\n  - pip:\n    - opencv-python==4.6.0.66\n    - six\nprefix: C:\\Users\\me\\anaconda3\\envs\\detectron\n",
        )
        .unwrap();
        assert_eq!(out.channels, ["pytorch", "defaults"]);
        assert_eq!(out.pip, ["opencv-python==4.6.0.66", "six"]);
        // Exported on Windows: its build string is Windows'.
        assert_eq!(
            out.conda_yaml,
            "channels:\n- pytorch\n- defaults\ndependencies:\n- python=3.8.13\n- numpy=1.21\n"
        );
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].message.contains("exported on Windows")
                && out.warnings[0].message.contains("python=3.8.13=h12debd9_0"),
            "{}",
            out.warnings[0].message
        );
    }

    #[test]
    fn build_strings_of_the_build_platform_are_kept() {
        let linux = env(
            "dependencies:\n  - python=3.8.13=h12debd9_0\nprefix: /home/me/miniconda3/envs/x\n",
        )
        .unwrap();
        assert!(linux.conda_yaml.contains("python=3.8.13=h12debd9_0"));
        assert!(linux.warnings.is_empty());
        let unknown = env("dependencies:\n  - python=3.8.13=h12debd9_0\n").unwrap();
        assert!(unknown.conda_yaml.contains("python=3.8.13=h12debd9_0"));
        let windows = env(
            "dependencies:\n  - vs2015_runtime=14.27.29016=h5e58377_2\n  - m2w64-gcc-libs=5.3.0=7\n  - numpy==1.21\n  - zlib=1.2.13=h8cc25b3_0\nprefix: D:/conda/envs/x\n",
        )
        .unwrap();
        assert_eq!(
            windows.conda_yaml,
            "channels:\n- pytorch\ndependencies:\n- numpy==1.21\n- zlib=1.2.13\n"
        );
        assert_eq!(windows.warnings.len(), 2);
        let mac =
            env("dependencies:\n  - zlib=1.2.13=h8cc25b3_0\nprefix: /Users/me/envs/x\n").unwrap();
        assert!(mac.warnings[0].message.contains("exported on macOS"));
    }

    #[test]
    fn errors_point_into_the_file() {
        let err = env("dependencies:\n  - numpy\n  - [a, b\n").unwrap_err();
        assert!(err.starts_with("env.yaml:3:"), "{err}");
        let err = env("channels: defaults\ndependencies: []\n").unwrap_err();
        assert!(
            err.starts_with("env.yaml:1:1: error: `channels` must be a list"),
            "{err}"
        );
        let err = env("name: x\ndependencies:\n  - numpy\n  - pip: six\n").unwrap_err();
        assert!(
            err.starts_with("env.yaml:4:5: error: the `pip:` entry must be a list"),
            "{err}"
        );
        let err = env("name: x\nprefix: /opt\n").unwrap_err();
        assert!(err.contains("no `dependencies:` list"), "{err}");
        let err = env("dependencies: []\nchanels: [x]\n").unwrap_err();
        assert!(
            err.starts_with("env.yaml:2:1: error: unknown key \"chanels\""),
            "{err}"
        );
        assert!(env("- a\n").unwrap_err().contains("must be a mapping"));
    }
}

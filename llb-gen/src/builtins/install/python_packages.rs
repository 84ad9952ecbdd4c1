//! `install.python_packages(name, requirements, local_wheels)`: one
//! `pip install` with the pip cache. Requirements files and wheels are
//! mounted from the context, narrowed to the files they name. envd joined
//! the `name` entries into one pip command line, so files put pip options
//! in them (`"torch --extra-index-url URL"`); the index and `--pre`
//! options are passed to pip, and each requirement is still checked.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, Tool, context_path,
    nothing_to_install, package_names,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::lint;
use crate::llb::{BindMount, FileOp, Mkfile, WithOpOptions};
use crate::lower::{CONTEXT_MOUNT, FileKind, Lowering, requirements, shell};

pub static SPEC: Spec = Spec {
    name: "install.python_packages",
    summary: "one `pip install` with the pip cache",
    params: Params::Declared(&[
        Param::positional(
            "name",
            Kind::StrList,
            "requirement specifiers (`torch==1.10`)",
        ),
        Param::named(
            "requirements",
            Kind::Str,
            "a requirements file in the context; nested `-r`/`-c` files are read too",
        ),
        Param::named("local_wheels", Kind::StrList, "`.whl` files in the context"),
    ]),
    once: false,
    tools: &[Tool::Pip],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonPackages {
    pub names: Vec<String>,
    /// pip options found in `name` entries, in order (`--pre`, `-i URL`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub pip_options: Vec<String>,
    pub requirements: Option<String>,
    pub local_wheels: Vec<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let (names, pip_options) = split_pip_options(args.str_list("name"))?;
    let names = package_names(&SPEC, "name", names, |spec| {
        crate::pep508::check(spec).is_ok()
    })?;
    let requirements = args
        .str("requirements")
        .map(|p| context_path(&SPEC, "requirements", &p))
        .transpose()?;
    let local_wheels = args
        .str_list("local_wheels")
        .iter()
        .map(|p| {
            let path = context_path(&SPEC, "local_wheels", p)?;
            if path.ends_with(".whl") {
                Ok(path)
            } else {
                Err(BuiltinError::new(format!(
                    "{}(): local wheel {p:?} is not a .whl file",
                    SPEC.name
                )))
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    if names.is_empty() && requirements.is_none() && local_wheels.is_empty() {
        nothing_to_install(
            &SPEC,
            "name=[...], requirements=\"...\" or local_wheels=[...]",
            recording,
        );
        return Ok(());
    }
    recording.step(
        PythonPackages {
            names,
            pip_options,
            requirements,
            local_wheels,
        }
        .into(),
    )?;
    Ok(())
}

/// pip options a `name` entry may carry, as envd passed them to pip:
/// (spelling, whether it takes a URL).
const PIP_OPTIONS: &[(&str, bool)] = &[
    ("--extra-index-url", true),
    ("--index-url", true),
    ("-i", true),
    ("--find-links", true),
    ("-f", true),
    ("--pre", false),
];

/// Splits `name` entries into requirements and pip options. An entry with
/// options is split at white space, as envd's command line was.
fn split_pip_options(entries: Vec<String>) -> Result<(Vec<String>, Vec<String>), BuiltinError> {
    let func = SPEC.name;
    let mut names = vec![];
    let mut options = vec![];
    for entry in &entries {
        // Without a pip option an entry is one requirement, spaces and all
        // (`torch >= 1.10`), checked as such.
        let is_option = |word: &str| {
            let option = word.split_once('=').map_or(word, |(o, _)| o);
            PIP_OPTIONS.iter().any(|(o, _)| *o == option)
        };
        if !entry.split_whitespace().any(is_option) {
            names.push(entry.clone());
            continue;
        }
        let mut words = entry.split_whitespace();
        while let Some(word) = words.next() {
            if !word.starts_with('-') {
                names.push(word.to_string());
                continue;
            }
            let (option, inline) = match word.split_once('=') {
                Some((option, value)) => (option, Some(value)),
                None => (word, None),
            };
            let Some(&(_, takes_url)) = PIP_OPTIONS.iter().find(|(o, _)| *o == option) else {
                let known: Vec<&str> = PIP_OPTIONS.iter().map(|(o, _)| *o).collect();
                return Err(BuiltinError::new(format!(
                    "{func}(): pip option {option:?} in `name` entry {entry:?} is not supported"
                ))
                .help(format!(
                    "options envd files use are passed on: {}",
                    known.join(", ")
                )));
            };
            options.push(option.to_string());
            if !takes_url {
                continue;
            }
            let url = inline.or_else(|| words.next()).unwrap_or("");
            if let Some(message) = crate::lower::login_in_url(&format!("{func}(): {option}"), url) {
                return Err(BuiltinError::new(message).help(crate::lower::LOGIN_HELP));
            }
            if !crate::validate::is_http_url(url) {
                return Err(BuiltinError::new(format!(
                    "{func}(): {option} in `name` entry {entry:?} needs an http(s) URL, got {url:?}"
                )));
            }
            options.push(url.to_string());
        }
    }
    if names.is_empty() && !options.is_empty() {
        return Err(BuiltinError::new(format!(
            "{func}(): `name` has pip options and no package"
        )));
    }
    Ok((names, options))
}

impl Lower for PythonPackages {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let mut args: Vec<String> = self.site_pip_options(lowering.site.pip_mirror.as_deref());
        args.extend(self.names.iter().cloned());
        let mut context_paths: Vec<String> = vec![];
        let mut title: Vec<String> = self.names.clone();
        // Requirements files rewritten in the step's own copy of the
        // context, so editable local folders install as plain packages.
        let mut rewritten: Vec<(String, String)> = vec![];
        if let Some(path) = &self.requirements {
            let read = requirements::collect(&lowering.files, lowering.source, span.range(), path)?;
            context_paths.extend(read.files.iter().cloned());
            lowering.warnings.extend(read.warnings.iter().cloned());
            for editable in &read.editable {
                context_paths.push(editable.folder.clone());
                lowering.warnings.push(
                    Diagnostic::warning(
                        &lint::EDITABLE_INSTALL,
                        &editable.file,
                        Some(editable.line.clone()),
                        format!(
                            "an editable install of the context's {} is installed as a plain package: the image has no build context for it to point at",
                            if editable.folder == "." { "folder".to_string() } else { format!("folder {}", editable.folder) }
                        ),
                    )
                    .with_help("envd installed it editable from the context mounted for the step, which the image does not keep; copy the folder with io.copy and run pip install -e there if the image must edit it"),
                );
            }
            rewritten = read.without_editable(CONTEXT_MOUNT);
            args.extend(["-r".to_string(), format!("{CONTEXT_MOUNT}/{path}")]);
            title.push(format!("-r {path}"));
        }
        for wheel in &self.local_wheels {
            if lowering.require_kind(span, "local wheel", wheel)? != FileKind::File {
                return Err(Diagnostic::error(
                    lowering.source,
                    Some(span.range()),
                    format!("local wheel {wheel:?} is a directory"),
                ));
            }
            context_paths.push(wheel.clone());
            args.push(format!("{CONTEXT_MOUNT}/{wheel}"));
            title.push(wheel.clone());
        }
        let name = format!("{} {}", SPEC.name, title.join(", "));
        let mut mounts = vec![lowering.pip_cache()];
        if !context_paths.is_empty() {
            let mut context = lowering.context(span, &name, &context_paths)?;
            let mut mount = BindMount::new(CONTEXT_MOUNT, &context);
            if !rewritten.is_empty() {
                // The step's copy of the context, its requirements files
                // rewritten; pip builds a local folder in place, and the
                // writes are thrown away.
                let op = rewritten
                    .iter()
                    .fold(FileOp::new(&context), |op, (file, text)| {
                        op.mkfile(Mkfile::new(format!("/{file}"), text.as_bytes()))
                    });
                context = op
                    .custom_name(lowering.op_name(&format!("{name} (editable folders as plain)")))
                    .location(lowering.location(span))
                    .build()
                    .map_err(|e| lowering.llb_error(span, e))?;
                mount = BindMount::new(CONTEXT_MOUNT, &context).writable();
            }
            mounts.push(mount.into());
        }
        let script = format!(
            "set -eu\n{}\n{}\n",
            lowering.find_python(span, SPEC.name),
            lowering.with_login_hint(
                span,
                "pip",
                &format!("\"$py\" -m pip install {}", shell::join(&args))
            )
        );
        lowering.exec_step(span, &name, script, mounts)
    }

    fn context_paths(&self) -> Vec<&str> {
        self.requirements
            .iter()
            .chain(&self.local_wheels)
            .map(String::as_str)
            .collect()
    }
}

impl PythonPackages {
    /// The pip options of the `name` entries, with a site's pip mirror
    /// (ENVD_PIP_INDEX) in place of any index they name: air-gapped sites
    /// reach only their mirror.
    fn site_pip_options(&self, mirror: Option<&str>) -> Vec<String> {
        let mut options = self.pip_options.clone();
        if let Some(mirror) = mirror {
            let mut words = options.iter_mut();
            while let Some(word) = words.next() {
                if matches!(word.as_str(), "-i" | "--index-url")
                    && let Some(url) = words.next()
                {
                    *url = mirror.to_string();
                }
            }
        }
        options
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(entries: &[&str]) -> Result<(Vec<String>, Vec<String>), BuiltinError> {
        split_pip_options(entries.iter().map(|e| e.to_string()).collect())
    }

    #[test]
    fn pip_options_in_names_are_split_off() {
        let (names, options) = split(&[
            "torch==1.10 --extra-index-url https://download.pytorch.org/whl/cu113",
            "--pre mmcv-full",
            "-i=http://127.0.0.1:8000/simple six",
        ])
        .unwrap();
        assert_eq!(names, ["torch==1.10", "mmcv-full", "six"]);
        assert_eq!(
            options,
            [
                "--extra-index-url",
                "https://download.pytorch.org/whl/cu113",
                "--pre",
                "-i",
                "http://127.0.0.1:8000/simple"
            ]
        );
        assert!(split(&["torch --pre --no-deps"]).is_err());
        // Not an option envd files use: the whole entry is checked as a
        // requirement (and refused by the caller).
        assert_eq!(split(&["torch --no-deps"]).unwrap().0, ["torch --no-deps"]);
        assert!(split(&["torch -f"]).is_err());
        assert!(split(&["torch -f ./wheels"]).is_err());
        assert!(split(&["--pre"]).is_err());
        assert_eq!(split(&["torch >= 1.10"]).unwrap().0, ["torch >= 1.10"]);
    }

    #[test]
    fn a_site_mirror_replaces_the_index_of_names() {
        let step = PythonPackages {
            names: vec!["six".into()],
            pip_options: vec![
                "-i".into(),
                "https://pypi.example/simple".into(),
                "--pre".into(),
            ],
            requirements: None,
            local_wheels: vec![],
        };
        assert_eq!(
            step.site_pip_options(Some("http://mirror.local/simple")),
            ["-i", "http://mirror.local/simple", "--pre"]
        );
        assert_eq!(
            step.site_pip_options(None)[1],
            "https://pypi.example/simple"
        );
    }
}

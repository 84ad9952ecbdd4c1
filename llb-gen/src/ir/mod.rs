//! The build description build.envd evaluates to: plain serde data, each
//! call with its source span, in the order the file made them. The rules
//! that need the whole file (one `base`, settings made at most once) live
//! in [`rules`].

mod rules;

use serde::Serialize;

pub use rules::assemble;

/// Where a call was made: byte range in build.envd, its 1-based line, and
/// the calls that led to it (outermost first), e.g. `build()` calling
/// `mirror_config()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub called_from: Vec<CallSite>,
}

/// A call in the chain that led to a builtin.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallSite {
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

impl Span {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// What `base()` asked for, before the image table resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BaseRequest {
    /// OS name, alias or image reference from `os=` or `image=`.
    pub image: String,
    /// Requested Python, if `language=` was given.
    pub python: Option<PythonRequest>,
}

/// `python`, `python3`, `python3.8`, `python3.8.10`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonRequest {
    pub major: u32,
    pub minor: Option<u32>,
    pub patch: Option<u32>,
}

impl PythonRequest {
    /// The version as conda and `python -V` spell it (`3`, `3.8`, `3.8.10`).
    pub fn version(&self) -> String {
        let mut out = self.major.to_string();
        if let Some(minor) = self.minor {
            out.push_str(&format!(".{minor}"));
            if let Some(patch) = self.patch {
                out.push_str(&format!(".{patch}"));
            }
        }
        out
    }
}

/// One image-changing call, in source order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    PythonPackages {
        names: Vec<String>,
        requirements: Option<String>,
        local_wheels: Vec<String>,
    },
    CondaPackages {
        names: Vec<String>,
        channels: Vec<String>,
        env_file: Option<String>,
    },
    SystemPackages {
        names: Vec<String>,
    },
    Copy {
        src: String,
        dest: String,
    },
    Run {
        command: String,
    },
    PipIndex {
        url: String,
        extra_url: Option<String>,
        trust: bool,
    },
    CondaChannel {
        condarc: String,
    },
    AptSource {
        source: String,
    },
    Environ {
        env: Vec<(String, String)>,
        extra_path: Vec<String>,
    },
    Entrypoint {
        args: Vec<String>,
    },
}

impl Step {
    /// The builtin that records this step, as users write it.
    pub fn builtin(&self) -> &'static str {
        match self {
            Step::PythonPackages { .. } => "install.python_packages",
            Step::CondaPackages { .. } => "install.conda_packages",
            Step::SystemPackages { .. } => "install.system_packages",
            Step::Copy { .. } => "io.copy",
            Step::Run { .. } => "run",
            Step::PipIndex { .. } => "config.pip_index",
            Step::CondaChannel { .. } => "config.conda_channel",
            Step::AptSource { .. } => "config.apt_source",
            Step::Environ { .. } => "runtime.environ",
            Step::Entrypoint { .. } => "config.entrypoint",
        }
    }
}

/// A step with the place that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    #[serde(flatten)]
    pub value: T,
    pub span: Span,
}

/// A call as the evaluator recorded it, before whole-file rules.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Recorded {
    Base(Located<BaseRequest>),
    Step(Located<Step>),
}

/// The whole build: one base, then steps in source order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BuildSpec {
    /// The function that was run (`build` unless a target was given).
    pub target: String,
    pub base: Located<BaseRequest>,
    pub steps: Vec<Located<Step>>,
}

impl BuildSpec {
    /// Context paths the steps name (requirements and env files, wheels,
    /// copy sources), without `.`, in order, each once. Files these name
    /// in turn (nested `-r`) are not known until they are read.
    pub fn context_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = vec![];
        for step in &self.steps {
            let named: Vec<&String> = match &step.value {
                Step::PythonPackages {
                    requirements,
                    local_wheels,
                    ..
                } => requirements.iter().chain(local_wheels).collect(),
                Step::CondaPackages { env_file, .. } => env_file.iter().collect(),
                Step::Copy { src, .. } => vec![src],
                _ => vec![],
            };
            for path in named {
                if path != "." && !paths.contains(path) {
                    paths.push(path.clone());
                }
            }
        }
        paths
    }
}

//! Everything that can end a build, as the `google.rpc.Status` the frontend
//! returns: build file errors carry the `errdefs.Source` detail so buildx
//! prints the excerpt; errors from solving pass through with the daemon's
//! own details (which point at build.envd through the source map).

use envd_proto::prost::Message;
use envd_proto::rpc;
use llb_gen::diagnostics::Diagnostics;

use crate::options::OptionError;

/// gRPC code `Unknown`, what BuildKit uses for build failures.
const CODE_UNKNOWN: i32 = 2;
const CODE_INVALID_ARGUMENT: i32 = 3;
const CODE_UNIMPLEMENTED: i32 = 12;

#[derive(Debug, thiserror::Error)]
pub enum FrontendError {
    #[error(transparent)]
    Options(#[from] OptionError),
    #[error("{}", first_error(.0))]
    Build(Diagnostics),
    #[error("build file {0:?} not found in the build definition's folder")]
    MissingBuildFile(String),
    #[error("build file {0:?} is not UTF-8 text")]
    NotText(String),
    #[error("the BuildKit daemon lacks caps this build needs: {}; upgrade Docker or BuildKit", .0.join(", "))]
    MissingCaps(Vec<String>),
    /// BuildKit's wording, which buildx matches.
    #[error("unsupported request {0}")]
    UnsupportedSubrequest(String),
    #[error("{context}: {}", .status.message())]
    Daemon {
        context: String,
        status: tonic::Status,
    },
    #[error("{0}")]
    Internal(String),
    /// A panic in the frontend: a bug, answered as an error all the same.
    #[error(
        "internal error in envd-frontend: {0} (a bug; please report it with the build.envd that caused it)"
    )]
    Panic(String),
}

impl FrontendError {
    /// The error for a panic caught at a task's boundary.
    pub fn from_panic(payload: Box<dyn std::any::Any + Send>) -> FrontendError {
        let message = match payload.downcast::<String>() {
            Ok(message) => *message,
            Err(payload) => payload.downcast::<&'static str>().map_or_else(
                |_| "a panic without a message".to_string(),
                |m| m.to_string(),
            ),
        };
        FrontendError::Panic(message)
    }

    /// The error for a task that did not finish: its panic, or a cancel.
    pub fn from_join(error: tokio::task::JoinError, what: &str) -> FrontendError {
        if error.is_panic() {
            FrontendError::from_panic(error.into_panic())
        } else {
            FrontendError::Internal(format!("{what} was cancelled"))
        }
    }
}

fn first_error(diagnostics: &Diagnostics) -> String {
    match diagnostics.first_error() {
        Some(d) => d.headline(),
        None => "build failed".to_string(),
    }
}

impl FrontendError {
    pub fn daemon(context: &str) -> impl FnOnce(tonic::Status) -> FrontendError + '_ {
        move |status| FrontendError::Daemon {
            context: context.to_string(),
            status,
        }
    }

    pub fn to_status(&self) -> rpc::Status {
        match self {
            // BuildKit prefixes messages with their code's name at every
            // layer that wraps them, except for Unknown.
            FrontendError::Build(diagnostics) => rpc::Status {
                code: CODE_UNKNOWN,
                message: self.to_string(),
                details: diagnostics
                    .first_error()
                    .map(|d| d.to_errdefs().to_any())
                    .into_iter()
                    .collect(),
            },
            // Solve errors already carry the daemon's details (vertex,
            // source locations); keep them whole.
            FrontendError::Daemon { status, .. } if !status.details().is_empty() => {
                rpc::Status::decode(status.details())
                    .unwrap_or_else(|_| plain(status.code() as i32, self.to_string()))
            }
            FrontendError::Daemon { status, .. } => plain(status.code() as i32, self.to_string()),
            FrontendError::Options(_) => plain(CODE_INVALID_ARGUMENT, self.to_string()),
            FrontendError::UnsupportedSubrequest(name) => rpc::Status {
                code: CODE_UNIMPLEMENTED,
                message: self.to_string(),
                details: vec![envd_proto::errdefs::unsupported_subrequest(name)],
            },
            _ => plain(CODE_UNKNOWN, self.to_string()),
        }
    }
}

fn plain(code: i32, message: String) -> rpc::Status {
    rpc::Status {
        code,
        message,
        details: vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use envd_proto::errdefs;
    use llb_gen::diagnostics::{Diagnostic, SourceText};

    #[test]
    fn panics_become_internal_errors_with_their_message() {
        let caught = std::panic::catch_unwind(|| panic!("on purpose {}", 1)).unwrap_err();
        let error = FrontendError::from_panic(caught);
        assert_eq!(
            error.to_string(),
            "internal error in envd-frontend: on purpose 1 (a bug; please report it with the build.envd that caused it)"
        );
        assert_eq!(error.to_status().code, CODE_UNKNOWN);
        let caught = std::panic::catch_unwind(|| panic!("literal")).unwrap_err();
        assert!(
            FrontendError::from_panic(caught)
                .to_string()
                .contains(": literal (")
        );
    }

    #[test]
    fn build_errors_carry_the_source_detail() {
        let source = SourceText::new("build.envd", "def build():\n    bsae()\n");
        let error = FrontendError::Build(Diagnostics(vec![Diagnostic::error(
            &source,
            Some(17..21),
            "Variable `bsae` not found",
        )]));
        let status = error.to_status();
        assert_eq!(status.message, "build.envd:2: Variable `bsae` not found");
        let detail = errdefs::Source::from_any(&status.details[0]).unwrap();
        assert_eq!(detail.info.filename, "build.envd");
        assert_eq!(detail.ranges[0].start.line, 2);
    }

    #[test]
    fn daemon_details_pass_through() {
        let inner = rpc::Status {
            code: 2,
            message: "process \"/bin/sh -c false\" did not complete successfully".into(),
            details: vec![
                errdefs::Source {
                    info: errdefs::SourceInfo {
                        filename: "build.envd".into(),
                        data: vec![],
                        language: String::new(),
                    },
                    ranges: vec![],
                }
                .to_any(),
            ],
        };
        let status = tonic::Status::with_details(
            tonic::Code::Unknown,
            inner.message.clone(),
            inner.encode_to_vec().into(),
        );
        let error = FrontendError::Daemon {
            context: "solve".into(),
            status,
        };
        assert_eq!(error.to_status(), inner);
    }
}

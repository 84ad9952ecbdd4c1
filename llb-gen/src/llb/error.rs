//! Errors for builder input the LLB graph cannot represent.

/// Invalid input to the LLB builder, reported where the op is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LlbError {
    #[error("image reference is empty")]
    EmptyImageRef,
    #[error("invalid image reference {reference:?}: {reason}")]
    InvalidImageRef { reference: String, reason: String },
    #[error("invalid digest {0:?}: expected sha256: followed by 64 lowercase hex digits")]
    InvalidDigest(String),
    #[error("image reference {reference:?} already pins {existing}, cannot pin {requested}")]
    ConflictingDigest {
        reference: String,
        existing: String,
        requested: String,
    },
    #[error("invalid platform {0:?}: expected os/arch[/variant]")]
    InvalidPlatform(String),
    #[error("invalid http source url {0:?}: expected http:// or https://")]
    InvalidUrl(String),
    #[error("invalid git url {0:?}: expected https://, http://, git:// or ssh://")]
    InvalidGitUrl(String),
    #[error("http source file name {0:?} must be a plain file name")]
    InvalidHttpFilename(String),
    #[error("local source name is empty")]
    EmptyLocalName,
    #[error("exec has no command")]
    EmptyArgs,
    #[error("{what} {path:?} must be an absolute path")]
    RelativePath { what: &'static str, path: String },
    #[error("mount destination \"/\" is the root mount")]
    MountOverRoot,
    #[error("two mounts at {0:?}")]
    DuplicateMount(String),
    #[error("cache mount at {dest:?} has no id")]
    CacheMountWithoutId { dest: String },
    #[error("secret mount at {dest:?} has no id")]
    SecretMountWithoutId { dest: String },
    #[error("invalid environment variable name {0:?}")]
    InvalidEnvName(String),
    #[error("file op has no actions")]
    EmptyFileOp,
    #[error("copy of {src:?} reads from an empty (scratch) state")]
    CopyFromScratch { src: String },
    #[error("invalid definition: {0}")]
    InvalidDefinition(String),
}

/// Paths inside states are absolute; relative ones have no defined base here.
pub(crate) fn require_absolute(what: &'static str, path: &str) -> Result<(), LlbError> {
    if path.starts_with('/') {
        Ok(())
    } else {
        Err(LlbError::RelativePath {
            what,
            path: path.to_string(),
        })
    }
}

//! Frontend option keys: what buildx and buildctl send as
//! `BUILDKIT_FRONTEND_OPT_<n>=<key>=<value>` (see `frontend/dockerui`).

/// Environment variable prefix of frontend options.
pub const ENV_OPT_PREFIX: &str = "BUILDKIT_FRONTEND_OPT_";
/// Session id the frontend passes to `local://` sources.
pub const ENV_SESSION_ID: &str = "BUILDKIT_SESSION_ID";
/// JSON list of workers and their platforms.
pub const ENV_WORKERS: &str = "BUILDKIT_WORKERS";
/// Which exporter product drives the build (`docker`, `buildkit`).
pub const ENV_EXPORTED_PRODUCT: &str = "BUILDKIT_EXPORTEDPRODUCT";

pub const FILENAME: &str = "filename";
pub const DEFAULT_FILENAME: &str = "build.envd";
pub const DOCKERFILE_KEY: &str = "dockerfilekey";
pub const DEFAULT_DOCKERFILE_KEY: &str = "dockerfile";
pub const CONTEXT_KEY: &str = "contextkey";
pub const DEFAULT_CONTEXT_KEY: &str = "context";
pub const TARGET: &str = "target";
pub const PLATFORM: &str = "platform";
pub const BUILD_ARG_PREFIX: &str = "build-arg:";
pub const LABEL_PREFIX: &str = "label:";
pub const NO_CACHE: &str = "no-cache";
pub const IMAGE_RESOLVE_MODE: &str = "image-resolve-mode";
pub const FORCE_NETWORK_MODE: &str = "force-network-mode";
pub const ADD_HOSTS: &str = "add-hosts";
pub const CACHE_IMPORTS: &str = "cache-imports";
pub const CONTEXT_PREFIX: &str = "context:";
pub const REQUEST_ID: &str = "requestid";
pub const SOURCE: &str = "source";
pub const CMDLINE: &str = "cmdline";
/// Build arg that selects the frontend image without a `# syntax=` line.
pub const BUILD_ARG_SYNTAX: &str = "BUILDKIT_SYNTAX";

//! Keys of the result metadata a frontend returns to the exporter, and of op
//! metadata descriptions.

/// Image config JSON of a single-platform result.
pub const CONTAINER_IMAGE_CONFIG: &str = "containerimage.config";
/// Prefix of per-platform image configs: `containerimage.config/<platform id>`.
pub const CONTAINER_IMAGE_CONFIG_PREFIX: &str = "containerimage.config/";
/// JSON list of the platforms of a multi-platform result.
pub const REFS_PLATFORMS: &str = "refs.platforms";
/// Op description key whose value is the progress name shown to users.
pub const CUSTOM_NAME: &str = "llb.customname";

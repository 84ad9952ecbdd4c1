//! Capability ids: LLB caps (`solver/pb/caps.go`) an op requires, and gateway
//! caps (`frontend/gateway/pb/caps.go`) a frontend checks before using a call.

/// LLB capability ids, recorded per op in `OpMetadata.caps`.
pub mod llb {
    pub const SOURCE_IMAGE: &str = "source.image";
    pub const SOURCE_IMAGE_RESOLVE_MODE: &str = "source.image.resolvemode";
    pub const SOURCE_LOCAL: &str = "source.local";
    pub const SOURCE_LOCAL_UNIQUE: &str = "source.local.unique";
    pub const SOURCE_LOCAL_SESSION_ID: &str = "source.local.sessionid";
    pub const SOURCE_LOCAL_INCLUDE_PATTERNS: &str = "source.local.includepatterns";
    pub const SOURCE_LOCAL_FOLLOW_PATHS: &str = "source.local.followpaths";
    pub const SOURCE_LOCAL_EXCLUDE_PATTERNS: &str = "source.local.excludepatterns";
    pub const SOURCE_LOCAL_SHARED_KEY_HINT: &str = "source.local.sharedkeyhint";
    pub const SOURCE_LOCAL_DIFFER: &str = "source.local.differ";
    pub const SOURCE_GIT: &str = "source.git";
    pub const SOURCE_GIT_FULL_URL: &str = "source.git.fullurl";
    pub const SOURCE_HTTP: &str = "source.http";
    pub const SOURCE_HTTP_CHECKSUM: &str = "source.http.checksum";
    pub const SOURCE_HTTP_PERM: &str = "source.http.perm";
    /// Upstream spells this id "soruce"; the daemon matches the string as is.
    pub const SOURCE_HTTP_UID_GID: &str = "soruce.http.uidgid";

    pub const EXEC_META_BASE: &str = "exec.meta.base";
    pub const EXEC_META_NETWORK: &str = "exec.meta.network";
    pub const EXEC_META_SECURITY: &str = "exec.meta.security";
    pub const EXEC_MOUNT_BIND: &str = "exec.mount.bind";
    pub const EXEC_MOUNT_CACHE: &str = "exec.mount.cache";
    pub const EXEC_MOUNT_CACHE_SHARING: &str = "exec.mount.cache.sharing";
    pub const EXEC_MOUNT_SELECTOR: &str = "exec.mount.selector";
    pub const EXEC_MOUNT_TMPFS: &str = "exec.mount.tmpfs";
    pub const EXEC_MOUNT_TMPFS_SIZE: &str = "exec.mount.tmpfs.size";
    pub const EXEC_MOUNT_SECRET: &str = "exec.mount.secret";
    pub const EXEC_MOUNT_SSH: &str = "exec.mount.ssh";

    pub const FILE_BASE: &str = "file.base";
    pub const FILE_RM_WILDCARD: &str = "file.rm.wildcard";
    pub const FILE_COPY_INCLUDE_EXCLUDE_PATTERNS: &str = "file.copy.includeexcludepatterns";

    pub const CONSTRAINTS: &str = "constraints";
    pub const PLATFORM: &str = "platform";
    pub const META_IGNORE_CACHE: &str = "meta.ignorecache";
    pub const META_DESCRIPTION: &str = "meta.description";

    pub const MERGE_OP: &str = "mergeop";
    pub const DIFF_OP: &str = "diffop";
}

/// Gateway API capability ids, returned by `Ping` as `FrontendAPICaps`.
pub mod gateway {
    pub const SOLVE_BASE: &str = "solve.base";
    pub const SOLVE_INLINE_RETURN: &str = "solve.inlinereturn";
    pub const RESOLVE_IMAGE: &str = "resolveimage";
    pub const RESOLVE_IMAGE_RESOLVE_MODE: &str = "resolveimage.resolvemode";
    pub const READ_FILE: &str = "readfile";
    pub const RETURN_RESULT: &str = "return";
    pub const RETURN_MAP: &str = "returnmap";
    pub const READ_DIR: &str = "readdir";
    pub const STAT_FILE: &str = "statfile";
    pub const IMPORT_CACHES: &str = "importcaches";
    pub const FRONTEND_INPUTS: &str = "frontend.inputs";
    pub const PROTO_REF_ARRAY: &str = "proto.refarray";
    pub const REFERENCE_OUTPUT: &str = "reference.output";
    pub const SOURCE_METADATA_RESOLVER: &str = "source.metadataresolver";
    pub const GATEWAY_WARNINGS: &str = "warnings";
}

/// Frontend caps a frontend image declares in its
/// `moby.buildkit.frontend.caps` label.
pub mod frontend {
    pub const INPUTS: &str = "moby.buildkit.frontend.inputs";
    pub const SUBREQUESTS: &str = "moby.buildkit.frontend.subrequests";
    pub const CONTEXTS: &str = "moby.buildkit.frontend.contexts";
}

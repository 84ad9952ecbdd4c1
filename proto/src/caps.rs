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
    pub const GATEWAY_EXEC: &str = "gateway.exec";
    /// The `Warn` call (BuildKit 0.10, Docker 23.0).
    pub const GATEWAY_WARNINGS: &str = "gateway.warnings";
    /// The `Evaluate` call (BuildKit 0.11, Docker 24.0).
    pub const GATEWAY_EVALUATE: &str = "gateway.evaluate";
    /// The `ResolveSourceMeta` call (BuildKit 0.13, Docker 26.0).
    pub const SOURCE_META_RESOLVER: &str = "source.metaresolver";
}

/// Frontend caps a frontend image declares in its
/// `moby.buildkit.frontend.caps` label.
pub mod frontend {
    pub const INPUTS: &str = "moby.buildkit.frontend.inputs";
    pub const SUBREQUESTS: &str = "moby.buildkit.frontend.subrequests";
    pub const CONTEXTS: &str = "moby.buildkit.frontend.contexts";
}

/// The first BuildKit release with a cap, and the first Docker Engine
/// release whose embedded BuildKit has it (moby's vendored BuildKit: 18.09
/// has 0.3, 19.03 has 0.5-0.6, 20.10 has 0.8, 23.0 has 0.10, 24.0 has 0.11, 25.0 has
/// 0.12, 26.0 has 0.13).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    pub buildkit: &'static str,
    pub docker: &'static str,
}

const fn release(buildkit: &'static str, docker: &'static str) -> Option<Release> {
    Some(Release { buildkit, docker })
}

/// When `cap` (an LLB or gateway cap) first shipped; `None` for caps this
/// table does not know.
pub fn first_release(cap: &str) -> Option<Release> {
    use gateway::*;
    use llb::*;
    match cap {
        FILE_BASE => release("0.5", "19.03"),
        FRONTEND_INPUTS | PROTO_REF_ARRAY | REFERENCE_OUTPUT => release("0.7", "20.10"),
        GATEWAY_EXEC => release("0.8", "20.10"),
        // BuildKit 0.9 shipped in no Docker release.
        SOURCE_LOCAL_DIFFER => release("0.9", "23.0"),
        GATEWAY_WARNINGS => release("0.10", "23.0"),
        // Docker enables them only with its containerd image store (23.0.0
        // and 23.0.1 advertised them on the graph-driver store too, broken).
        MERGE_OP | DIFF_OP => release("0.10", "24.0 with the containerd image store"),
        GATEWAY_EVALUATE => release("0.11", "24.0"),
        SOURCE_META_RESOLVER => release("0.13", "26.0"),
        SOURCE_IMAGE
        | SOURCE_IMAGE_RESOLVE_MODE
        | SOURCE_LOCAL
        | SOURCE_LOCAL_UNIQUE
        | SOURCE_LOCAL_SESSION_ID
        | SOURCE_LOCAL_INCLUDE_PATTERNS
        | SOURCE_LOCAL_FOLLOW_PATHS
        | SOURCE_LOCAL_EXCLUDE_PATTERNS
        | SOURCE_LOCAL_SHARED_KEY_HINT
        | SOURCE_GIT
        | SOURCE_GIT_FULL_URL
        | SOURCE_HTTP
        | SOURCE_HTTP_CHECKSUM
        | SOURCE_HTTP_PERM
        | SOURCE_HTTP_UID_GID
        | EXEC_META_BASE
        | EXEC_META_NETWORK
        | EXEC_MOUNT_BIND
        | EXEC_MOUNT_CACHE
        | EXEC_MOUNT_CACHE_SHARING
        | EXEC_MOUNT_SELECTOR
        | EXEC_MOUNT_TMPFS
        | EXEC_MOUNT_SECRET
        | EXEC_MOUNT_SSH
        | CONSTRAINTS
        | PLATFORM
        | META_IGNORE_CACHE
        | META_DESCRIPTION
        | SOLVE_BASE
        | RESOLVE_IMAGE
        | RESOLVE_IMAGE_RESOLVE_MODE
        | READ_FILE
        | RETURN_RESULT
        | RETURN_MAP
        | READ_DIR
        | STAT_FILE => release("0.3", "18.09"),
        IMPORT_CACHES => release("0.4", "19.03"),
        _ => None,
    }
}

/// `` `mergeop` (BuildKit 0.10, Docker 24.0 with ...) ``: a cap with the
/// releases that have it, for messages.
pub fn describe(cap: &str) -> String {
    match first_release(cap) {
        Some(r) => format!("`{cap}` (BuildKit {}, Docker {})", r.buildkit, r.docker),
        None => format!("`{cap}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cap_the_frontend_uses_has_its_releases() {
        for cap in [
            llb::SOURCE_IMAGE,
            llb::SOURCE_LOCAL_DIFFER,
            llb::SOURCE_GIT_FULL_URL,
            llb::SOURCE_HTTP_PERM,
            llb::FILE_BASE,
            llb::MERGE_OP,
            llb::DIFF_OP,
            gateway::READ_DIR,
            gateway::STAT_FILE,
            gateway::FRONTEND_INPUTS,
            gateway::GATEWAY_WARNINGS,
        ] {
            assert!(first_release(cap).is_some(), "{cap}");
        }
        assert_eq!(
            describe(llb::MERGE_OP),
            "`mergeop` (BuildKit 0.10, Docker 24.0 with the containerd image store)"
        );
        assert_eq!(describe("future.cap"), "`future.cap`");
    }
}

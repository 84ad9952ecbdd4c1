//! Source ops: container images and local directories of the client.

use std::collections::{BTreeMap, BTreeSet};

use envd_proto::caps::llb as caps;
use envd_proto::pb;

use super::error::LlbError;
use super::reference::{ImageRef, validate_digest};
use super::state::{OpOptions, State, Vertex, WithOpOptions};

const IMAGE_RESOLVE_MODE: &str = "image.resolvemode";
const LOCAL_SESSION: &str = "local.session";
const LOCAL_SHARED_KEY_HINT: &str = "local.sharedkeyhint";
pub(crate) const LOCAL_INCLUDE_PATTERNS: &str = "local.includepattern";
const LOCAL_EXCLUDE_PATTERNS: &str = "local.excludepatterns";
const LOCAL_FOLLOW_PATHS: &str = "local.followpaths";
const LOCAL_DIFFER: &str = "local.differ";
const GIT_FULL_URL: &str = "git.fullurl";
pub(crate) const HTTP_CHECKSUM: &str = "http.checksum";
pub(crate) const HTTP_FILENAME: &str = "http.filename";
pub(crate) const HTTP_PERM: &str = "http.perm";

fn source_vertex(
    identifier: String,
    attrs: BTreeMap<String, String>,
    required_caps: BTreeSet<&'static str>,
    options: OpOptions,
) -> State {
    let platform = options.platform.clone();
    let body = pb::op::Op::Source(pb::SourceOp { identifier, attrs });
    State::from_vertex(
        Vertex::new(vec![], body, required_caps, options),
        0,
        platform,
    )
}

/// Where BuildKit looks for an image's metadata and layers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResolveMode {
    /// Local store first, registry when missing.
    Default,
    /// Always ask the registry.
    Pull,
    /// Only the local store.
    Local,
}

/// `docker-image://` source.
#[derive(Clone, Debug)]
pub struct Image {
    reference: String,
    digest: Option<String>,
    resolve_mode: ResolveMode,
    options: OpOptions,
}

impl Image {
    pub fn new(reference: impl Into<String>) -> Image {
        Image {
            reference: reference.into(),
            digest: None,
            resolve_mode: ResolveMode::Default,
            options: OpOptions::default(),
        }
    }

    /// Pins the image to a manifest digest (`sha256:...`).
    pub fn digest(mut self, digest: impl Into<String>) -> Image {
        self.digest = Some(digest.into());
        self
    }

    pub fn resolve_mode(mut self, mode: ResolveMode) -> Image {
        self.resolve_mode = mode;
        self
    }

    pub fn build(self) -> Result<State, LlbError> {
        let mut reference = ImageRef::parse(&self.reference)?;
        if let Some(digest) = &self.digest {
            reference = reference.with_digest(digest)?;
        }
        let mut attrs = BTreeMap::new();
        let mut required = BTreeSet::from([caps::SOURCE_IMAGE]);
        let mode = match self.resolve_mode {
            ResolveMode::Default => None,
            ResolveMode::Pull => Some("pull"),
            ResolveMode::Local => Some("local"),
        };
        if let Some(mode) = mode {
            attrs.insert(IMAGE_RESOLVE_MODE.to_string(), mode.to_string());
            required.insert(caps::SOURCE_IMAGE_RESOLVE_MODE);
        }
        Ok(source_vertex(
            format!("docker-image://{reference}"),
            attrs,
            required,
            self.options,
        ))
    }
}

impl WithOpOptions for Image {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

/// `local://NAME` source: a directory the client (buildx) sends.
#[derive(Clone, Debug)]
pub struct Local {
    name: String,
    session_id: Option<String>,
    shared_key_hint: Option<String>,
    include_patterns: Vec<String>,
    exclude_patterns: Vec<String>,
    follow_paths: Vec<String>,
    /// `Some(required)`: send every file each time (`local.differ=none`).
    transfer_all: Option<bool>,
    options: OpOptions,
}

impl Local {
    pub fn new(name: impl Into<String>) -> Local {
        Local {
            name: name.into(),
            session_id: None,
            shared_key_hint: None,
            include_patterns: vec![],
            exclude_patterns: vec![],
            follow_paths: vec![],
            transfer_all: None,
            options: OpOptions::default(),
        }
    }

    pub fn session_id(mut self, id: impl Into<String>) -> Local {
        self.session_id = Some(id.into());
        self
    }

    /// Lets transfers of the same directory with other filters share a cache.
    pub fn shared_key_hint(mut self, hint: impl Into<String>) -> Local {
        self.shared_key_hint = Some(hint.into());
        self
    }

    pub fn include_patterns(
        mut self,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Local {
        self.include_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Patterns of paths not to transfer (`.dockerignore`'s lines).
    pub fn exclude_patterns(
        mut self,
        patterns: impl IntoIterator<Item = impl Into<String>>,
    ) -> Local {
        self.exclude_patterns = patterns.into_iter().map(Into::into).collect();
        self
    }

    /// Paths (and the symlinks on the way to them) to transfer.
    pub fn follow_paths(mut self, paths: impl IntoIterator<Item = impl Into<String>>) -> Local {
        self.follow_paths = paths.into_iter().map(Into::into).collect();
        self
    }

    /// Sends every file each time instead of comparing with the last
    /// transfer (for one small file). `required`: fail on daemons that
    /// cannot, instead of falling back to comparing.
    pub fn transfer_all(mut self, required: bool) -> Local {
        self.transfer_all = Some(required);
        self
    }

    pub fn build(self) -> Result<State, LlbError> {
        if self.name.is_empty() {
            return Err(LlbError::EmptyLocalName);
        }
        let mut attrs = BTreeMap::new();
        let mut required = BTreeSet::from([caps::SOURCE_LOCAL]);
        if let Some(id) = self.session_id {
            attrs.insert(LOCAL_SESSION.to_string(), id);
            required.insert(caps::SOURCE_LOCAL_SESSION_ID);
        }
        if let Some(hint) = self.shared_key_hint {
            attrs.insert(LOCAL_SHARED_KEY_HINT.to_string(), hint);
            required.insert(caps::SOURCE_LOCAL_SHARED_KEY_HINT);
        }
        let lists = [
            (
                LOCAL_INCLUDE_PATTERNS,
                self.include_patterns,
                caps::SOURCE_LOCAL_INCLUDE_PATTERNS,
            ),
            (
                LOCAL_EXCLUDE_PATTERNS,
                self.exclude_patterns,
                caps::SOURCE_LOCAL_EXCLUDE_PATTERNS,
            ),
            (
                LOCAL_FOLLOW_PATHS,
                self.follow_paths,
                caps::SOURCE_LOCAL_FOLLOW_PATHS,
            ),
        ];
        for (key, list, cap) in lists {
            if !list.is_empty() {
                // BuildKit reads these attrs as JSON arrays of strings.
                attrs.insert(key.to_string(), serde_json::Value::from(list).to_string());
                required.insert(cap);
            }
        }
        if let Some(is_required) = self.transfer_all {
            attrs.insert(LOCAL_DIFFER.to_string(), "none".to_string());
            if is_required {
                required.insert(caps::SOURCE_LOCAL_DIFFER);
            }
        }
        // Local sources carry no platform: their content does not depend on it.
        let mut options = self.options;
        options.platform = None;
        Ok(source_vertex(
            format!("local://{}", self.name),
            attrs,
            required,
            options,
        ))
    }
}

impl WithOpOptions for Local {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

/// A git repository, cloned by BuildKit (shallow, without `.git`): a
/// state holding its files. The identifier is host and path, as
/// BuildKit's client makes it, so clones over different protocols share a
/// cache key; the full URL is an attribute.
#[derive(Clone, Debug)]
pub struct Git {
    url: String,
    options: OpOptions,
}

impl Git {
    /// `https://`, `http://`, `git://` or `ssh://` URLs.
    pub fn new(url: impl Into<String>) -> Git {
        Git {
            url: url.into(),
            options: OpOptions::default(),
        }
    }

    pub fn build(self) -> Result<State, LlbError> {
        let rest = ["https://", "http://", "git://", "ssh://"]
            .iter()
            .find_map(|scheme| self.url.strip_prefix(scheme));
        let Some(rest) = rest.filter(|r| !r.is_empty() && !r.starts_with('/')) else {
            return Err(LlbError::InvalidGitUrl(self.url));
        };
        let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
        // `user@host` over ssh: the identifier has host and path only.
        let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
        let path = path.trim_end_matches('/');
        let identifier = format!("git://{host}/{path}");
        let attrs = BTreeMap::from([(GIT_FULL_URL.to_string(), self.url)]);
        let required = BTreeSet::from([caps::SOURCE_GIT, caps::SOURCE_GIT_FULL_URL]);
        let mut options = self.options;
        options.platform = None;
        Ok(source_vertex(identifier, attrs, required, options))
    }
}

impl WithOpOptions for Git {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

/// A file downloaded over HTTP(S): a state holding it at its root.
#[derive(Clone, Debug)]
pub struct Http {
    url: String,
    checksum: Option<String>,
    filename: Option<String>,
    perm: Option<u32>,
    options: OpOptions,
}

impl Http {
    pub fn new(url: impl Into<String>) -> Http {
        Http {
            url: url.into(),
            checksum: None,
            filename: None,
            perm: None,
            options: OpOptions::default(),
        }
    }

    /// Expected digest of the content (`sha256:...`): BuildKit fails the
    /// download otherwise, and keys its cache on it.
    pub fn checksum(mut self, digest: impl Into<String>) -> Http {
        self.checksum = Some(digest.into());
        self
    }

    /// The file's name in the state (else BuildKit's choice: the server's
    /// or the URL's).
    pub fn filename(mut self, name: impl Into<String>) -> Http {
        self.filename = Some(name.into());
        self
    }

    pub fn perm(mut self, mode: u32) -> Http {
        self.perm = Some(mode);
        self
    }

    pub fn build(self) -> Result<State, LlbError> {
        let has_host = |rest: &str| !rest.is_empty() && !rest.starts_with('/');
        let valid_url = match self.url.split_once("://") {
            Some(("http" | "https", rest)) => has_host(rest),
            _ => false,
        };
        if !valid_url {
            return Err(LlbError::InvalidUrl(self.url));
        }
        let mut attrs = BTreeMap::new();
        let mut required = BTreeSet::from([caps::SOURCE_HTTP]);
        if let Some(checksum) = self.checksum {
            validate_digest(&checksum)?;
            attrs.insert(HTTP_CHECKSUM.to_string(), checksum);
            required.insert(caps::SOURCE_HTTP_CHECKSUM);
        }
        if let Some(name) = self.filename {
            if name.is_empty() || name.contains('/') || name == "." || name == ".." {
                return Err(LlbError::InvalidHttpFilename(name));
            }
            attrs.insert(HTTP_FILENAME.to_string(), name);
        }
        if let Some(perm) = self.perm {
            attrs.insert(HTTP_PERM.to_string(), format!("0{perm:o}"));
            required.insert(caps::SOURCE_HTTP_PERM);
        }
        // A download is the same on every platform: variants share it.
        let mut options = self.options;
        options.platform = None;
        Ok(source_vertex(self.url, attrs, required, options))
    }
}

impl WithOpOptions for Http {
    fn op_options(&mut self) -> &mut OpOptions {
        &mut self.options
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llb::Platform;
    use crate::llb::testutil::{source_of, top_caps, top_op};

    const DIGEST: &str = "sha256:4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945";

    #[test]
    fn image_source_is_normalized_pinned_and_platformed() {
        let state = Image::new("aiges_cpu:1.0")
            .digest(DIGEST)
            .resolve_mode(ResolveMode::Local)
            .platform(Platform::new("linux", "amd64"))
            .build()
            .unwrap();
        let op = top_op(&state);
        let src = source_of(&op);
        assert_eq!(
            src.identifier,
            format!("docker-image://docker.io/library/aiges_cpu:1.0@{DIGEST}")
        );
        assert_eq!(
            src.attrs.get("image.resolvemode").map(String::as_str),
            Some("local")
        );
        let platform = op.platform.expect("image ops carry a platform");
        assert_eq!(
            (platform.os.as_str(), platform.architecture.as_str()),
            ("linux", "amd64")
        );
        assert_eq!(state.platform(), Some(&Platform::new("linux", "amd64")));
        assert_eq!(
            top_caps(&state),
            ["platform", "source.image", "source.image.resolvemode"]
        );
    }

    #[test]
    fn default_resolve_mode_adds_no_attr() {
        let state = Image::new("ubuntu").build().unwrap();
        let op = top_op(&state);
        assert!(source_of(&op).attrs.is_empty());
        assert_eq!(op.platform, None);
        assert_eq!(top_caps(&state), ["source.image"]);
    }

    #[test]
    fn invalid_images_are_typed_errors() {
        assert_eq!(Image::new("").build().unwrap_err(), LlbError::EmptyImageRef);
        assert!(matches!(
            Image::new("Bad Ref").build(),
            Err(LlbError::InvalidImageRef { .. })
        ));
        assert!(matches!(
            Image::new("ubuntu").digest("sha256:12").build(),
            Err(LlbError::InvalidDigest(_))
        ));
    }

    #[test]
    fn local_source_writes_json_attrs_and_caps() {
        let state = Local::new("context")
            .session_id("sess")
            .shared_key_hint("context")
            .include_patterns(["requirements.txt"])
            .exclude_patterns(["**/.git", "*.pyc"])
            .follow_paths(["requirements.txt", "env.yaml"])
            .transfer_all(true)
            .platform(Platform::new("linux", "amd64"))
            .build()
            .unwrap();
        let op = top_op(&state);
        let src = source_of(&op);
        assert_eq!(src.identifier, "local://context");
        let attr = |k: &str| src.attrs.get(k).map(String::as_str);
        assert_eq!(attr("local.session"), Some("sess"));
        assert_eq!(attr("local.sharedkeyhint"), Some("context"));
        assert_eq!(
            attr("local.includepattern"),
            Some(r#"["requirements.txt"]"#)
        );
        assert_eq!(
            attr("local.excludepatterns"),
            Some(r#"["**/.git","*.pyc"]"#)
        );
        assert_eq!(
            attr("local.followpaths"),
            Some(r#"["requirements.txt","env.yaml"]"#)
        );
        assert_eq!(attr("local.differ"), Some("none"));
        assert_eq!(op.platform, None, "local sources carry no platform");
        assert_eq!(
            top_caps(&state),
            [
                "source.local",
                "source.local.differ",
                "source.local.excludepatterns",
                "source.local.followpaths",
                "source.local.includepatterns",
                "source.local.sessionid",
                "source.local.sharedkeyhint",
            ]
        );
    }

    #[test]
    fn optional_differ_requires_no_cap() {
        let state = Local::new("dockerfile")
            .transfer_all(false)
            .build()
            .unwrap();
        assert_eq!(top_caps(&state), ["source.local"]);
        assert_eq!(
            Local::new("").build().unwrap_err(),
            LlbError::EmptyLocalName
        );
    }

    #[test]
    fn http_source_attrs_and_caps() {
        let state = Http::new("https://example.invalid/model.bin")
            .checksum(DIGEST)
            .filename("model.bin")
            .perm(0o644)
            .build()
            .unwrap();
        let op = top_op(&state);
        let src = source_of(&op);
        assert_eq!(src.identifier, "https://example.invalid/model.bin");
        assert_eq!(src.attrs["http.checksum"], DIGEST);
        assert_eq!(src.attrs["http.filename"], "model.bin");
        assert_eq!(src.attrs["http.perm"], "0644");
        assert!(op.platform.is_none(), "a download has no platform");
        assert_eq!(
            top_caps(&state),
            ["source.http", "source.http.checksum", "source.http.perm"]
        );
    }

    #[test]
    fn invalid_http_sources_are_typed_errors() {
        for url in [
            "ftp://h/x",
            "https://",
            "https:///path",
            "example.invalid/x",
        ] {
            assert_eq!(
                Http::new(url).build().unwrap_err(),
                LlbError::InvalidUrl(url.to_string())
            );
        }
        assert!(matches!(
            Http::new("http://h/x").checksum("md5:1").build(),
            Err(LlbError::InvalidDigest(_))
        ));
        assert!(matches!(
            Http::new("http://h/x").filename("a/b").build(),
            Err(LlbError::InvalidHttpFilename(_))
        ));
    }

    #[test]
    fn git_source_identifier_and_full_url() {
        for (url, id) in [
            (
                "https://github.com/tensorchord/envdlib",
                "git://github.com/tensorchord/envdlib",
            ),
            (
                "git://127.0.0.1:9418/lib.git",
                "git://127.0.0.1:9418/lib.git",
            ),
            (
                "ssh://git@host.local/team/lib/",
                "git://host.local/team/lib",
            ),
            (
                "https://host.local/org/lib@v2",
                "git://host.local/org/lib@v2",
            ),
        ] {
            let state = Git::new(url).build().unwrap();
            let op = top_op(&state);
            let src = source_of(&op);
            assert_eq!(src.identifier, id);
            assert_eq!(src.attrs["git.fullurl"], url);
            assert_eq!(top_caps(&state), ["source.git", "source.git.fullurl"]);
        }
        for bad in ["github.com/x", "https://", "ftp://h/x", "https:///x"] {
            assert!(Git::new(bad).build().is_err(), "{bad}");
        }
    }
}

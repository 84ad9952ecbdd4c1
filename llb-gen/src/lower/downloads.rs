//! What envd v1 fetches at build time, pinned to envd 1.3.4's versions:
//! each tool's release file per architecture (with the checksum envd
//! pinned, where it pinned one) and the images it copies tools from. All
//! are LLB sources, so BuildKit fetches them, caches them and shares them
//! between variants; nothing is downloaded inside the frontend, and no
//! step runs envd's `wget` (package managers still download in their
//! steps: rustup's toolchain, R's apt packages, as pip does). A site
//! points them at its own mirror with one setting of prefix rewrites
//! ([`DOWNLOAD_MIRRORS_ARG`]), which those steps are given too.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::Span;
use crate::llb::{Copy, FileOp, Http, State, WithOpOptions};
use crate::validate::{is_http_url, mask_logins};

use super::Lowering;

/// `--build-arg ENVD_DOWNLOAD_MIRRORS="PREFIX=REPLACEMENT ..."`: every
/// download URL and tool image reference that starts with PREFIX is
/// fetched from REPLACEMENT plus the rest instead (the longest PREFIX
/// wins). A mirror serves the same files, so envd's checksums still
/// apply; a rule for one file (PREFIX its whole URL) may end in
/// `#sha256=HEX`, to check what it fetches against HEX instead (a mirror
/// that holds another build of that file).
pub const DOWNLOAD_MIRRORS_ARG: &str = "ENVD_DOWNLOAD_MIRRORS";

/// One architecture's file of a release.
#[derive(Clone, Copy, Debug)]
pub struct ReleaseFile {
    /// The platform architecture, as BuildKit names it (`amd64`, `arm64`).
    pub architecture: &'static str,
    pub url: &'static str,
    /// envd's pinned SHA-256, as hex.
    pub sha256: Option<&'static str>,
}

/// A tool release envd v1 downloads.
#[derive(Clone, Copy, Debug)]
pub struct Release {
    pub tool: &'static str,
    pub version: &'static str,
    pub files: &'static [ReleaseFile],
    /// A tar archive, which BuildKit extracts (Docker's `ADD`).
    pub archive: bool,
    /// The folder an archive holds everything in; `None`: its file name
    /// without the `.tar.gz`.
    pub folder: Option<&'static str>,
}

/// A release file resolved for one build: where it comes from after the
/// site's rewrites, and the digest BuildKit checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fetch {
    pub url: String,
    /// `sha256:<hex>`.
    pub checksum: Option<String>,
}

impl Release {
    /// The folder `architecture`'s archive of `version` extracts to
    /// (empty: the archive's root).
    pub fn folder(&self, architecture: &str, version: &str) -> String {
        if let Some(folder) = self.folder {
            return folder.replace(self.version, version);
        }
        let name = self.file(architecture).map_or(String::new(), |file| {
            file_name(file.url).replace(self.version, version)
        });
        [".tar.gz", ".tar.xz", ".tgz"]
            .iter()
            .find_map(|ext| name.strip_suffix(ext))
            .unwrap_or(&name)
            .to_string()
    }

    /// The file for `architecture`, or an error naming the ones there are.
    pub fn file(&self, architecture: &str) -> Result<&'static ReleaseFile, String> {
        self.files
            .iter()
            .find(|file| file.architecture == architecture)
            .ok_or_else(|| {
                let known: Vec<&str> = self.files.iter().map(|f| f.architecture).collect();
                format!(
                    "envd 1.x downloads {} {} for {} only, not for {architecture}",
                    self.tool,
                    self.version,
                    known.join(" and ")
                )
            })
    }
}

/// The last part of a URL's path.
pub fn file_name(url: &str) -> &str {
    url.rsplit('/').next().unwrap_or(url)
}

/// The site's rewrite rules ([`DOWNLOAD_MIRRORS_ARG`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DownloadMirrors {
    /// (prefix, replacement, checksum for what the rule fetches)
    rules: Vec<(String, String, Option<String>)>,
}

impl DownloadMirrors {
    pub fn from_build_args(args: &BTreeMap<String, String>) -> Result<DownloadMirrors, Diagnostic> {
        let Some(value) = args.get(DOWNLOAD_MIRRORS_ARG) else {
            return Ok(DownloadMirrors::default());
        };
        let shown = mask_logins(value);
        let source = SourceText::new(format!("--build-arg {DOWNLOAD_MIRRORS_ARG}"), &shown);
        if shown != *value {
            return Err(Diagnostic::error(
                &source,
                Some(0..shown.len()),
                "a mirror's URL carries a login: a URL is kept in the build's definition, cache keys and history, and so would the login",
            )
            .with_help("an image mirror's login comes from `docker login`, as for any image; serve an HTTP mirror without one (BuildKit sends an HTTP source no login it could keep secret)"));
        }
        let mut rules = vec![];
        for rule in value
            .split(char::is_whitespace)
            .filter(|rule| !rule.is_empty())
        {
            // Where the rule is in the value, for the error's span.
            let offset = rule.as_ptr() as usize - value.as_ptr() as usize;
            let span = offset..offset + rule.len();
            let error = |message: String| {
                Diagnostic::error(&source, Some(span.clone()), message).with_help(
                    "write PREFIX=REPLACEMENT rules separated by spaces, e.g. https://github.com/=http://mirror.example/github/",
                )
            };
            let Some((prefix, replacement)) = rule.split_once('=') else {
                return Err(error(format!("{rule:?} is no PREFIX=REPLACEMENT rule")));
            };
            let (replacement, checksum) = match replacement.rsplit_once("#sha256=") {
                Some((replacement, hex)) => {
                    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(error(format!(
                            "{hex:?} after #sha256= is not a SHA-256 in hex"
                        )));
                    }
                    (
                        replacement,
                        Some(format!("sha256:{}", hex.to_ascii_lowercase())),
                    )
                }
                None => (replacement, None),
            };
            if prefix.is_empty() || replacement.is_empty() {
                return Err(error(format!("{rule:?} has an empty side")));
            }
            if checksum.is_some() && (!prefix.contains("://") || prefix.ends_with('/')) {
                return Err(error(format!(
                    "a #sha256= rule names one file: {prefix:?} is not a file's whole URL"
                ))
                .with_help("write the download's URL as the PREFIX, e.g. https://repo.anaconda.com/miniconda/Miniconda3-py311_25.9.1-1-Linux-x86_64.sh=http://mirror/Miniconda3.sh#sha256=..."));
            }
            if prefix.contains("://") && !is_http_url(replacement) {
                return Err(error(format!(
                    "{replacement:?} is not an http(s) URL, and {prefix:?} is one"
                )));
            }
            rules.push((prefix.to_string(), replacement.to_string(), checksum));
        }
        Ok(DownloadMirrors { rules })
    }

    /// The rule with the longest prefix of `location`, if any.
    fn rule_for(&self, location: &str) -> Option<&(String, String, Option<String>)> {
        self.rules
            .iter()
            .filter(|(prefix, _, _)| location.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _, _)| prefix.len())
    }

    /// Where `file` of `release` is fetched from, for `version` (envd's
    /// own, or one the call names: then envd pinned no checksum), and the
    /// digest it must have.
    pub fn fetch(&self, release: &Release, file: &ReleaseFile, version: &str) -> Fetch {
        let (url, pinned) = if version == release.version {
            (
                file.url.to_string(),
                file.sha256.map(|hex| format!("sha256:{hex}")),
            )
        } else {
            (file.url.replace(release.version, version), None)
        };
        // A rule's checksum is of the one file it names.
        let checksum = self
            .rule_for(&url)
            .and_then(|(prefix, _, checksum)| checksum.clone().filter(|_| *prefix == url))
            .or(pinned);
        Fetch {
            url: self.rewrite(&url),
            checksum,
        }
    }

    /// Where the site's mirror serves what lies under `folder` (a URL
    /// ending in `/`), without that `/`; `None` when no rule rewrites it.
    /// For programs that take a mirror setting of their own (uv, rustup).
    pub fn folder_mirror(&self, folder: &str) -> Option<String> {
        let mirror = self.rewrite(folder);
        (mirror != folder).then(|| mirror.trim_end_matches('/').to_string())
    }

    /// `location` (a URL or an image reference) with the longest matching
    /// rule's prefix replaced.
    pub fn rewrite(&self, location: &str) -> String {
        match self.rule_for(location) {
            Some((prefix, replacement, _)) => {
                format!("{replacement}{}", &location[prefix.len()..])
            }
            None => location.to_string(),
        }
    }
}

impl Lowering<'_> {
    /// `release`'s file for the build's platform, as BuildKit fetches it
    /// (after the site's rewrites, checked against its checksum): a state
    /// holding the file at `/<envd's file name>`, or for an archive what it
    /// holds, extracted at `/`. It depends on nothing of the base, so every
    /// variant shares it.
    pub(crate) fn release(
        &self,
        span: &Span,
        release: &Release,
        version: &str,
    ) -> Result<State, Diagnostic> {
        let architecture = &self.options.platform.architecture;
        let file = release
            .file(architecture)
            .map_err(|message| Diagnostic::error(self.source, Some(span.range()), message))?;
        let fetch = self.site.download_mirrors.fetch(release, file, version);
        let name = file_name(file.url).replace(release.version, version);
        let what = format!("{} {version}", release.tool);
        let downloaded = self.download(span, &what, &fetch, &name)?;
        if !release.archive {
            return Ok(downloaded);
        }
        FileOp::new(&State::scratch())
            .copy(Copy::new(&downloaded, format!("/{name}"), "/").unpack(true))
            .custom_name(self.op_name(&format!("extract {name}")))
            .location(self.location(span))
            .build()
            .map_err(|e| self.llb_error(span, e))
    }

    /// A file BuildKit fetches as `fetch` says, named `name` in the state
    /// (executable, for the programs among them).
    pub(crate) fn download(
        &self,
        span: &Span,
        what: &str,
        fetch: &Fetch,
        name: &str,
    ) -> Result<State, Diagnostic> {
        let title = format!("download {what} ({})", fetch.url);
        let mut source = Http::new(fetch.url.clone())
            .filename(name)
            .perm(0o755)
            .custom_name(self.op_name(&title))
            .location(self.location(span));
        if let Some(checksum) = &fetch.checksum {
            source = source.checksum(checksum.clone());
        }
        source.build().map_err(|e| self.llb_error(span, e))
    }

    /// Installs what `release` (at `version`) holds: each `(path in the
    /// archive's folder, destination)` copied as one layer that every
    /// variant shares (an empty path: the whole folder).
    pub(crate) fn install_release(
        &mut self,
        span: &Span,
        builtin: &str,
        release: &Release,
        version: &str,
        copies: &[(&str, &str)],
    ) -> Result<(), Diagnostic> {
        let files = self.release(span, release, version)?;
        let folder = release.folder(&self.options.platform.architecture, version);
        let title = format!("{builtin} {} {version}", release.tool);
        self.add_layer(span, &title, |mut op| {
            for (path, dest) in copies {
                let src = [folder.as_str(), path]
                    .iter()
                    .filter(|part| !part.is_empty())
                    .fold(String::new(), |src, part| format!("{src}/{part}"));
                let src = if src.is_empty() { "/".to_string() } else { src };
                // A folder's contents, or a program (a file: the same
                // either way; saying so tells the Dockerfile export that
                // nothing is nested).
                op = op.copy(
                    Copy::new(&files, src, *dest)
                        .contents_only(true)
                        .create_dest_path(true),
                );
            }
            op
        })
    }

    /// A tool image envd v1 copies programs from, after the site's rewrites.
    pub(crate) fn tool_image(&self, span: &Span, reference: &str) -> Result<State, Diagnostic> {
        self.image_source(span, &self.site.download_mirrors.rewrite(reference))
    }
}

/// Which conda install.conda() put at /opt/conda.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CondaKind {
    Miniconda,
    Micromamba,
}

impl CondaKind {
    /// The program conda steps run.
    pub fn command(self) -> &'static str {
        match self {
            CondaKind::Miniconda => "/opt/conda/bin/conda",
            CondaKind::Micromamba => "/opt/conda/bin/micromamba",
        }
    }
}

/// envd 1.3.4's micromamba image (`microMambaImage`): install.python()
/// and install.conda(use_mamba=True) copy `/bin/micromamba` out of it.
pub const MICROMAMBA_IMAGE: &str = "ghcr.io/mamba-org/micromamba:2.3.3-debian12-slim";

/// Miniconda's installer, `condaVersionDefault` and checksums from envd
/// 1.3.4's `get_conda.sh`.
pub static MINICONDA: Release = Release {
    tool: "Miniconda",
    version: "py311_25.9.1-1",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://repo.anaconda.com/miniconda/Miniconda3-py311_25.9.1-1-Linux-x86_64.sh",
            sha256: Some("238abad23f8d4d8ba89dd05df0b0079e278909a36e06955f12bbef4aa94e6131"),
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://repo.anaconda.com/miniconda/Miniconda3-py311_25.9.1-1-Linux-aarch64.sh",
            sha256: Some("4e0723b9d76aa491cf22511dac36f4fdec373e41d2a243ff875e19b8df39bf94"),
        },
    ],
    archive: false,
    folder: None,
};

/// uv (`uvVersion` in envd 1.3.4's `uv.go`); envd pinned no checksum.
pub static UV: Release = Release {
    tool: "uv",
    version: "0.9.22",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://github.com/astral-sh/uv/releases/download/0.9.22/uv-x86_64-unknown-linux-gnu.tar.gz",
            sha256: None,
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://github.com/astral-sh/uv/releases/download/0.9.22/uv-aarch64-unknown-linux-gnu.tar.gz",
            sha256: None,
        },
    ],
    archive: true,
    folder: None,
};

/// Go (`golangDefaultVersion`); `install.go(version)` names another.
pub static GO: Release = Release {
    tool: "Go",
    version: "1.25.3",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://go.dev/dl/go1.25.3.linux-amd64.tar.gz",
            sha256: None,
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://go.dev/dl/go1.25.3.linux-arm64.tar.gz",
            sha256: None,
        },
    ],
    archive: true,
    folder: Some("go"),
};

/// Node.js (`nodejsDefaultVersion`). envd 1.3.4 asked for `linux-aarch64`
/// on arm64, a file nodejs.org does not publish; this asks for its
/// `linux-arm64`.
pub static NODEJS: Release = Release {
    tool: "Node.js",
    version: "25.1.0",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://nodejs.org/download/release/v25.1.0/node-v25.1.0-linux-x64.tar.gz",
            sha256: None,
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://nodejs.org/download/release/v25.1.0/node-v25.1.0-linux-arm64.tar.gz",
            sha256: None,
        },
    ],
    archive: true,
    folder: None,
};

/// Julia, with the checksums of envd 1.3.4's `julia.sh` (whose arm64
/// branch never matched; here it does).
pub static JULIA: Release = Release {
    tool: "Julia",
    version: "1.10.10",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://julialang-s3.julialang.org/bin/linux/x64/1.10/julia-1.10.10-linux-x86_64.tar.gz",
            sha256: Some("6a78a03a71c7ab792e8673dc5cedb918e037f081ceb58b50971dfb7c64c5bf81"),
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://julialang-s3.julialang.org/bin/linux/aarch64/1.10/julia-1.10.10-linux-aarch64.tar.gz",
            sha256: Some("a4b157ed68da10471ea86acc05a0ab61c1a6931ee592a9b236be227d72da50ff"),
        },
    ],
    archive: true,
    folder: Some("julia-1.10.10"),
};

/// pixi (`pixiVersion`): its archive holds the one program at its root.
pub static PIXI: Release = Release {
    tool: "pixi",
    version: "0.62.2",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://github.com/prefix-dev/pixi/releases/download/v0.62.2/pixi-x86_64-unknown-linux-musl.tar.gz",
            sha256: None,
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://github.com/prefix-dev/pixi/releases/download/v0.62.2/pixi-aarch64-unknown-linux-musl.tar.gz",
            sha256: None,
        },
    ],
    archive: true,
    folder: Some(""),
};

/// OpenAI's codex (`codexDefaultVersion`, a release tag). envd 1.x asked
/// GitHub for the newest release at each build; a build here takes this
/// one unless the call names a tag, so it gives the same image each time.
pub static CODEX: Release = Release {
    tool: "codex",
    version: "rust-v0.98.0",
    files: &[
        ReleaseFile {
            architecture: "amd64",
            url: "https://github.com/openai/codex/releases/download/rust-v0.98.0/codex-x86_64-unknown-linux-musl.tar.gz",
            sha256: None,
        },
        ReleaseFile {
            architecture: "arm64",
            url: "https://github.com/openai/codex/releases/download/rust-v0.98.0/codex-aarch64-unknown-linux-musl.tar.gz",
            sha256: None,
        },
    ],
    archive: true,
    folder: Some(""),
};

/// Every release this module pins, for the reference and the tests.
pub static RELEASES: &[&Release] = &[&MINICONDA, &UV, &GO, &NODEJS, &JULIA, &PIXI, &CODEX];

#[cfg(test)]
mod tests {
    use super::*;

    fn mirrors(value: &str) -> Result<DownloadMirrors, Diagnostic> {
        DownloadMirrors::from_build_args(&BTreeMap::from([(
            DOWNLOAD_MIRRORS_ARG.to_string(),
            value.to_string(),
        )]))
    }

    #[test]
    fn every_release_names_its_version_in_each_url_and_pins_well_formed_checksums() {
        for release in RELEASES {
            assert!(!release.files.is_empty(), "{}", release.tool);
            for file in release.files {
                assert!(
                    file.url.contains(release.version),
                    "{} {}",
                    release.tool,
                    file.url
                );
                assert!(file.url.starts_with("https://"), "{}", file.url);
                if let Some(hex) = file.sha256 {
                    assert_eq!(hex.len(), 64, "{}", file.url);
                    assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()));
                }
            }
        }
    }

    #[test]
    fn without_rules_envds_own_urls_and_checksums_are_fetched() {
        let fetch = DownloadMirrors::default().fetch(
            &MINICONDA,
            MINICONDA.file("amd64").unwrap(),
            MINICONDA.version,
        );
        assert_eq!(fetch.url, MINICONDA.files[0].url);
        assert_eq!(
            fetch.checksum.as_deref(),
            Some("sha256:238abad23f8d4d8ba89dd05df0b0079e278909a36e06955f12bbef4aa94e6131")
        );
        assert_eq!(
            DownloadMirrors::default().rewrite(MICROMAMBA_IMAGE),
            MICROMAMBA_IMAGE
        );
        assert_eq!(
            UV.folder("arm64", UV.version),
            "uv-aarch64-unknown-linux-gnu"
        );
        let err = UV.file("riscv64").unwrap_err();
        assert!(err.contains("amd64 and arm64 only"), "{err}");
    }

    #[test]
    fn the_longest_prefix_rewrites_and_keeps_the_pinned_checksum() {
        let m = mirrors(
            "https://repo.anaconda.com/=http://127.0.0.1:9/anaconda/ \
             https://repo.anaconda.com/miniconda/=http://127.0.0.1:9/mc/ \
             ghcr.io/mamba-org/=registry.local:5000/mamba/",
        )
        .unwrap();
        let fetch = m.fetch(
            &MINICONDA,
            MINICONDA.file("arm64").unwrap(),
            MINICONDA.version,
        );
        assert_eq!(
            fetch.url,
            "http://127.0.0.1:9/mc/Miniconda3-py311_25.9.1-1-Linux-aarch64.sh"
        );
        assert_eq!(
            fetch.checksum.as_deref(),
            Some("sha256:4e0723b9d76aa491cf22511dac36f4fdec373e41d2a243ff875e19b8df39bf94")
        );
        assert_eq!(
            m.rewrite(MICROMAMBA_IMAGE),
            "registry.local:5000/mamba/micromamba:2.3.3-debian12-slim"
        );
        // A URL no rule matches is envd's own.
        assert_eq!(
            m.fetch(&UV, UV.file("amd64").unwrap(), UV.version).url,
            UV.files[0].url
        );
    }

    #[test]
    fn another_version_is_fetched_from_envds_url_for_it_without_a_checksum() {
        let fetch = DownloadMirrors::default().fetch(&GO, GO.file("arm64").unwrap(), "1.22.1");
        assert_eq!(fetch.url, "https://go.dev/dl/go1.22.1.linux-arm64.tar.gz");
        assert_eq!(fetch.checksum, None);
        let julia =
            DownloadMirrors::default().fetch(&JULIA, JULIA.file("amd64").unwrap(), "1.10.10");
        assert!(julia.checksum.is_some());
        assert_eq!(NODEJS.folder("amd64", "24.0.0"), "node-v24.0.0-linux-x64");
        assert_eq!(GO.folder("amd64", "1.22.1"), "go");
        assert_eq!(PIXI.folder("amd64", PIXI.version), "");
    }

    #[test]
    fn a_folder_has_a_mirror_whether_its_rule_names_it_or_a_parent() {
        let folder = "https://static.rust-lang.org/";
        assert_eq!(DownloadMirrors::default().folder_mirror(folder), None);
        for rule in [
            "https://static.rust-lang.org/=http://m/rust/",
            "https://static.rust-lang.org=http://m/rust",
            "https://=http://m/rust/static.rust-lang.org/",
        ] {
            let mirror = mirrors(rule).unwrap().folder_mirror(folder);
            assert!(
                mirror
                    .as_deref()
                    .is_some_and(|m| m.starts_with("http://m/rust") && !m.ends_with('/')),
                "{rule}: {mirror:?}"
            );
        }
    }

    #[test]
    fn a_rule_may_give_the_checksum_of_what_it_fetches() {
        let hex = "ab".repeat(32);
        let m = mirrors(&format!(
            "{}=http://127.0.0.1:9/mc.sh#sha256={}",
            MINICONDA.files[0].url,
            hex.to_uppercase()
        ))
        .unwrap();
        let fetch = m.fetch(
            &MINICONDA,
            MINICONDA.file("amd64").unwrap(),
            MINICONDA.version,
        );
        assert_eq!(fetch.url, "http://127.0.0.1:9/mc.sh");
        assert_eq!(fetch.checksum, Some(format!("sha256:{hex}")));
        // The other architecture's file keeps envd's checksum.
        let arm = m.fetch(
            &MINICONDA,
            MINICONDA.file("arm64").unwrap(),
            MINICONDA.version,
        );
        assert_eq!(arm.url, MINICONDA.files[1].url);
        assert!(arm.checksum.unwrap().starts_with("sha256:4e0723b9"));
    }

    #[test]
    fn bad_rules_are_errors_at_the_rule() {
        let render = |value: &str| mirrors(value).unwrap_err().render();
        let err = render("https://github.com/=http://m/ nonsense");
        assert!(
            err.starts_with("--build-arg ENVD_DOWNLOAD_MIRRORS:1:31: error: \"nonsense\" is no PREFIX=REPLACEMENT rule"),
            "{err}"
        );
        assert!(render("=http://m/").contains("empty side"));
        assert!(render("https://github.com/=mirror/").contains("not an http(s) URL"));
        assert!(render("https://github.com/=http://m/#sha256=abc").contains("not a SHA-256"));
        let hex = "ab".repeat(32);
        assert!(
            render(&format!("https://github.com/=http://m/#sha256={hex}"))
                .contains("names one file")
        );
        assert!(render(&format!("ghcr.io/x=registry/x#sha256={hex}")).contains("names one file"));
        // Rules may be on lines of their own; the span is the rule's.
        let err = render("https://github.com/=http://m/\n\tbad");
        assert!(err.contains(":2:2: error: \"bad\" is no"), "{err}");
        let err = render("https://github.com/=http://user:secret@m/");
        assert!(
            err.contains("carries a login") && !err.contains("user:secret"),
            "{err}"
        );
    }
}

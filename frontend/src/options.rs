//! Frontend options from `BUILDKIT_FRONTEND_OPT_<n>=<key>=<value>`, read the
//! way BuildKit's `dockerui` reads them.

use std::collections::BTreeMap;
use std::time::Duration;

use envd_proto::opts;
use llb_gen::llb::{NetworkMode, Platform, ResolveMode};

/// A cache source to import (`--cache-from`), as BuildKit sends it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct CacheImport {
    #[serde(rename = "Type")]
    pub kind: String,
    #[serde(rename = "Attrs", default)]
    pub attrs: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub filename: String,
    pub dockerfile_key: String,
    pub context_key: String,
    pub target: Option<String>,
    pub build_args: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
    pub platforms: Vec<Platform>,
    pub no_cache: bool,
    pub network: NetworkMode,
    pub resolve_mode: ResolveMode,
    pub cache_imports: Vec<CacheImport>,
    pub request_id: Option<String>,
    pub session_id: Option<String>,
    /// Deadline of each lookup call to the daemon (`ENVD_FRONTEND_LOOKUP_TIMEOUT`).
    pub lookup_timeout: Duration,
    /// Mirrors of included repositories, by URL (`ENVD_INCLUDE_MIRRORS`).
    pub include_mirrors: BTreeMap<String, String>,
    /// An export asked for instead of the image (`ENVD_FRONTEND_EXPORT`).
    pub export: Option<Export>,
}

/// Build arg: `URL=MIRROR ...`, where included repositories come from (a
/// git URL, or `context:FOLDER`).
pub const INCLUDE_MIRRORS_ARG: &str = "ENVD_INCLUDE_MIRRORS";

/// Build arg: seconds a lookup call to the daemon may take.
pub const LOOKUP_TIMEOUT_ARG: &str = "ENVD_FRONTEND_LOOKUP_TIMEOUT";

/// How long a lookup (ping, inputs, image config, file stat or read) may
/// take before the build stops with an error rather than wait forever. A
/// registry that does not answer is the usual cause. Solves have none:
/// they may transfer a large context.
pub const DEFAULT_LOOKUP_TIMEOUT: Duration = Duration::from_secs(300);

/// Build arg that asks for an export instead of an image
/// ([`Export`]).
pub const EXPORT_ARG: &str = "ENVD_FRONTEND_EXPORT";

/// What a build returns instead of the image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Export {
    /// A Dockerfile that builds the same image (`llb_gen::export`), as the
    /// file `/Dockerfile` of the result.
    Dockerfile,
}

/// Build arg that asks for the frontend's report (`crate::report`).
pub const REPORT_ARG: &str = "ENVD_FRONTEND_REPORT";

/// Build arg that makes the compiler's thread panic: the hidden trigger
/// the end-to-end suite uses to check that a panic reaches the client as
/// an error. No build file can set it.
pub const TEST_PANIC_ARG: &str = "ENVD_FRONTEND_TEST_PANIC";

/// Options that change a build in ways this frontend does not implement.
const UNSUPPORTED: &[&str] = &[
    "add-hosts",
    "shm-size",
    "ulimit",
    "cgroup-parent",
    "hostname",
];

/// Options that are for BuildKit itself or the client, not the frontend.
const NOT_FOR_US: &[&str] = &[
    opts::SOURCE,
    opts::CMDLINE,
    "multi-platform",
    "exporter-image-config",
    "frontend.caps",
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OptionError {
    #[error("option {key}={value:?}: {reason}")]
    Invalid {
        key: String,
        value: String,
        reason: String,
    },
    #[error("option {0} is not supported by envd-frontend")]
    Unsupported(String),
}

impl Options {
    /// Reads the options from the environment.
    pub fn from_env() -> Result<Options, OptionError> {
        Options::parse(raw_from_env(), std::env::var(opts::ENV_SESSION_ID).ok())
    }

    pub fn parse(
        raw: Vec<(String, String)>,
        session_id: Option<String>,
    ) -> Result<Options, OptionError> {
        let mut options = Options {
            filename: opts::DEFAULT_FILENAME.to_string(),
            dockerfile_key: opts::DEFAULT_DOCKERFILE_KEY.to_string(),
            context_key: opts::DEFAULT_CONTEXT_KEY.to_string(),
            target: None,
            build_args: BTreeMap::new(),
            labels: BTreeMap::new(),
            platforms: vec![],
            no_cache: false,
            network: NetworkMode::Default,
            resolve_mode: ResolveMode::Default,
            cache_imports: vec![],
            request_id: None,
            session_id: session_id.filter(|s| !s.is_empty()),
            lookup_timeout: DEFAULT_LOOKUP_TIMEOUT,
            include_mirrors: BTreeMap::new(),
            export: None,
        };
        for (key, value) in raw {
            options.apply(key, value)?;
        }
        if let Some(value) = options.build_args.get(LOOKUP_TIMEOUT_ARG) {
            options.lookup_timeout = seconds(value).ok_or_else(|| OptionError::Invalid {
                key: format!("{}{LOOKUP_TIMEOUT_ARG}", opts::BUILD_ARG_PREFIX),
                value: value.clone(),
                reason: "expected a number of seconds above 0, at most a day".to_string(),
            })?;
        }
        if let Some(value) = options.build_args.get(INCLUDE_MIRRORS_ARG) {
            options.include_mirrors = mirrors(value).map_err(|reason| OptionError::Invalid {
                key: format!("{}{INCLUDE_MIRRORS_ARG}", opts::BUILD_ARG_PREFIX),
                // Shown without the logins of its URLs.
                value: llb_gen::validate::mask_logins(value),
                reason,
            })?;
        }
        if let Some(value) = options.build_args.get(EXPORT_ARG) {
            options.export = match value.as_str() {
                "dockerfile" => Some(Export::Dockerfile),
                _ => {
                    return Err(OptionError::Invalid {
                        key: format!("{}{EXPORT_ARG}", opts::BUILD_ARG_PREFIX),
                        value: value.clone(),
                        reason: "expected `dockerfile`, the one export there is".to_string(),
                    });
                }
            };
        }
        Ok(options)
    }

    /// Takes one option into account.
    fn apply(&mut self, key: String, value: String) -> Result<(), OptionError> {
        if let Some(arg) = key.strip_prefix(opts::BUILD_ARG_PREFIX) {
            self.build_args.insert(arg.to_string(), value);
            return Ok(());
        }
        if let Some(label) = key.strip_prefix(opts::LABEL_PREFIX) {
            self.labels.insert(label.to_string(), value);
            return Ok(());
        }
        if key.starts_with(opts::CONTEXT_PREFIX) {
            return Err(OptionError::Unsupported(format!("{key} (named contexts)")));
        }
        let invalid = |reason: &str| OptionError::Invalid {
            key: key.clone(),
            value: value.clone(),
            reason: reason.to_string(),
        };
        match key.as_str() {
            opts::FILENAME if !value.is_empty() => self.filename = value,
            opts::DOCKERFILE_KEY if !value.is_empty() => self.dockerfile_key = value,
            opts::CONTEXT_KEY if !value.is_empty() => self.context_key = value,
            opts::TARGET => self.target = Some(value).filter(|t| !t.is_empty()),
            opts::PLATFORM => self.platforms = platforms(&value).map_err(|e| invalid(&e))?,
            opts::NO_CACHE => self.no_cache = true,
            opts::FORCE_NETWORK_MODE => {
                self.network = match value.as_str() {
                    "host" => NetworkMode::Host,
                    "none" => NetworkMode::None,
                    "" | "sandbox" | "default" => NetworkMode::Default,
                    _ => return Err(invalid("expected host, none or sandbox")),
                }
            }
            opts::IMAGE_RESOLVE_MODE => {
                self.resolve_mode = match value.as_str() {
                    "" | "default" => ResolveMode::Default,
                    "pull" => ResolveMode::Pull,
                    "local" => ResolveMode::Local,
                    _ => return Err(invalid("expected default, pull or local")),
                }
            }
            opts::CACHE_IMPORTS if !value.is_empty() => {
                self.cache_imports = serde_json::from_str(&value)
                    .map_err(|e| invalid(&format!("not a JSON list of caches: {e}")))?;
            }
            opts::CACHE_IMPORTS => {}
            opts::REQUEST_ID => self.request_id = Some(value).filter(|r| !r.is_empty()),
            k if UNSUPPORTED.contains(&k) && !value.is_empty() => {
                return Err(OptionError::Unsupported(key));
            }
            k if NOT_FOR_US.contains(&k)
                || k.starts_with("attest:")
                || UNSUPPORTED.contains(&k) => {}
            _ => eprintln!("envd-frontend: ignoring unknown option {key}={value:?}"),
        }
        Ok(())
    }
}

/// The `KEY=VALUE` options BuildKit passes in `BUILDKIT_FRONTEND_OPT_<n>`.
pub fn raw_from_env() -> Vec<(String, String)> {
    std::env::vars()
        .filter(|(k, _)| k.starts_with(opts::ENV_OPT_PREFIX))
        .filter_map(|(_, v)| {
            v.split_once('=')
                .map(|(k, v)| (k.to_string(), v.to_string()))
        })
        .collect()
}

/// `URL=MIRROR` pairs separated by white space or commas.
fn mirrors(value: &str) -> Result<BTreeMap<String, String>, String> {
    value
        .split([',', ' ', '\n', '\t'])
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            // A mirror's URL goes into the git source op and its name.
            Some((_, mirror)) if llb_gen::validate::url_login(mirror).is_some() => Err(format!(
                "the mirror {:?} carries a login (user:password@), which BuildKit would keep with the git source and show in the step's name: name a mirror that needs no login",
                llb_gen::validate::masked_login(mirror),
            )),
            Some((url, mirror)) if !url.is_empty() && !mirror.is_empty() => {
                Ok((url.to_string(), mirror.to_string()))
            }
            _ => Err(format!(
                "expected URL=MIRROR pairs, got {:?}",
                llb_gen::validate::mask_logins(pair)
            )),
        })
        .collect()
}

/// `300`, `0.5`: a positive number of seconds, at most a day.
fn seconds(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    (seconds > 0.0 && seconds <= 86_400.0).then(|| Duration::from_secs_f64(seconds))
}

/// `linux/amd64,linux/arm64`: the platforms of a multi-platform build.
fn platforms(value: &str) -> Result<Vec<Platform>, String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| Platform::parse(p).map_err(|e| e.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(pairs: &[(&str, &str)]) -> Result<Options, OptionError> {
        Options::parse(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            Some("sess".into()),
        )
    }

    #[test]
    fn reads_what_buildx_sends() {
        let o = parse(&[
            ("image-resolve-mode", "local"),
            ("filename", "build.envd"),
            ("cmdline", "aiges/envd-frontend"),
            ("source", "aiges/envd-frontend"),
            ("platform", "linux/amd64,linux/arm64"),
            ("build-arg:FOO", "bar=baz"),
            ("label:team", "asr"),
            ("target", "build_gpu"),
            ("force-network-mode", "host"),
            ("no-cache", ""),
            (
                "cache-imports",
                r#"[{"Type":"local","Attrs":{"src":"/tmp/cache"}}]"#,
            ),
            ("attest:provenance", "mode=min"),
        ])
        .unwrap();
        assert_eq!(o.filename, "build.envd");
        assert_eq!(o.resolve_mode, ResolveMode::Local);
        assert_eq!(o.platforms.len(), 2);
        assert_eq!(o.build_args["FOO"], "bar=baz");
        assert_eq!(o.labels["team"], "asr");
        assert_eq!(o.target.as_deref(), Some("build_gpu"));
        assert_eq!(o.network, NetworkMode::Host);
        assert!(o.no_cache);
        assert_eq!(o.cache_imports[0].kind, "local");
        assert_eq!(o.cache_imports[0].attrs["src"], "/tmp/cache");
        assert_eq!(o.session_id.as_deref(), Some("sess"));
    }

    #[test]
    fn defaults_for_buildctl() {
        let o = parse(&[("source", "aiges/envd-frontend")]).unwrap();
        assert_eq!(
            (
                o.filename.as_str(),
                o.dockerfile_key.as_str(),
                o.context_key.as_str()
            ),
            ("build.envd", "dockerfile", "context")
        );
        assert!(o.platforms.is_empty() && o.target.is_none() && !o.no_cache);
    }

    #[test]
    fn bad_or_unsupported_options_are_errors() {
        assert!(matches!(
            parse(&[("platform", "linux")]),
            Err(OptionError::Invalid { .. })
        ));
        assert!(matches!(
            parse(&[("force-network-mode", "bridge")]),
            Err(OptionError::Invalid { .. })
        ));
        assert!(matches!(
            parse(&[("cache-imports", "{")]),
            Err(OptionError::Invalid { .. })
        ));
        assert_eq!(
            parse(&[("add-hosts", "a=1.2.3.4")]),
            Err(OptionError::Unsupported("add-hosts".into()))
        );
        assert!(parse(&[("add-hosts", "")]).is_ok());
        assert!(matches!(
            parse(&[("context:base", "docker-image://x")]),
            Err(OptionError::Unsupported(_))
        ));
    }

    #[test]
    fn export_from_its_build_arg() {
        assert_eq!(parse(&[]).unwrap().export, None);
        let arg = format!("build-arg:{EXPORT_ARG}");
        assert_eq!(
            parse(&[(&arg, "dockerfile")]).unwrap().export,
            Some(Export::Dockerfile)
        );
        for bad in ["Dockerfile", "llb", ""] {
            assert!(
                matches!(parse(&[(&arg, bad)]), Err(OptionError::Invalid { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn lookup_timeout_from_its_build_arg() {
        assert_eq!(parse(&[]).unwrap().lookup_timeout, DEFAULT_LOOKUP_TIMEOUT);
        let arg = format!("build-arg:{LOOKUP_TIMEOUT_ARG}");
        assert_eq!(
            parse(&[(&arg, "0.5")]).unwrap().lookup_timeout,
            Duration::from_millis(500)
        );
        for bad in ["0", "-1", "soon", "1e9", "NaN", ""] {
            assert!(
                matches!(parse(&[(&arg, bad)]), Err(OptionError::Invalid { .. })),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn the_compiler_knows_the_frontends_settings() {
        // A setting missing there would be warned about as unknown.
        for setting in [
            INCLUDE_MIRRORS_ARG,
            LOOKUP_TIMEOUT_ARG,
            REPORT_ARG,
            EXPORT_ARG,
            TEST_PANIC_ARG,
        ] {
            assert!(
                llb_gen::lower::FRONTEND_SETTINGS.contains(&setting),
                "{setting}"
            );
        }
    }

    #[test]
    fn an_include_mirror_with_a_login_is_refused_and_never_shown() {
        let arg = format!("build-arg:{INCLUDE_MIRRORS_ARG}");
        let error = parse(&[(
            &arg,
            "https://git.example/a.git=https://ci:s3cret@mirror.example/a.git",
        )])
        .unwrap_err()
        .to_string();
        assert!(error.contains("carries a login"), "{error}");
        assert!(!error.contains("s3cret"), "{error}");
    }

    #[test]
    fn include_mirrors_from_their_build_arg() {
        let arg = format!("build-arg:{INCLUDE_MIRRORS_ARG}");
        let o = parse(&[(
            &arg,
            "https://github.com/tensorchord/envdlib=git://git.local/envdlib.git, https://x/y=http://m/y",
        )])
        .unwrap();
        assert_eq!(
            o.include_mirrors["https://github.com/tensorchord/envdlib"],
            "git://git.local/envdlib.git"
        );
        assert_eq!(o.include_mirrors.len(), 2);
        assert!(matches!(
            parse(&[(&arg, "https://x/y")]),
            Err(OptionError::Invalid { .. })
        ));
    }
}

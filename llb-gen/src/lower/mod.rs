//! IR to LLB and image config: the machinery every builtin's lowering
//! shares (the base and its family, steps run with the image's env and
//! caches, layers of files, context access). Each builtin lowers its own
//! step (`crate::builtins`). The base image's config comes through an
//! injected [`BaseResolver`]; context files through [`ContextFiles`]. Every
//! op is named for progress output and located at its call.

mod apt;
mod base;
mod base_platform;
pub(crate) mod conda_env;
pub(crate) mod conda_mirror;
mod context;
pub mod downloads;
mod family;
mod ignore;
mod image_config;
mod layers;
pub(crate) use layers::parent_folder;
pub(crate) mod requirements;
pub(crate) mod secrets;
pub(crate) mod shell;
mod site;

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, Located, Span};
use crate::lint::{BASE_IMAGE_UNPINNED, Rule};
use crate::llb::{
    CacheMount, CacheSharing, Exec, Image, LlbError, Mount, NetworkMode, Platform, ResolveMode,
    SourceFile, SourceLocation, SourceRange, State, WithOpOptions,
};

pub use base::{
    DEFAULT_BASES, OVERRIDE_ANY, OVERRIDE_PREFIX, base_aliases, override_arg, table_image,
    table_name,
};
pub use conda_mirror::{CONDA_CHANNEL_ARG, CondaMirror};
pub use context::{ContextFiles, ContextSource, FileKind};
pub use family::INSTALL_BASE_ARG;
pub use ignore::{DOCKERIGNORE, Ignore};
pub use image_config::{ContainerConfig, DEFAULT_PATH, History, ImageConfig, setting_keys};
pub use secrets::{LOGIN_HELP, NETRC_SECRET_ID, check_kept_text, conda_login_in_url, login_in_url};
pub use site::{
    FRONTEND_SETTINGS, PIP_INDEX_ARG, PYTHON_VERSION_ARG, PipIndexSettings, SETTINGS, SiteSettings,
    describe_setting, known_settings,
};

/// Label holding the SHA-256 of the build.envd the image was built from.
pub const LABEL_BUILD_DIGEST: &str = "io.github.aiges.envd-frontend.build-digest";
/// Label holding the target function that was run.
pub const LABEL_TARGET: &str = "io.github.aiges.envd-frontend.target";

/// Cache mount ids, the same for every project and variant so downloads are shared.
pub const PIP_CACHE_ID: &str = "envd-frontend/pip";
pub const CONDA_CACHE_ID: &str = "envd-frontend/conda-pkgs";
pub const APT_CACHE_ID: &str = "envd-frontend/apt-cache";
pub const APT_LISTS_ID: &str = "envd-frontend/apt-lists";
const PIP_CACHE_DIR: &str = "/var/cache/envd-frontend/pip";
const CONDA_PKGS_DIR: &str = "/var/cache/envd-frontend/conda-pkgs";
/// Where context files an install step reads are mounted.
pub(crate) const CONTEXT_MOUNT: &str = "/tmp/envd-frontend/context";

/// envd v1's development user, its uid and gid where free, and its folder
/// (envd named it after the client's folder, which BuildKit does not send).
const DEV_USER: &str = "envd";
const DEV_ID: u32 = 1000;
pub const DEV_FOLDER: &str = "/home/envd/build-context";

/// The base image as the resolver found it.
#[derive(Clone, Debug)]
pub struct ResolvedBase {
    /// Manifest digest to pin, when known.
    pub digest: Option<String>,
    pub config: ImageConfig,
}

/// Looks up a base image's config (and digest) for a platform.
pub trait BaseResolver {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<ResolvedBase, String>;
    /// A hint that `reference` is about to be resolved: a resolver that asks
    /// a daemon may start now. The default does nothing.
    fn prefetch(&self, _reference: &str, _platform: &Platform) {}
}

/// Lowering settings that come from the frontend's options.
#[derive(Clone, Debug)]
pub struct LowerOptions {
    /// Name of the build file, as shown in errors and the source map.
    pub filename: String,
    pub platform: Platform,
    /// Network of steps that download (`host` reaches a local index).
    pub network: NetworkMode,
    pub resolve_mode: ResolveMode,
    pub context: ContextSource,
    pub build_args: BTreeMap<String, String>,
    /// Run every step even when cached (`--no-cache`).
    pub no_cache: bool,
    /// Build files as base-independent layers merged onto the image; off
    /// for daemons without merge ops (`mergeop` cap).
    pub merge_layers: bool,
    /// The build makes several platforms: each op's progress name starts
    /// with its platform (`[linux/arm64 build.envd:6] ...`), as the
    /// Dockerfile frontend's `[linux/arm64 2/3] RUN ...`.
    pub platform_in_names: bool,
    /// The graph is for a Dockerfile export (`crate::export`): files are
    /// copied onto the image, and what needs merge ops is refused as
    /// something a Dockerfile cannot say.
    pub dockerfile_export: bool,
}

impl Default for LowerOptions {
    fn default() -> LowerOptions {
        LowerOptions {
            filename: "build.envd".to_string(),
            platform: Platform::new("linux", "amd64"),
            network: NetworkMode::Default,
            resolve_mode: ResolveMode::Default,
            context: ContextSource::default(),
            build_args: BTreeMap::new(),
            no_cache: false,
            merge_layers: true,
            platform_in_names: false,
            dockerfile_export: false,
        }
    }
}

/// The result: the image's filesystem and its config.
#[derive(Clone, Debug)]
pub struct Lowered {
    pub state: State,
    pub config: ImageConfig,
    /// The base image reference, after the table and overrides.
    pub base_image: String,
    /// The base image's config as the resolver gave it: what the image's
    /// settings start from.
    pub base_config: ImageConfig,
    /// The build.envd line of the step that last changed each setting of
    /// the image's config (keys as [`image_config::setting_keys`] names).
    pub config_lines: BTreeMap<String, usize>,
    /// Warnings about the files the steps read (env.yaml and the like).
    pub warnings: Vec<Diagnostic>,
}

/// Lowering in progress: the state so far and the config it will have.
/// Builtins lower their steps through its methods and fields.
pub struct Lowering<'a> {
    base: &'a Located<BaseRequest>,
    pub(crate) source: &'a SourceText,
    file: SourceFile,
    pub(crate) options: &'a LowerOptions,
    /// The context, less what `.dockerignore` leaves out.
    pub(crate) files: ignore::Filtered<'a>,
    state: State,
    /// The config the image gets.
    pub(crate) config: ImageConfig,
    /// The config steps run with: the install base's in a base family,
    /// else the same as `config`. Env changes go to both.
    pub(crate) exec_config: ImageConfig,
    /// In a base family: where the steps' changes are merged at the end.
    family: Option<family::FamilyMerge>,
    base_image: String,
    /// Index settings build.envd configured, passed to later pip and run steps.
    pub(crate) pip_env: Vec<(String, String)>,
    /// conda's settings from the site's mirror (`CONDA_*`), for every step.
    pub(crate) conda_env: Vec<(String, String)>,
    pub(crate) site: SiteSettings,
    /// Package mirrors set by configuration steps, by kind (`cran`).
    mirrors: BTreeMap<&'static str, String>,
    /// Kinds of package installed so far, whose mirror can no longer change.
    mirrors_used: BTreeSet<&'static str>,
    /// Warnings about what the steps read.
    pub(crate) warnings: Vec<Diagnostic>,
    /// The entrypoint build.envd's `config.entrypoint` calls made so far
    /// (they add up), which replaces the base image's.
    pub(crate) entrypoint: Vec<String>,
    /// envd v1: the conda `install.conda()` put at /opt/conda, once lowered.
    pub(crate) v1_conda: Option<downloads::CondaKind>,
    /// envd v1's folders its dev user must own, chowned before `run`.
    dev_owned: Vec<&'static str>,
    base_config: ImageConfig,
    /// The config's settings as the last recorded step left them, and the
    /// line of the step that last changed each ([`Lowered::config_lines`]).
    recorded_settings: BTreeMap<String, String>,
    config_lines: BTreeMap<String, usize>,
}

impl<'a> Lowering<'a> {
    /// Starts from the base `base()` asked for; `context_paths` are the
    /// files the steps will read, looked up together with the base.
    pub fn new(
        base: &'a Located<BaseRequest>,
        context_paths: &[String],
        source: &'a SourceText,
        options: &'a LowerOptions,
        files: &'a dyn ContextFiles,
        resolver: &dyn BaseResolver,
    ) -> Result<Lowering<'a>, Diagnostic> {
        base::check_overrides(&options.build_args)?;
        let site = SiteSettings::from_build_args(&options.build_args)?;
        let base_span = base.span.range();
        let base_image = base::resolve_reference(source, base, &options.build_args)?;
        let install_base = family::install_base_reference(&options.build_args)?;
        // The frontend's lookups are daemon round trips: start them together.
        resolver.prefetch(&base_image, &options.platform);
        if let Some(install_base) = &install_base
            && !family::same_image(install_base, &base_image)
        {
            resolver.prefetch(install_base, &options.platform);
        }
        // Only a client's folder has a .dockerignore to read (see
        // `read_dockerignore`).
        let mut prefetched: Vec<String> = options
            .context
            .is_local()
            .then(|| DOCKERIGNORE.to_string())
            .into_iter()
            .collect();
        prefetched.extend(context_paths.iter().cloned());
        files.prefetch(&prefetched);
        // An install.cuda() image is chosen at that call.
        let chosen_at = base
            .value
            .cuda
            .as_ref()
            .map_or(base_span.clone(), |cuda| cuda.span.range());
        let platform = &options.platform;
        let resolved = resolver.resolve(&base_image, platform).map_err(|e| {
            Diagnostic::error(
                source,
                Some(chosen_at.clone()),
                format!("cannot resolve base image {base_image} for {platform}: {e}"),
            )
            .with_help(format!(
                "point base names at images you have with --build-arg {}=IMAGE or {}<NAME>=IMAGE",
                OVERRIDE_ANY, OVERRIDE_PREFIX
            ))
        })?;
        let checked = base_platform::Checked {
            what: "base image",
            reference: &base_image,
            set_by: base::chosen_by_build_arg(base, &options.build_args),
        };
        let platform_warning =
            base_platform::check(source, chosen_at, &checked, &resolved.config, platform)?;
        let ignore = read_dockerignore(files, options, source, &base.span)?;
        let base_config = resolved.config.clone();
        let mut config = resolved.config;
        config.set_platform(platform);
        let file = SourceFile::new(&options.filename, source.text(), "starlark");
        let image_state = |reference: &str, digest: Option<String>| {
            let mut image = Image::new(reference)
                .resolve_mode(options.resolve_mode)
                .platform(options.platform.clone())
                .custom_name(op_name(options, &format!("base {reference}")))
                .location(location(&file, source, &base.span));
            if let Some(digest) = digest {
                image = image.digest(digest);
            }
            image.build().map_err(|e| {
                Diagnostic::error(source, Some(base_span.clone()), format!("base(): {e}"))
            })
        };
        let base_state = image_state(&base_image, resolved.digest)?;
        let mut warnings: Vec<Diagnostic> = platform_warning.into_iter().collect();
        warnings.extend(base::cuda_version_warning(
            source,
            base,
            &options.build_args,
        ));
        let (state, exec_config, family) = match install_base {
            Some(install_base) if !family::same_image(&install_base, &base_image) => {
                let start = family::start(
                    family::Request {
                        source,
                        base_span: base_span.clone(),
                        options,
                        resolver,
                        base_image: &base_image,
                        base_config: &config,
                        install_base,
                    },
                    base_state,
                    image_state,
                )?;
                warnings.extend(start.platform_warning);
                (start.state, start.exec_config, Some(start.merge))
            }
            _ => (base_state, config.clone(), None),
        };
        let mut lowering = Lowering {
            base,
            source,
            file,
            options,
            files: ignore::Filtered::new(files, ignore),
            state,
            config,
            exec_config,
            family,
            base_image,
            pip_env: site.pip_env(),
            conda_env: site
                .conda_mirror
                .as_ref()
                .map(|mirror| mirror.env(None))
                .unwrap_or_default(),
            site,
            mirrors: BTreeMap::new(),
            mirrors_used: BTreeSet::new(),
            warnings,
            entrypoint: vec![],
            v1_conda: None,
            dev_owned: vec![],
            recorded_settings: image_config::setting_keys(&base_config),
            base_config,
            config_lines: BTreeMap::new(),
        };
        lowering
            .warnings
            .extend(secrets::build_arg_warnings(&options.build_args));
        lowering
            .warnings
            .extend(site::unknown_setting_warnings(&options.build_args));
        if let Some(problem) = base::unpinned_in_file(base, &options.build_args) {
            let help = format!(
                "name a version, e.g. {:?}, or a digest (@sha256:...)",
                format!("{}:1.0", base::without_tag(&base.value.image))
            );
            lowering.warn(
                &BASE_IMAGE_UNPINNED,
                &base.span,
                format!("base(): the image {:?} {problem}", base.value.image),
                &help,
            );
        }
        if base.value.dev {
            lowering.dev_user()?;
        }
        lowering.ensure_python()?;
        lowering.check_other_language()?;
        Ok(lowering)
    }

    /// A first step that makes `python` the version `base()` (or the site)
    /// asks for.
    fn ensure_python(&mut self) -> Result<(), Diagnostic> {
        let python = match (&self.base.value.python, &self.site.python) {
            (Some(_), Some(site)) => Some(site.clone()),
            (requested, _) => requested.clone(),
        };
        if let Some(python) = &python {
            let span = self.base.span.clone();
            let script = base::ensure_python_script(python, span.line, &self.options.filename);
            let name = format!("base: python {}", python.version());
            self.exec_step(&span, &name, script, vec![self.conda_cache()])?;
        }
        Ok(())
    }

    /// A first step that fails at `base()` when the base lacks the R or
    /// Julia that `language=` names.
    fn check_other_language(&mut self) -> Result<(), Diagnostic> {
        let Some(language) = self.base.value.other_language else {
            return Ok(());
        };
        let span = self.base.span.clone();
        let program = language.program();
        let failure = self.failure(
            &span,
            &format!(
                "base(language=...) names {}, and the base image has no {program} on its PATH",
                language.name()
            ),
        );
        let script = format!(
            "command -v {program} >/dev/null 2>&1 || {{ echo {} >&2; exit 127; }}
",
            shell::quote(&failure)
        );
        let name = format!("base: {}", language.name());
        self.exec_step(&span, &name, script, vec![])
    }

    /// A mirror a configuration step set for a kind of package (`cran`);
    /// later installs of that kind use it.
    pub(crate) fn set_mirror(
        &mut self,
        kind: &'static str,
        url: &str,
        span: &Span,
        builtin: &str,
    ) -> Result<(), Diagnostic> {
        if self.mirrors_used.contains(kind) {
            return Err(Diagnostic::error(
                self.source,
                Some(span.range()),
                format!("{builtin}() comes after the installs it is for"),
            )
            .with_help(format!("call {builtin}() before them")));
        }
        self.mirrors.insert(kind, url.to_string());
        Ok(())
    }

    /// The mirror set for a kind of package, if any; a mirror set after
    /// this is an error.
    pub(crate) fn mirror(&mut self, kind: &'static str) -> Option<String> {
        self.mirrors_used.insert(kind);
        self.mirrors.get(kind).cloned()
    }

    /// The image, once every step is lowered: a base family's changes
    /// merged onto the base, and the labels naming the build.
    pub fn finish(mut self, target: &str) -> Result<Lowered, Diagnostic> {
        self.settle_dev_ownership()?;
        if let Some(family) = self.family.take() {
            let location = self.location(&self.base.span);
            self.state = family.finish(&self.state, &self.base_image, location, |name| {
                self.op_name(name)
            });
        }
        let digest = crate::llb::sha256_hex(self.source.text().as_bytes());
        self.config
            .set_label(LABEL_BUILD_DIGEST, &format!("sha256:{digest}"));
        self.config.set_label(LABEL_TARGET, target);
        // The labels naming the build belong to the build as a whole: the
        // line that starts it, base().
        let base_line = self.base.span.line;
        self.record_settings(base_line);
        Ok(Lowered {
            state: self.state,
            config: self.config,
            base_image: self.base_image,
            base_config: self.base_config,
            config_lines: self.config_lines,
            warnings: self.warnings,
        })
    }

    /// Runs a step's script on the image and records it in the history.
    pub(crate) fn exec_step(
        &mut self,
        span: &Span,
        name: &str,
        script: String,
        mounts: Vec<Mount>,
    ) -> Result<(), Diagnostic> {
        let cwd = self.exec_config.working_dir().to_string();
        self.exec_step_in(span, name, script, mounts, &cwd)
    }

    /// [`Self::exec_step`] in the folder `cwd` rather than the image's
    /// working directory.
    pub(crate) fn exec_step_in(
        &mut self,
        span: &Span,
        name: &str,
        script: String,
        mounts: Vec<Mount>,
        cwd: &str,
    ) -> Result<(), Diagnostic> {
        self.exec_step_as(span, name, script, mounts, cwd, None)
    }

    /// [`Self::exec_step_in`] as `user` (root, the default, when `None`).
    pub(crate) fn exec_step_as(
        &mut self,
        span: &Span,
        name: &str,
        script: String,
        mounts: Vec<Mount>,
        cwd: &str,
        user: Option<&str>,
    ) -> Result<(), Diagnostic> {
        self.state = self.exec(span, name, script, mounts, cwd, user)?;
        self.history(span, name, false);
        Ok(())
    }

    /// Runs a shell script on the current state in `cwd`, with the image's
    /// env, the step's network, and the given mounts. Its progress name
    /// starts with the build.envd line (`[build.envd:4] run ...`, as
    /// Dockerfile steps start with `[2/3]`): every client shows it next to
    /// a failure, Docker 20.10's `docker build` included, which shows no
    /// source excerpts. A name is not part of the step's cache key.
    fn exec(
        &self,
        span: &Span,
        name: &str,
        script: String,
        mounts: Vec<Mount>,
        cwd: &str,
        user: Option<&str>,
    ) -> Result<State, Diagnostic> {
        let mut exec = Exec::new(&self.state, ["/bin/sh", "-c", script.as_str()])
            .cwd(cwd)
            .user(user.unwrap_or_default())
            .network(self.options.network)
            .custom_name(self.step_name(span, name))
            .ignore_cache(self.options.no_cache)
            .location(self.location(span));
        if self.exec_config.env_value("PATH").is_none() {
            exec = exec.env("PATH", DEFAULT_PATH);
        }
        for kv in self.exec_config.env() {
            if let Some((key, value)) = kv.split_once('=') {
                exec = exec.env(key, value);
            }
        }
        // Debian-based Pythons refuse pip installs outside a venv (PEP 668);
        // a container image is the environment, so allow it in build steps.
        exec = exec
            .env("PIP_BREAK_SYSTEM_PACKAGES", "1")
            .env("PIP_CACHE_DIR", PIP_CACHE_DIR);
        exec = exec.env("CONDA_PKGS_DIRS", CONDA_PKGS_DIR);
        for (key, value) in self.pip_env.iter().chain(&self.conda_env) {
            exec = exec.env(key, value);
        }
        // The mirrors' logins, for every step that may download: the
        // secret's path is in the op, its content in nothing kept.
        exec = exec
            .env("NETRC", secrets::NETRC_PATH)
            .mount(secrets::netrc_mount());
        for mount in mounts {
            exec = exec.mount(mount);
        }
        exec.build()
            .map(|e| e.root())
            .map_err(|e| self.llb_error(span, e))
    }

    /// envd v1's `base(dev=True)` image, as far as an image needs it: the
    /// user `envd` (the uid and gid `config.owner` gives, else 1000 where
    /// free; envd took the host's), its folder as the working directory,
    /// `USER` in the environment, and the image's user.
    fn dev_user(&mut self) -> Result<(), Diagnostic> {
        let span = self.base.span.clone();
        // Root's ids are taken by root: envd's user shares them (`-o`).
        let (uid, gid, shared) = match self.base.value.owner {
            Some((uid, gid)) => (uid, gid, if uid == 0 || gid == 0 { " -o" } else { "" }),
            None => (DEV_ID, DEV_ID, ""),
        };
        let missing = self.failure(
            &span,
            "base(dev=True) needs useradd and groupadd on the base image",
        );
        let script = format!(
            "set -eu\n\
             command -v useradd >/dev/null && command -v groupadd >/dev/null || {{ echo {} >&2; exit 127; }}\n\
             if ! id envd >/dev/null 2>&1; then\n\
             getent group envd >/dev/null 2>&1 || groupadd{shared} -g {gid} envd 2>/dev/null || groupadd envd\n\
             useradd{shared} -m -g envd -s /bin/sh -u {uid} envd 2>/dev/null || useradd -m -g envd -s /bin/sh envd\n\
             fi\n\
             install -d -o envd -g envd {DEV_FOLDER}\n",
            shell::quote(&missing)
        );
        self.exec_step_in(&span, "base(dev=True) user envd", script, vec![], "/")?;
        self.set_env("USER", DEV_USER);
        self.config.config.user = Some(DEV_USER.to_string());
        self.config.config.working_dir = Some(DEV_FOLDER.to_string());
        self.record_settings(span.line);
        Ok(())
    }

    /// A folder envd v1's dev user owns (`base(dev=True)`), as envd gave
    /// it the folders its tools install into (conda's, R's, Julia's).
    pub(crate) fn own_for_dev(&mut self, folder: &'static str) {
        if self.base.value.dev && !self.dev_owned.contains(&folder) {
            self.dev_owned.push(folder);
        }
    }

    /// Gives the dev user the folders [`Self::own_for_dev`] named so far, as
    /// envd 1.x did before its `run` steps.
    pub(crate) fn settle_dev_ownership(&mut self) -> Result<(), Diagnostic> {
        if self.dev_owned.is_empty() {
            return Ok(());
        }
        let folders = std::mem::take(&mut self.dev_owned);
        let span = self.base.span.clone();
        let script = format!(
            "set -eu
for folder in {}; do [ ! -e \"$folder\" ] || chown -R {DEV_USER}:{DEV_USER} \"$folder\"; done
",
            folders.join(" ")
        );
        self.exec_step_in(
            &span,
            &format!("base(dev=True) user envd owns {}", folders.join(", ")),
            script,
            vec![],
            "/",
        )
    }

    /// Sets a variable in the image's environment and later steps'.
    pub(crate) fn set_env(&mut self, key: &str, value: &str) {
        for config in [&mut self.config, &mut self.exec_config] {
            config.set_env(key, value);
        }
    }

    /// Appends folders to the PATH of the image and of later steps.
    pub(crate) fn append_path(&mut self, dirs: &[&str]) {
        let dirs: Vec<String> = dirs.iter().map(|dir| dir.to_string()).collect();
        for config in [&mut self.config, &mut self.exec_config] {
            config.append_path(&dirs);
        }
    }

    /// The user envd v1's `run` steps run as: envd's in a dev image.
    pub(crate) fn run_user(&self) -> Option<String> {
        self.base.value.dev.then(|| DEV_USER.to_string())
    }

    /// The progress name of a step that runs commands: its build.envd
    /// line, after its platform in a multi-platform build.
    fn step_name(&self, span: &Span, name: &str) -> String {
        let at = format!("{}:{}", self.options.filename, span.line);
        if self.options.platform_in_names {
            format!("[{} {at}] {name}", self.options.platform)
        } else {
            format!("[{at}] {name}")
        }
    }

    /// The progress name of an op of this platform's graph.
    pub(crate) fn op_name(&self, name: &str) -> String {
        op_name(self.options, name)
    }

    pub(crate) fn pip_cache(&self) -> Mount {
        CacheMount::new(PIP_CACHE_DIR, PIP_CACHE_ID)
            .sharing(CacheSharing::Shared)
            .into()
    }

    pub(crate) fn conda_cache(&self) -> Mount {
        CacheMount::new(CONDA_PKGS_DIR, CONDA_CACHE_ID)
            .sharing(CacheSharing::Locked)
            .into()
    }

    /// Records a step in the image's history, with its build.envd line,
    /// and the settings of the config it changed.
    pub(crate) fn history(&mut self, span: &Span, name: &str, empty_layer: bool) {
        self.config.add_history(
            format!("envd-frontend: {name}"),
            format!("{}:{}", self.options.filename, span.line),
            empty_layer,
        );
        self.record_settings(span.line);
    }

    /// Notes `line` as the line of every config setting changed since the
    /// last record.
    fn record_settings(&mut self, line: usize) {
        let now = image_config::setting_keys(&self.config);
        for (key, value) in &now {
            if self.recorded_settings.get(key) != Some(value) {
                self.config_lines.insert(key.clone(), line);
            }
        }
        self.recorded_settings = now;
    }

    /// A finding of lint rule `rule` at the call `span` is.
    pub(crate) fn warn(&mut self, rule: &'static Rule, span: &Span, message: String, help: &str) {
        self.warnings.push(
            Diagnostic::warning(rule, self.source, Some(span.range()), message).with_help(help),
        );
    }

    pub(crate) fn llb_error(&self, span: &Span, error: LlbError) -> Diagnostic {
        Diagnostic::error(self.source, Some(span.range()), error.to_string())
    }

    pub(crate) fn location(&self, span: &Span) -> SourceLocation {
        location(&self.file, self.source, span)
    }

    pub(crate) fn scratch(&self) -> State {
        State::scratch().with_platform(self.options.platform.clone())
    }

    /// Shell lines that set `py` to the image's Python or fail clearly.
    pub(crate) fn find_python(&self, span: &Span, what: &str) -> String {
        format!(
            "py=\"$(command -v python || command -v python3 || true)\"\n[ -n \"$py\" ] || {{ echo {} >&2; exit 127; }}",
            shell::quote(&self.failure(
                span,
                &format!("{what} needs python or python3 on the base image's PATH")
            ))
        )
    }

    /// `command`, with a line saying how to give the mirrors' login when
    /// it fails in a build without one.
    pub(crate) fn with_login_hint(&self, span: &Span, tool: &str, command: &str) -> String {
        secrets::with_login_hint(command, tool, |message| self.failure(span, message))
    }

    /// A build-time failure message naming the build.envd line.
    pub(crate) fn failure(&self, span: &Span, message: &str) -> String {
        format!(
            "envd-frontend: {}:{}: {message}",
            self.options.filename, span.line
        )
    }
}

/// The context's `.dockerignore`, when it has one and the context is the
/// client's folder (BuildKit applies the patterns to local transfers; a
/// context passed as an input state is taken as the client made it). A
/// failure to read it is an error at `base()`, where the build starts; a
/// bad pattern is an error at its line.
fn read_dockerignore(
    files: &dyn ContextFiles,
    options: &LowerOptions,
    source: &SourceText,
    base: &Span,
) -> Result<Ignore, Diagnostic> {
    if !options.context.is_local() {
        return Ok(Ignore::default());
    }
    let text = match files.read(DOCKERIGNORE) {
        Ok(None) => return Ok(Ignore::default()),
        Ok(Some(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) => {
            return Err(Diagnostic::error(
                source,
                Some(base.range()),
                format!("cannot read the build context's {DOCKERIGNORE}: {e}"),
            ));
        }
    };
    Ignore::parse(&text).map_err(|e| {
        let file = SourceText::new(DOCKERIGNORE, text.clone());
        let start = text
            .split_inclusive('\n')
            .take(e.line - 1)
            .map(str::len)
            .sum::<usize>();
        let end = text[start..].find('\n').map_or(text.len(), |n| start + n);
        Diagnostic::error(&file, Some(start..end), e.message)
    })
}

/// An op's progress name: after its platform in a multi-platform build,
/// where every platform has its own op.
fn op_name(options: &LowerOptions, name: &str) -> String {
    if options.platform_in_names {
        format!("[{}] {name}", options.platform)
    } else {
        name.to_string()
    }
}

/// The op location of a call: its line range in build.envd.
fn location(file: &SourceFile, source: &SourceText, span: &Span) -> SourceLocation {
    let (end_line, _) = source.line_col(span.end);
    file.location([SourceRange::lines(span.line as u32, end_line as u32)])
}

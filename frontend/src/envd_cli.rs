//! The `envd build` drop-in: envd 0.4's command line (`envd build -t
//! NAME:TAG -f build.envd[:FUNC] [-p PATH]`), turned into the `docker buildx
//! build` call that builds the same image through envd-frontend, so CI
//! scripts that call envd keep working. Flags envd had that make no sense
//! for an image build are refused with the reason.

use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand};
use llb_gen::lower::downloads::DOWNLOAD_MIRRORS_ARG;
use llb_gen::lower::{
    CONDA_CHANNEL_ARG, INSTALL_BASE_ARG, OVERRIDE_ANY, OVERRIDE_PREFIX, PIP_INDEX_ARG,
    PYTHON_VERSION_ARG,
};

use crate::options::{EXPORT_ARG, INCLUDE_MIRRORS_ARG, LOOKUP_TIMEOUT_ARG, REPORT_ARG};

/// envd's long flag names, which it also took with one dash (Go's flag
/// package): `-tag x` is `--tag x`.
const ENVD_LONG_FLAGS: &[&str] = &[
    "tag",
    "from",
    "path",
    "output",
    "force",
    "platform",
    "use-proxy",
    "proxy",
    "export-cache",
    "ec",
    "import-cache",
    "ic",
    "public-key",
    "pubk",
    "debug",
    "help",
    "buildkitd-image",
    "docker-organization",
    "owner",
    "analytics-enabled",
    "analytics-token",
];

/// The command line with envd's one-dash long flags written with two, as
/// clap reads them.
pub fn normalize_flags(argv: Vec<String>) -> Vec<String> {
    argv.into_iter()
        .map(|arg| {
            let single = arg.strip_prefix('-').filter(|rest| !rest.starts_with('-'));
            match single {
                Some(rest) if ENVD_LONG_FLAGS.contains(&rest.split('=').next().unwrap_or(rest)) => {
                    format!("-{arg}")
                }
                _ => arg,
            }
        })
        .collect()
}

/// The frontend image `BUILDKIT_SYNTAX` names unless `ENVD_FRONTEND_IMAGE`
/// gives another.
pub const DEFAULT_FRONTEND_IMAGE: &str = "aiges/envd-frontend";
/// Environment variable naming the frontend image.
pub const FRONTEND_IMAGE_ENV: &str = "ENVD_FRONTEND_IMAGE";

/// Site settings passed on from the environment as build args (a name, or
/// a prefix for the base overrides): a site sets its mirrors and base
/// images once, and unchanged scripts pick them up.
const SITE_SETTINGS: &[&str] = &[
    OVERRIDE_ANY, // and OVERRIDE_PREFIX, which it prefixes
    PIP_INDEX_ARG,
    CONDA_CHANNEL_ARG,
    PYTHON_VERSION_ARG,
    INSTALL_BASE_ARG,
    INCLUDE_MIRRORS_ARG,
    DOWNLOAD_MIRRORS_ARG,
    REPORT_ARG,
    LOOKUP_TIMEOUT_ARG,
];

fn is_site_setting(name: &str) -> bool {
    name.starts_with(OVERRIDE_PREFIX) || SITE_SETTINGS.contains(&name)
}

const SSH_KEY: &str = "it is the SSH key of `envd up` environments; images built through envd-frontend run no SSH server";

/// envd's flags that have no meaning for an image build, with the reason
/// given when one is used.
const REFUSED: &[(&str, &str)] = &[
    ("--public-key", SSH_KEY),
    ("--pubk", SSH_KEY),
    (
        "--buildkitd-image",
        "the build runs on docker buildx's builder (choose one with --builder)",
    ),
    (
        "--docker-organization",
        "it named envd's own images; build.envd's base() names the base image",
    ),
    (
        "--owner",
        "steps run as the base image's user; set the user in the base image",
    ),
    ("--analytics-enabled", "envd-frontend sends no analytics"),
    ("--analytics-token", "envd-frontend sends no analytics"),
];

/// envd 0.4's command line, the `build` command only.
#[derive(Parser, Debug)]
#[command(
    name = "envd",
    version,
    about = "envd build, through docker buildx and envd-frontend",
    after_help = "Site settings in the environment (ENVD_BASE_IMAGE, ENVD_BASE_IMAGE_<NAME>, ENVD_PIP_INDEX,\nENVD_CONDA_CHANNEL, ENVD_PYTHON_VERSION, ENVD_INSTALL_BASE, ENVD_INCLUDE_MIRRORS,\nENVD_DOWNLOAD_MIRRORS, ENVD_FRONTEND_REPORT, ENVD_FRONTEND_LOOKUP_TIMEOUT) are passed as build args. ENVD_FRONTEND_IMAGE names the\nfrontend image (default aiges/envd-frontend)."
)]
pub struct Cli {
    /// Show the build's progress in full (`--progress=plain`).
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Build the image described by build.envd.
    #[command(visible_alias = "b")]
    Build(BuildArgs),
}

#[derive(Args, Debug, Default)]
pub struct BuildArgs {
    /// Name and optionally a tag in the 'name:tag' format (default: the
    /// folder's name, tagged `dev`, as envd did).
    #[arg(short = 't', long = "tag")]
    pub tag: Option<String>,
    /// The build file and function, `file:func` (default build.envd:build).
    #[arg(short = 'f', long = "from", default_value = "build.envd:build")]
    pub from: String,
    /// The folder with build.envd: the build context.
    #[arg(short = 'p', long = "path")]
    pub path: Option<PathBuf>,
    /// The same folder, as docker buildx takes it.
    #[arg(value_name = "PATH")]
    pub positional_path: Option<PathBuf>,
    /// Where the image goes (`type=image,name=...,push=true`,
    /// `type=tar,dest=...`, ...); without it the image is loaded into Docker.
    /// `type=dockerfile,dest=FILE` writes a Dockerfile that builds the same
    /// image instead (for Podman, Buildah, dockerd's built-in frontend).
    #[arg(short = 'o', long = "output")]
    pub output: Option<String>,
    /// Load the image into Docker (the default without --output).
    #[arg(long)]
    pub load: bool,
    /// Target platforms, e.g. linux/amd64,linux/arm64.
    #[arg(long)]
    pub platform: Option<String>,
    /// Export the build cache (`type=registry,ref=...`, or a bare ref).
    #[arg(long = "export-cache", visible_alias = "ec")]
    pub export_cache: Option<String>,
    /// Import a build cache (`type=registry,ref=...`, or a bare ref).
    #[arg(long = "import-cache", visible_alias = "ic")]
    pub import_cache: Option<String>,
    /// Pass HTTPS_PROXY, HTTP_PROXY and NO_PROXY from the environment.
    #[arg(long = "use-proxy", visible_alias = "proxy")]
    pub use_proxy: bool,
    /// Accepted as envd did: buildx always builds (BuildKit's cache still
    /// applies; --no-cache runs every step).
    #[arg(long)]
    pub force: bool,
    /// KEY=VALUE, read by build.envd as build_args["KEY"] (docker buildx's flag).
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    pub build_args: Vec<String>,
    /// A BuildKit secret (docker buildx's flag): `id=netrc,src=$HOME/.netrc`
    /// gives private mirrors' logins to pip, conda and apt steps.
    #[arg(long = "secret", value_name = "id=ID,src=PATH")]
    pub secrets: Vec<String>,
    /// Run every step again, with empty caches (docker buildx's flag).
    #[arg(long = "no-cache")]
    pub no_cache: bool,
    /// docker buildx's builder to use.
    #[arg(long)]
    pub builder: Option<String>,
    /// Network of the download steps (docker buildx's flag; `host` also
    /// passes `--allow network.host`).
    #[arg(long)]
    pub network: Option<String>,
    /// Progress output (docker buildx's flag: auto, plain, tty, rawjson).
    #[arg(long)]
    pub progress: Option<String>,
}

/// A command line the drop-in refuses, with the reason.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("envd build: {0}")]
pub struct Refused(pub String);

/// The refusal for an envd flag that has no meaning here, if `args` has one.
pub fn refused_flag(args: &[String]) -> Option<Refused> {
    args.iter().find_map(|arg| {
        let flag = arg.split('=').next().unwrap_or(arg);
        REFUSED
            .iter()
            .find(|(name, _)| *name == flag)
            .map(|(name, why)| Refused(format!("{name} is not supported: {why}")))
    })
}

/// The `docker` arguments that build what `envd build` would, given the
/// environment (`env`) and the current folder.
pub fn buildx_args(
    build: &BuildArgs,
    debug: bool,
    env: &dyn Fn(&str) -> Option<String>,
    env_names: &[String],
    cwd: &Path,
) -> Result<Vec<String>, Refused> {
    let path = match (&build.path, &build.positional_path) {
        (Some(a), Some(b)) if a != b => {
            return Err(Refused(format!(
                "--path {} and PATH {} name different folders; give one",
                a.display(),
                b.display()
            )));
        }
        (Some(p), _) | (None, Some(p)) => p.clone(),
        (None, None) => PathBuf::from("."),
    };
    let (file, function) = parse_from(&build.from)?;
    // envd looked for the file in the build folder first, then from the
    // current folder.
    let in_path = cwd.join(&path).join(&file);
    let file_path = if in_path.is_file() || Path::new(&file).is_absolute() {
        path.join(&file)
    } else {
        cwd.join(&file)
    };
    let tag = match &build.tag {
        Some(tag) => tag.clone(),
        None => default_tag(&path, cwd)?,
    };
    let image = env(FRONTEND_IMAGE_ENV).unwrap_or_else(|| DEFAULT_FRONTEND_IMAGE.to_string());

    let mut args: Vec<String> = vec!["buildx".into(), "build".into()];
    if let Some(builder) = &build.builder {
        args.extend(["--builder".into(), builder.clone()]);
    }
    args.extend(["-f".into(), file_path.display().to_string()]);
    args.extend(["--build-arg".into(), format!("BUILDKIT_SYNTAX={image}")]);
    if function != "build" {
        args.extend(["--target".into(), function]);
    }
    let export = dockerfile_export(build)?;
    match &build.output {
        Some(_) if let Some(dest) = &export => {
            args.extend([
                "--build-arg".into(),
                format!("{EXPORT_ARG}=dockerfile"),
                "--output".into(),
                format!("type=local,dest={}", export_folder(dest).display()),
            ]);
        }
        // envd named the image in the output (`type=image,name=...`).
        Some(output) => {
            args.extend(["--output".into(), output.clone()]);
            if build.load {
                args.push("--load".into());
            }
            if build.tag.is_some() {
                args.extend(["-t".into(), tag]);
            }
        }
        None => args.extend(["-t".into(), tag, "--load".into()]),
    }
    if let Some(platform) = &build.platform {
        args.extend(["--platform".into(), platform.clone()]);
    }
    if let Some(cache) = &build.export_cache {
        args.extend(["--cache-to".into(), cache_spec(cache)]);
    }
    if let Some(cache) = &build.import_cache {
        args.extend(["--cache-from".into(), cache_spec(cache)]);
    }
    let mut sorted: Vec<&String> = env_names
        .iter()
        .filter(|name| is_site_setting(name))
        .collect();
    sorted.sort();
    for name in sorted {
        if let Some(value) = env(name) {
            args.extend(["--build-arg".into(), format!("{name}={value}")]);
        }
    }
    if build.use_proxy {
        for name in ["HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY"] {
            if let Some(value) = env(name).or_else(|| env(&name.to_lowercase())) {
                args.extend(["--build-arg".into(), format!("{name}={value}")]);
            }
        }
    }
    for arg in &build.build_args {
        args.extend(["--build-arg".into(), arg.clone()]);
    }
    for secret in &build.secrets {
        args.extend(["--secret".into(), secret.clone()]);
    }
    if build.no_cache {
        args.push("--no-cache".into());
    }
    if let Some(network) = &build.network {
        args.push(format!("--network={network}"));
        if network == "host" {
            args.extend(["--allow".into(), "network.host".into()]);
        }
    }
    match (&build.progress, debug) {
        (Some(progress), _) => args.push(format!("--progress={progress}")),
        (None, true) => args.push("--progress=plain".into()),
        (None, false) => {}
    }
    args.push(path.display().to_string());
    Ok(args)
}

/// The file `--output type=dockerfile,dest=FILE` asks for, if it does.
pub fn dockerfile_export(build: &BuildArgs) -> Result<Option<PathBuf>, Refused> {
    let Some(output) = &build.output else {
        return Ok(None);
    };
    let fields: Vec<(&str, &str)> = output
        .split(',')
        .map(|field| field.split_once('=').unwrap_or((field, "")))
        .collect();
    if !fields.contains(&("type", "dockerfile")) {
        return Ok(None);
    }
    if build.platform.as_deref().is_some_and(|p| p.contains(',')) {
        return Err(Refused(
            "--output type=dockerfile: a Dockerfile is exported for one platform; give one --platform".to_string(),
        ));
    }
    let mut dest = None;
    for (key, value) in fields {
        match key {
            "type" => {}
            "dest" if !value.is_empty() => dest = Some(PathBuf::from(value)),
            _ => {
                return Err(Refused(format!(
                    "--output {output:?}: type=dockerfile takes dest=FILE only"
                )));
            }
        }
    }
    dest.map(Some).ok_or_else(|| {
        Refused(format!(
            "--output {output:?}: type=dockerfile needs dest=FILE, the Dockerfile to write"
        ))
    })
}

/// The folder BuildKit's local exporter writes an export to, beside `dest`;
/// the drop-in moves its `Dockerfile` to `dest`.
pub fn export_folder(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_os_string();
    name.push(".envd-export");
    dest.with_file_name(name)
}

/// `file:func` as envd read it: `build.envd` alone, `:func` for the
/// default file, `file:` for the default function.
fn parse_from(from: &str) -> Result<(String, String), Refused> {
    let mut parts = from.split(':');
    let file = parts.next().unwrap_or_default();
    let function = parts.next().unwrap_or_default();
    if parts.next().is_some() {
        return Err(Refused(format!(
            "-f {from:?}: expected `file:func`, e.g. build.envd:build_gpu"
        )));
    }
    let file = if file.is_empty() { "build.envd" } else { file };
    let function = if function.is_empty() {
        "build"
    } else {
        function
    };
    Ok((file.to_string(), function.to_string()))
}

/// envd's default tag: the build folder's name (of its absolute, cleaned
/// path), lowercased, tagged `dev`.
fn default_tag(path: &Path, cwd: &Path) -> Result<String, Refused> {
    let mut parts: Vec<String> = vec![];
    for component in cwd.join(path).components() {
        match component {
            std::path::Component::Normal(part) => parts.push(part.to_string_lossy().into_owned()),
            std::path::Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    let name = parts.pop().ok_or_else(|| {
        Refused("cannot name the image after the root folder: give -t NAME:TAG".to_string())
    })?;
    let name: String = name
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    Ok(format!("{name}:dev"))
}

/// envd took a bare reference for a registry cache.
fn cache_spec(spec: &str) -> String {
    if spec.contains('=') {
        spec.to_string()
    } else {
        format!("type=registry,ref={spec}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn plan(line: &[&str], env: &[(&str, &str)]) -> Result<Vec<String>, Refused> {
        let argv: Vec<String> = normalize_flags(
            std::iter::once("envd")
                .chain(line.iter().copied())
                .map(String::from)
                .collect(),
        );
        if let Some(refused) = refused_flag(&argv) {
            return Err(refused);
        }
        let cli = Cli::try_parse_from(&argv).map_err(|e| Refused(e.to_string()))?;
        let Command::Build(build) = cli.command;
        let env: BTreeMap<String, String> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let names: Vec<String> = env.keys().cloned().collect();
        buildx_args(
            &build,
            cli.debug,
            &|name| env.get(name).cloned(),
            &names,
            Path::new("/work/My Service"),
        )
    }

    #[test]
    fn the_seed_line_builds_and_loads_through_the_frontend() {
        let args = plan(&["build", "-t", "wrapper:1.0", "-f", "build.envd"], &[]).unwrap();
        assert_eq!(
            args.join(" "),
            "buildx build -f /work/My Service/build.envd --build-arg BUILDKIT_SYNTAX=aiges/envd-frontend -t wrapper:1.0 --load ."
        );
    }

    #[test]
    fn function_path_caches_and_site_settings() {
        let args = plan(
            &[
                "--debug",
                "b",
                "-f",
                ":build_gpu",
                "-p",
                "svc",
                "--export-cache",
                "registry.local/cache",
                "--import-cache",
                "type=local,src=/c",
                "--network",
                "host",
                "--secret",
                "id=netrc,src=/home/u/.netrc",
            ],
            &[
                ("ENVD_PIP_INDEX", "http://mirror/simple"),
                ("ENVD_BASE_IMAGE_AIGES_GPU", "local/gpu:1"),
                ("ENVD_ANALYTICS", "false"),
                (FRONTEND_IMAGE_ENV, "registry.local/envd-frontend:2"),
            ],
        )
        .unwrap()
        .join(" ");
        assert_eq!(
            args,
            "buildx build -f /work/My Service/build.envd --build-arg BUILDKIT_SYNTAX=registry.local/envd-frontend:2 \
             --target build_gpu -t svc:dev --load --cache-to type=registry,ref=registry.local/cache \
             --cache-from type=local,src=/c --build-arg ENVD_BASE_IMAGE_AIGES_GPU=local/gpu:1 \
             --build-arg ENVD_PIP_INDEX=http://mirror/simple --secret id=netrc,src=/home/u/.netrc \
             --network=host --allow network.host --progress=plain svc"
        );
    }

    #[test]
    fn default_tag_is_the_folder_lowercased() {
        let tag = |line: &[&str]| {
            let args = plan(line, &[]).unwrap();
            let at = args.iter().position(|a| a == "-t").unwrap();
            args[at + 1].clone()
        };
        assert_eq!(tag(&["build"]), "myservice:dev");
        assert_eq!(tag(&["build", "-p", "sub/.."]), "myservice:dev");
        assert_eq!(tag(&["build", "-p", ".."]), "work:dev");
    }

    #[test]
    fn envd_took_long_flags_with_one_dash() {
        let args = plan(&["build", "-tag", "x:1", "-from=build.envd:gpu"], &[])
            .unwrap()
            .join(" ");
        assert!(
            args.contains(" -t x:1 ") && args.contains(" --target gpu "),
            "{args}"
        );
        let refused = plan(&["build", "-pubk", "k.pub"], &[]).unwrap_err();
        assert!(
            refused.0.contains("--pubk is not supported"),
            "{}",
            refused.0
        );
    }

    #[test]
    fn output_names_the_image_instead_of_loading_it() {
        let args = plan(
            &[
                "build",
                "-o",
                "type=image,name=registry.local/x:1,push=true",
            ],
            &[],
        )
        .unwrap()
        .join(" ");
        assert!(
            args.contains("--output type=image,name=registry.local/x:1,push=true"),
            "{args}"
        );
        assert!(!args.contains("--load") && !args.contains(" -t "), "{args}");
    }

    #[test]
    fn dockerfile_output_asks_the_frontend_for_its_export() {
        let args = plan(&["build", "-o", "type=dockerfile,dest=out/Dockerfile"], &[])
            .unwrap()
            .join(" ");
        assert!(
            args.contains("--build-arg ENVD_FRONTEND_EXPORT=dockerfile --output type=local,dest=out/Dockerfile.envd-export"),
            "{args}"
        );
        assert!(!args.contains("--load") && !args.contains(" -t "), "{args}");
        for (output, why) in [
            ("type=dockerfile", "needs dest=FILE"),
            ("type=dockerfile,dest=x,push=true", "takes dest=FILE only"),
        ] {
            let refused = plan(&["build", "-o", output], &[]).unwrap_err();
            assert!(refused.0.contains(why), "{output}: {}", refused.0);
        }
        let refused = plan(
            &[
                "build",
                "-o",
                "type=dockerfile,dest=x",
                "--platform",
                "linux/amd64,linux/arm64",
            ],
            &[],
        )
        .unwrap_err();
        assert!(refused.0.contains("one platform"), "{}", refused.0);
    }

    #[test]
    fn refused_flags_say_why() {
        let refused = plan(&["build", "--public-key", "k.pub"], &[]).unwrap_err();
        assert!(
            refused
                .0
                .contains("--public-key is not supported: it is the SSH key"),
            "{}",
            refused.0
        );
        let refused = plan(&["build", "-f", "a:b:c"], &[]).unwrap_err();
        assert!(refused.0.contains("expected `file:func`"), "{}", refused.0);
        let refused = plan(&["build", "-p", "a", "b"], &[]).unwrap_err();
        assert!(
            refused.0.contains("name different folders"),
            "{}",
            refused.0
        );
        // Commands other than build are not envd-frontend's.
        let refused = plan(&["up"], &[]).unwrap_err();
        assert!(
            refused.0.contains("unrecognized subcommand 'up'"),
            "{}",
            refused.0
        );
    }
}

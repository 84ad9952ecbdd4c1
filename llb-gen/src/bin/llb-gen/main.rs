//! `llb-gen`: compiles a build.envd to LLB with no daemon, like
//! `buildctl debug dump-llb` for Dockerfiles; `llb-gen lsp` is the
//! language server for editors.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use envd_proto::prost::Message;
use llb_gen::compile::EvaluationBounds;
use llb_gen::disk::OfflineResolver;
use llb_gen::llb::{NetworkMode, Platform, definition_to_json};
use llb_gen::subrequests::{self, Inputs, Subrequest};
use llb_gen::{CompileOptions, compile};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// The marshaled pb.Definition, as `buildctl build` reads on stdin.
    Pb,
    /// One JSON object per op, dependencies first.
    Json,
    /// The build description build.envd evaluated to.
    Ir,
    /// The image config the build would return.
    Config,
    /// A Dockerfile that builds the same image without this frontend
    /// (Podman, Buildah, dockerd's built-in frontend).
    Dockerfile,
}

/// What `--call` asks instead of a build, as `docker buildx build --call`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum Call {
    /// The functions a build can name with --target.
    Targets,
    /// The build args and site settings the target reads.
    Outline,
    /// The lint rules' findings (exit code 1 when there are any).
    Check,
    /// The subrequests the frontend answers.
    #[value(name = "subrequests.describe")]
    Describe,
}

impl Call {
    fn subrequest(self) -> Subrequest {
        match self {
            Call::Targets => Subrequest::Targets,
            Call::Outline => Subrequest::Outline,
            Call::Check => Subrequest::Lint,
            Call::Describe => Subrequest::Describe,
        }
    }
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Network {
    Default,
    Host,
    None,
}

/// Compile a build.envd file to BuildKit LLB.
#[derive(Parser, Debug)]
#[command(
    version,
    after_help = "Examples:\n  llb-gen --format json examples/seed/build.envd\n  llb-gen --build-arg ENVD_BASE_IMAGE_AIGES_CPU=local/aiges_cpu:test | buildctl build --local context=. --output type=image,name=x\n  llb-gen --target build_gpu --format ir"
)]
struct Args {
    /// The build file; its folder is the build context unless --context is given.
    #[arg(default_value = "build.envd")]
    path: PathBuf,
    /// The function to build (default: build).
    #[arg(long)]
    target: Option<String>,
    /// KEY=VALUE, available as build_args["KEY"]; KEY alone takes the value from the environment.
    #[arg(long = "build-arg", value_name = "KEY=VALUE")]
    build_args: Vec<String>,
    /// Target platform, os/arch[/variant] (default: this machine's).
    #[arg(long)]
    platform: Option<String>,
    #[arg(long, value_enum, default_value = "pb")]
    format: Format,
    /// The build context folder.
    #[arg(long)]
    context: Option<PathBuf>,
    /// URL=FOLDER: the files of a repository build.envd includes
    /// (`include(git="URL")`); llb-gen fetches no repositories itself.
    #[arg(long = "include", value_name = "URL=FOLDER")]
    includes: Vec<String>,
    /// Network of the steps that download.
    #[arg(long, value_enum, default_value = "default")]
    network: Network,
    /// Answer a subrequest instead of building (text as buildx prints it).
    #[arg(long, value_enum)]
    call: Option<Call>,
    /// With --call: print the result as JSON.
    #[arg(long, requires = "call")]
    json: bool,
}

#[global_allocator]
static ALLOCATOR: llb_gen::allocator::EvaluationAllocator = llb_gen::allocator::EvaluationAllocator;

/// The repositories build.envd includes, from the folders given for them;
/// the others are errors at their `include` call.
fn included(text: &str, given: &[String]) -> anyhow::Result<llb_gen::includes::IncludedModules> {
    let mut folders = std::collections::BTreeMap::new();
    for pair in given {
        let (url, folder) = pair
            .split_once('=')
            .with_context(|| format!("--include {pair:?}: expected URL=FOLDER"))?;
        folders.insert(url.to_string(), PathBuf::from(folder));
    }
    Ok(llb_gen::disk::included_from_folders(
        text,
        &folders,
        "llb-gen fetches no repositories: give --include {url}=FOLDER",
    ))
}

mod lsp;

fn main() -> ExitCode {
    llb_gen::probe::serve_if_asked();
    // `llb-gen lsp`: the language server, before the compiler's arguments.
    if std::env::args().nth(1).as_deref() == Some("lsp") {
        return match lsp::serve() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("llb-gen lsp: {e:#}");
                ExitCode::from(1)
            }
        };
    }
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("llb-gen: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &Args) -> anyhow::Result<ExitCode> {
    // Answered before the build file is read: it reads nothing.
    if let Some(Call::Describe) = args.call {
        print_answer(&subrequests::describe(), args.json)?;
        return Ok(ExitCode::SUCCESS);
    }
    let text = std::fs::read_to_string(&args.path)
        .with_context(|| format!("cannot read {}", args.path.display()))?;
    let context_dir = match &args.context {
        Some(dir) => dir.clone(),
        None => args.path.parent().map(PathBuf::from).unwrap_or_default(),
    };
    let context_dir = if context_dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        context_dir
    };
    let files = llb_gen::disk::DiskContext::new(&context_dir)
        .with_context(|| format!("cannot open the build context {}", context_dir.display()))?;
    let platform = match &args.platform {
        Some(p) => Platform::parse(p)?,
        None => host_platform(),
    };
    let filename = args.path.file_name().map_or("build.envd".to_string(), |n| {
        n.to_string_lossy().into_owned()
    });
    let mut options = CompileOptions::default()
        .filename(filename)
        .target(args.target.clone())
        .platform(platform.clone())
        .build_args(parse_build_args(&args.build_args)?)
        .network(match args.network {
            Network::Default => NetworkMode::Default,
            Network::Host => NetworkMode::Host,
            Network::None => NetworkMode::None,
        })
        // It ends after this one compile (see `llb_gen::bounded`).
        .bounds(EvaluationBounds::Thread)
        .includes(included(&text, &args.includes)?);
    if matches!(args.format, Format::Dockerfile) {
        options = llb_gen::export::compile_options(options);
    }
    if let Some(call) = args.call {
        let inputs = Inputs {
            text: &text,
            options: &options,
            platforms: std::slice::from_ref(&platform),
            files: &files,
            resolver: &OfflineResolver,
            settings: vec![],
        };
        let answer = match subrequests::answer(call.subrequest(), &inputs) {
            Ok(answer) => answer,
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                return Ok(ExitCode::from(1));
            }
        };
        print_answer(&answer, args.json)?;
        return Ok(ExitCode::from(answer.status_code.unwrap_or(0)));
    }
    let compiled = match compile(&text, &options, &files, &OfflineResolver) {
        Ok(compiled) => compiled,
        Err(diagnostics) => {
            eprint!("{}", diagnostics.render());
            return Ok(ExitCode::from(1));
        }
    };
    for warning in &compiled.warnings {
        eprint!("{}", warning.render());
    }
    let exported = match args.format {
        Format::Dockerfile => match llb_gen::export::dockerfile(&text, &options, &compiled) {
            Ok(exported) => Some(exported),
            Err(diagnostics) => {
                eprint!("{}", diagnostics.render());
                return Ok(ExitCode::from(1));
            }
        },
        _ => None,
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Dockerfile => {
            let exported = exported.context("the export is missing")?;
            for warning in &exported.warnings {
                eprint!("{}", warning.render());
            }
            out.write_all(exported.dockerfile.as_bytes())?;
        }
        Format::Pb => out.write_all(&compiled.definition.encode_to_vec())?,
        Format::Json => {
            for op in definition_to_json(&compiled.definition)? {
                writeln!(out, "{op}")?;
            }
        }
        Format::Ir => writeln!(out, "{}", serde_json::to_string_pretty(&compiled.spec)?)?,
        Format::Config => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&compiled.lowered.config)?
        )?,
    }
    out.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// A subrequest's answer: its text as buildx prints it, or its JSON.
fn print_answer(answer: &subrequests::Answer, json: bool) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", answer.json)?;
    } else {
        out.write_all(answer.text.as_bytes())?;
    }
    out.flush()
}

fn parse_build_args(args: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for arg in args {
        let (key, value) = match arg.split_once('=') {
            Some((key, value)) => (key.to_string(), value.to_string()),
            None => match std::env::var(arg) {
                Ok(value) => (arg.clone(), value),
                Err(_) => {
                    bail!("--build-arg {arg}: no value given and no such environment variable")
                }
            },
        };
        if key.is_empty() {
            bail!("--build-arg {arg:?}: empty name");
        }
        out.insert(key, value);
    }
    Ok(out)
}

fn host_platform() -> Platform {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    };
    Platform::new("linux", arch)
}

//! Build benchmark: examples/aiges-wrapper through envd-frontend and, on the
//! same daemon, the same steps as tests/bench/aiges-wrapper.Dockerfile
//! through dockerd's built-in Dockerfile frontend, plus no-change rebuilds
//! through two stand-in frontends (`stand_ins`): the floor (a trivial
//! frontend image) and the replay (envd-frontend's own graph and config,
//! computed ahead). Prints Markdown tables of medians; asserts nothing but
//! that the builds succeed. Run it with `scripts/bench-builds.sh` (`RUNS`,
//! `COLD_RUNS` set the number of paired runs).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod stand_ins;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use envd_e2e::*;
use stand_ins::{FLOOR_IMAGE, REPLAY_IMAGE, build_floor_image, build_replay_image};

/// BuildKit 0.25.2's Dockerfile frontend as a gateway image, built from
/// source (`scripts/e2e-setup.sh dockerfile-frontend`).
const PEER_IMAGE: &str = "envd-test/dockerfile-frontend:0.25.2";

/// One measured build.
#[derive(Clone)]
struct Sample {
    ms: f64,
    /// Steps of the build file that ran (not cached).
    steps: usize,
    /// Bytes the build fetched from the local index.
    index_bytes: u64,
    /// envd-frontend's report (`ENVD_FRONTEND_REPORT=1`, a step's name), as key/value pairs.
    report: Vec<(String, f64)>,
}

/// The benchmark's project and the three ways to build it.
struct Bench {
    index: PackageIndex,
    project: Project,
    /// Holds the Dockerfile, outside the build context.
    dockerfile_dir: Project,
    /// Holds the same Dockerfile with a `# syntax=` line naming BuildKit
    /// 0.25.2's Dockerfile frontend as a gateway image (the real peer).
    peer_dir: Project,
    floor_project: Project,
    /// Holds the replay frontend's build file, outside the build context.
    replay_dir: Project,
    /// Holds the Dockerfile envd-frontend exports for the project
    /// (`ENVD_FRONTEND_EXPORT=dockerfile`), outside the build context.
    exported_dir: Project,
    build_envd: String,
    dockerfile: String,
    requirements: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Variant {
    Cpu,
    Gpu,
    /// The GPU variant with `ENVD_INSTALL_BASE` (envd-frontend only).
    GpuOnCpuSteps,
}

impl Variant {
    fn base(self) -> &'static str {
        match self {
            Variant::Cpu => "envd-test/cpu:latest",
            Variant::Gpu | Variant::GpuOnCpuSteps => "envd-test/gpu:latest",
        }
    }
}

impl Bench {
    fn new() -> Bench {
        let project = Project::copy_of("bench", "examples/aiges-wrapper");
        let dockerfile_dir = Project::new("bench-dockerfile");
        let floor_project = Project::new("bench-floor");
        floor_project.write("floor", &format!("# syntax={FLOOR_IMAGE}\n"));
        let replay_dir = Project::new("bench-replay");
        replay_dir.write("replay.envd", &format!("# syntax={REPLAY_IMAGE}\n"));
        let dockerfile =
            std::fs::read_to_string(repo_root().join("tests/bench/aiges-wrapper.Dockerfile"))
                .unwrap();
        let bench = Bench {
            index: PackageIndex::start("bench"),
            build_envd: project.read("build.envd"),
            requirements: project.read("requirements.txt"),
            project,
            dockerfile_dir,
            peer_dir: Project::new("bench-peer"),
            floor_project,
            replay_dir,
            exported_dir: Project::new("bench-exported"),
            dockerfile,
        };
        bench.set_nonce(None);
        bench
    }

    /// Adds (or removes) a first step that makes every later step new to
    /// BuildKit's cache, in both build files.
    fn set_nonce(&self, nonce: Option<&str>) {
        let (envd, dockerfile) = match nonce {
            Some(n) => (
                self.build_envd.replacen(
                    "language=\"python3\")\n",
                    &format!(
                        "language=\"python3\")\n    run(commands=[\"echo {n} > /etc/bench-nonce\"])\n"
                    ),
                    1,
                ),
                self.dockerfile.replacen(
                    "FROM ${BASE}\n",
                    &format!("FROM ${{BASE}}\nRUN echo {n} > /etc/bench-nonce\n"),
                    1,
                ),
            ),
            None => (self.build_envd.clone(), self.dockerfile.clone()),
        };
        assert!(
            nonce.is_none() || (envd != self.build_envd && dockerfile != self.dockerfile),
            "the nonce step is in both files"
        );
        self.project.write("build.envd", &envd);
        self.dockerfile_dir.write("Dockerfile", &dockerfile);
        self.peer_dir.write(
            "Dockerfile",
            &format!("# syntax={PEER_IMAGE}\n{dockerfile}"),
        );
    }

    fn envd_args(&self, variant: Variant) -> Vec<(&str, &str)> {
        let mut args = vec![
            ("ENVD_BASE_IMAGE", variant.base()),
            ("ENVD_PIP_INDEX", self.index.url.as_str()),
        ];
        if variant == Variant::GpuOnCpuSteps {
            args.push(("ENVD_INSTALL_BASE", "envd-test/cpu:latest"));
        }
        args
    }

    fn envd(&self, variant: Variant) -> Sample {
        let args = self.envd_args(variant);
        self.measure(&self.project.dir.join("build.envd"), "bench-envd", &args)
    }

    /// A no-change rebuild of the CPU variant with envd-frontend's report
    /// (`ENVD_FRONTEND_REPORT=1`): not timed with the others, as the report
    /// is one more step (a file made and solved) no other build makes.
    fn envd_report(&self) -> Sample {
        let mut args = self.envd_args(Variant::Cpu);
        args.push(("ENVD_FRONTEND_REPORT", "1"));
        let sample = self.measure(&self.project.dir.join("build.envd"), "bench-envd", &args);
        assert!(!sample.report.is_empty(), "the build shows the report");
        sample
    }

    /// The CPU variant through the replay frontend (no-change rebuilds only:
    /// its graph is the project's as it was when the image was built).
    fn replay(&self) -> Sample {
        let file = self.replay_dir.dir.join("replay.envd");
        let sample = self.measure(&file, "bench-replay", &[]);
        assert_eq!(
            sample.steps, 0,
            "the replayed graph is envd-frontend's: its no-change rebuild runs no step"
        );
        sample
    }

    /// envd-frontend's export of the CPU variant, as a Dockerfile.
    fn export(&self) {
        let mut args = self.envd_args(Variant::Cpu);
        args.push(("ENVD_FRONTEND_EXPORT", "dockerfile"));
        let output = format!("type=local,dest={}", self.exported_dir.dir.display());
        let out = buildx(&self.project, "build.envd", &args, &["--output", &output]);
        assert!(out.success, "export: {}", out.error_text());
    }

    /// The exported Dockerfile through dockerd's built-in frontend: the
    /// graph built without a gateway container (no-change rebuilds only).
    fn exported(&self) -> Sample {
        let file = self.exported_dir.dir.join("Dockerfile");
        let sample = self.measure(&file, "bench-exported", &[]);
        assert_eq!(
            sample.steps, 0,
            "the exported Dockerfile's no-change rebuild runs no step"
        );
        sample
    }

    /// The Dockerfile through BuildKit's Dockerfile frontend run as a
    /// gateway image, as envd-frontend runs (no-change rebuilds only).
    fn peer(&self) -> Sample {
        let args = [
            ("BASE", Variant::Cpu.base()),
            ("ENVD_PIP_INDEX", self.index.url.as_str()),
        ];
        self.measure(&self.peer_dir.dir.join("Dockerfile"), "bench-peer", &args)
    }

    fn dockerfile(&self, variant: Variant) -> Sample {
        let args = [
            ("BASE", variant.base()),
            ("ENVD_PIP_INDEX", self.index.url.as_str()),
        ];
        self.measure(
            &self.dockerfile_dir.dir.join("Dockerfile"),
            "bench-dockerfile",
            &args,
        )
    }

    fn floor(&self) -> Sample {
        let start = Instant::now();
        let out = build(&self.floor_project, "floor", "bench-floor:latest", &[], &[]);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        assert!(out.success, "floor build: {}", out.error_text());
        Sample {
            ms,
            steps: 0,
            index_bytes: 0,
            report: vec![],
        }
    }

    fn measure(&self, file: &Path, tag: &str, args: &[(&str, &str)]) -> Sample {
        let bytes_before = self.index.bytes_downloaded();
        let start = Instant::now();
        let out = build(&self.project, file.to_str().unwrap(), tag, args, &[]);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        assert!(out.success, "{}: {}", file.display(), out.error_text());
        let dockerfile_steps = out
            .vertices
            .iter()
            .filter(|v| !v.cached && v.inputs > 0 && is_dockerfile_step(&v.name))
            .count();
        let steps = out.executed().len() + dockerfile_steps;
        Sample {
            ms,
            steps,
            index_bytes: self.index.bytes_downloaded() - bytes_before,
            report: out
                .vertices
                .iter()
                .find_map(|v| parse_report(&v.name))
                .unwrap_or_default(),
        }
    }
}

/// Dockerfile instructions as BuildKit names them: `[4/9] RUN ...`.
fn is_dockerfile_step(name: &str) -> bool {
    name.starts_with('[')
        && name.split_once("] ").is_some_and(|(_, rest)| {
            ["RUN ", "COPY ", "ADD "]
                .iter()
                .any(|i| rest.starts_with(i))
        })
}

fn parse_report(warning: &str) -> Option<Vec<(String, f64)>> {
    let rest = warning.strip_prefix("envd-frontend report: ")?;
    Some(
        rest.split_whitespace()
            .filter_map(|kv| {
                let (key, value) = kv.split_once('=')?;
                Some((key.to_string(), value.parse().ok()?))
            })
            .collect(),
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

fn median_of(samples: &[Sample], field: impl Fn(&Sample) -> f64) -> f64 {
    median(samples.iter().map(field).collect())
}

fn report_value(sample: &Sample, key: &str) -> f64 {
    sample
        .report
        .iter()
        .find(|(k, _)| k == key)
        .map_or(f64::NAN, |(_, v)| *v)
}

fn scenario_nonce(scenario: &str, run: usize) -> String {
    format!("{scenario}-{run}-{}", nonce())
}

fn prune_build_cache() {
    let status = Command::new("docker")
        .args(["buildx", "prune", "-af"])
        .output()
        .unwrap();
    assert!(status.status.success(), "docker buildx prune failed");
}

fn env_count(key: &str, default: usize) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Row {
    scenario: &'static str,
    envd: Vec<Sample>,
    dockerfile: Vec<Sample>,
}

impl Row {
    fn new(scenario: &'static str) -> Row {
        Row {
            scenario,
            envd: vec![],
            dockerfile: vec![],
        }
    }
}

fn main() {
    // `cargo test --all-targets` runs bench targets without `--bench`.
    if !std::env::args().any(|a| a == "--bench") {
        println!("builds: a benchmark; run scripts/bench-builds.sh");
        return;
    }
    require_setup();
    let runs = env_count("RUNS", 5);
    let cold_runs = env_count("COLD_RUNS", 3);
    build_floor_image();
    let bench = Bench::new();
    let mut rows: Vec<Row> = vec![];
    let mut floor: Vec<Sample> = vec![];
    let mut replay: Vec<Sample> = vec![];
    let mut exported: Vec<Sample> = vec![];
    let mut peer: Vec<Sample> = vec![];
    let mut reports: Vec<Sample> = vec![];
    eprintln!("[bench] cold builds ({cold_runs} paired runs)");
    let mut row = Row::new("cold build");
    for _ in 0..cold_runs {
        prune_build_cache();
        row.envd.push(bench.envd(Variant::Cpu));
        prune_build_cache();
        row.dockerfile.push(bench.dockerfile(Variant::Cpu));
    }
    rows.push(row);

    eprintln!("[bench] no-change rebuilds ({runs} paired runs)");
    bench.envd(Variant::Cpu);
    bench.dockerfile(Variant::Cpu);
    bench.floor();
    build_replay_image(&bench.project, &bench.envd_args(Variant::Cpu));
    bench.replay();
    bench.export();
    bench.measure(
        &bench.exported_dir.dir.join("Dockerfile"),
        "bench-exported",
        &[],
    );
    bench.peer();
    let mut row = Row::new("no-change rebuild");
    for _ in 0..runs {
        row.envd.push(bench.envd(Variant::Cpu));
        // Here, so that every timed build follows a build of another kind,
        // as before the report had a build of its own.
        reports.push(bench.envd_report());
        row.dockerfile.push(bench.dockerfile(Variant::Cpu));
        floor.push(bench.floor());
        replay.push(bench.replay());
        exported.push(bench.exported());
        peer.push(bench.peer());
    }
    rows.push(row);

    eprintln!("[bench] edits of one service file ({runs} paired runs)");
    let service = bench.project.read("wrapper/wrapper.py");
    let mut row = Row::new("edit one service source file");
    for run in 0..runs {
        let edited = format!("{service}# {}\n", scenario_nonce("edit", run));
        bench.project.write("wrapper/wrapper.py", &edited);
        row.envd.push(bench.envd(Variant::Cpu));
        row.dockerfile.push(bench.dockerfile(Variant::Cpu));
    }
    bench.project.write("wrapper/wrapper.py", &service);
    rows.push(row);

    eprintln!("[bench] one Python package added ({runs} paired runs)");
    let mut row = Row::new("add one Python package");
    for run in 0..runs {
        // The comment keeps every run's file new to the cache.
        let added = format!(
            "{}envd-test-epsilon==1.0  # {}\n",
            bench.requirements,
            scenario_nonce("add", run)
        );
        bench.project.write("requirements.txt", &added);
        row.envd.push(bench.envd(Variant::Cpu));
        row.dockerfile.push(bench.dockerfile(Variant::Cpu));
    }
    bench.project.write("requirements.txt", &bench.requirements);
    rows.push(row);

    eprintln!("[bench] second variants ({runs} paired runs, three builds each side)");
    let mut plain = Row::new("second variant after the first");
    // The Dockerfile has no such mode: its column repeats its second variant.
    let mut family = Row::new("second variant, ENVD_INSTALL_BASE");
    for run in 0..runs {
        bench.set_nonce(Some(&scenario_nonce("variant", run)));
        bench.envd(Variant::Cpu);
        plain.envd.push(bench.envd(Variant::Gpu));
        family.envd.push(bench.envd(Variant::GpuOnCpuSteps));
        bench.dockerfile(Variant::Cpu);
        plain.dockerfile.push(bench.dockerfile(Variant::Gpu));
    }
    bench.set_nonce(None);
    family.dockerfile = plain.dockerfile.clone();
    rows.push(plain);
    rows.push(family);

    let stand_ins = NoChange {
        floor,
        replay,
        exported,
        peer,
        reports,
    };
    print_tables(&rows, &stand_ins, runs, cold_runs);
    conda_variants(runs);
}

/// The conda scenario, on real conda (`envd-test/conda`, `gpu-conda`) and
/// the suite's channel: an env file like a real export, the CPU variant,
/// then the GPU one; the second should fetch no conda package and no
/// wheel. envd-frontend only: the Dockerfile has no conda steps.
fn conda_variants(runs: usize) {
    eprintln!("[bench] conda: second variants ({runs} runs)");
    let index = PackageIndex::start("bench-conda");
    let conda = CondaMirror::start("bench-conda");
    let project = Project::new("bench-conda");
    project.write(
        "env.yaml",
        "name: service\nchannels:\n  - defaults\ndependencies:\n  - python=3.11.4=h955ad1f_0\n  - envd-conda-alpha=2.0=0\n  - envd-conda-prefixed=1.0=0\n  - pip=23.2.1=py311h06a4308_0\n  - pip:\n    - envd-test-gamma==1.0\nprefix: /home/dev/miniconda3/envs/service\n",
    );
    let mut samples: Vec<(f64, usize, u64)> = vec![];
    for run in 0..runs {
        project.write(
            "build.envd",
            &format!(
                "def build():\n    base(os=\"aiges_gpu\" if build_args.get(\"VARIANT\") == \"gpu\" else \"aiges_cpu\", language=\"python3\")\n    run(commands=[\"echo {} > /etc/bench-nonce\"])\n    install.conda_packages(env_file=\"env.yaml\")\n",
                scenario_nonce("conda", run)
            ),
        );
        let args = |variant: &'static str| {
            vec![
                ("BUILDKIT_SYNTAX", "aiges/envd-frontend"),
                ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/conda:latest"),
                ("ENVD_BASE_IMAGE_AIGES_GPU", "envd-test/gpu-conda:latest"),
                ("ENVD_PIP_INDEX", index.url.as_str()),
                ("ENVD_CONDA_CHANNEL", conda.url.as_str()),
                ("ENVD_PYTHON_VERSION", "3.11"),
                ("VARIANT", variant),
            ]
        };
        let first = build(&project, "build.envd", "bench-conda:cpu", &args("cpu"), &[]);
        assert!(first.success, "conda CPU variant: {}", first.error_text());
        let (files, bytes) = (conda.downloads().len(), index.bytes_downloaded());
        let start = Instant::now();
        let second = build(&project, "build.envd", "bench-conda:gpu", &args("gpu"), &[]);
        let ms = start.elapsed().as_secs_f64() * 1e3;
        assert!(second.success, "conda GPU variant: {}", second.error_text());
        samples.push((
            ms,
            conda.downloads().len() - files,
            index.bytes_downloaded() - bytes,
        ));
    }
    let ms = median(samples.iter().map(|s| s.0).collect());
    let files = median(samples.iter().map(|s| s.1 as f64).collect());
    let bytes = median(samples.iter().map(|s| s.2 as f64).collect());
    println!();
    println!(
        "| conda scenario (real conda 26.7.1, median of {runs}) | time | conda package files fetched | index bytes |"
    );
    println!("|---|---|---|---|");
    println!(
        "| second variant after the first (env file with a pip: list) | {ms:.0} ms | {files} | {bytes} |"
    );
}

/// The no-change rebuilds of the other ways to build the project.
struct NoChange {
    floor: Vec<Sample>,
    replay: Vec<Sample>,
    exported: Vec<Sample>,
    peer: Vec<Sample>,
    /// envd-frontend's no-change rebuilds with its report, untimed.
    reports: Vec<Sample>,
}

fn print_tables(rows: &[Row], others: &NoChange, runs: usize, cold_runs: usize) {
    println!("Medians: cold builds over {cold_runs} paired runs, the rest over {runs}.\n");
    println!(
        "| scenario | envd-frontend | Dockerfile | ratio | steps run (envd / Dockerfile) | index bytes (envd / Dockerfile) |"
    );
    println!("|---|---|---|---|---|---|");
    for row in rows {
        let envd = median_of(&row.envd, |s| s.ms);
        let steps = |samples: &[Sample]| median_of(samples, |s| s.steps as f64);
        let bytes = |samples: &[Sample]| median_of(samples, |s| s.index_bytes as f64);
        let dockerfile = median_of(&row.dockerfile, |s| s.ms);
        println!(
            "| {} | {envd:.0} ms | {dockerfile:.0} ms | {:.2}x | {} / {} | {} / {} |",
            row.scenario,
            envd / dockerfile,
            steps(&row.envd),
            steps(&row.dockerfile),
            bytes(&row.envd),
            bytes(&row.dockerfile)
        );
    }
    let no_change = &rows[1];
    let envd = median_of(&no_change.envd, |s| s.ms);
    let dockerfile = median_of(&no_change.dockerfile, |s| s.ms);
    let floor_ms = median_of(&others.floor, |s| s.ms);
    let replay_ms = median_of(&others.replay, |s| s.ms);
    let exported_ms = median_of(&others.exported, |s| s.ms);
    let peer_ms = median_of(&others.peer, |s| s.ms);
    println!();
    println!("| no-change rebuild | median |");
    println!("|---|---|");
    println!("| envd-frontend | {envd:.0} ms |");
    println!(
        "| BuildKit 0.25.2's Dockerfile frontend as a gateway image (`# syntax=`), the same steps | {peer_ms:.0} ms |"
    );
    println!(
        "| replay frontend (envd-frontend's graph and config, computed ahead) | {replay_ms:.0} ms |"
    );
    println!("| floor frontend (trivial image) | {floor_ms:.0} ms |");
    println!("| built-in Dockerfile frontend | {dockerfile:.0} ms |");
    println!(
        "| exported Dockerfile, built-in frontend (envd-frontend's graph without a gateway container) | {exported_ms:.0} ms |"
    );
    println!(
        "| envd-frontend / the Dockerfile frontend as a gateway image | {:.2}x |",
        envd / peer_ms
    );
    println!(
        "| envd-frontend / replay (our own work: read, evaluate, resolve) | {:.2}x |",
        envd / replay_ms
    );
    println!("| envd-frontend / floor | {:.2}x |", envd / floor_ms);
    println!("| replay / Dockerfile | {:.2}x |", replay_ms / dockerfile);
    println!(
        "| replay / the Dockerfile frontend as a gateway image | {:.2}x |",
        replay_ms / peer_ms
    );
    println!("| floor / Dockerfile | {:.2}x |", floor_ms / dockerfile);
    println!(
        "| envd-frontend / exported Dockerfile (the gateway's cost over the floor) | {:.2}x |",
        envd / exported_ms
    );
    println!();
    println!("| envd-frontend, no-change rebuild (its own report) | median |");
    println!("|---|---|");
    for (key, label) in [
        ("ping_ms", "start to Ping answered"),
        ("build_file_ms", "start to build file read"),
        ("compiled_ms", "start to the graph's Solve"),
        ("return_ms", "start to Return"),
        ("ping_cpu_ms", "CPU time, start to Ping answered"),
        ("return_cpu_ms", "CPU time, start to Return"),
        (
            "before_start_cpu_ms",
            "CPU time of the container's init, before the frontend ran",
        ),
    ] {
        let value = median_of(&others.reports, |s| report_value(s, key));
        println!("| {label} | {value:.2} ms |");
    }
    let peak = median_of(&others.reports, |s| report_value(s, "peak_rss_kib"));
    println!("| peak RSS | {:.1} MiB |", peak / 1024.0);
    let image = inspect(FRONTEND_IMAGE)["Size"].as_f64().unwrap_or(f64::NAN);
    let binary =
        std::fs::metadata(repo_root().join("target/x86_64-unknown-linux-gnu/image/envd-frontend"))
            .map_or(f64::NAN, |m| m.len() as f64);
    println!(
        "| frontend image (docker image inspect Size) | {:.2} MiB |",
        image / 1048576.0
    );
    println!("| frontend binary | {:.2} MiB |", binary / 1048576.0);
}

//! Helpers for the end-to-end suite: a project folder, `docker buildx build`
//! through the frontend image with `--progress=rawjson` (to see which steps
//! ran and which were cached), `docker run` to check the built image, and
//! the local package index on 127.0.0.1.
//!
//! The suite needs what `scripts/e2e-setup.sh` prepares: a running dockerd
//! with buildx, the `envd-test/*` base images, the test wheels and the
//! `aiges/envd-frontend` image. Once run (`--ignored`), it fails, never
//! skips, when they are missing.

// Helpers panic on failures; that is how a test reports them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Another dockerd in place of the usual one (a second machine, an older
/// Docker).
#[path = "daemons.rs"]
pub mod daemons;

/// Debian's registry on a free loopback port.
#[path = "registry.rs"]
pub mod registry;

pub const FRONTEND_IMAGE: &str = "aiges/envd-frontend:latest";

/// Where the setup script keeps its state (wheels).
pub fn state_dir() -> PathBuf {
    std::env::var_os("ENVD_E2E_STATE").map_or_else(
        || PathBuf::from("/var/tmp/envd-frontend-e2e"),
        PathBuf::from,
    )
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The `envd build` drop-in the set-up installs.
pub fn envd_cli() -> PathBuf {
    state_dir().join("bin/envd")
}

/// Whether the daemon keeps images in containerd's store, where BuildKit
/// has merge and diff ops; a daemon with the classic store (the default of
/// many installs) has neither.
pub fn daemon_has_merge_ops() -> bool {
    Command::new("docker")
        .args(["info", "--format", "{{json .DriverStatus}}"])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("io.containerd.snapshotter"))
}

/// Skips the calling test (true) on a daemon without merge and diff ops,
/// saying why and how to enable them, as `scripts/e2e-setup.sh` does.
pub fn skip_without_merge_ops(test: &str) -> bool {
    if daemon_has_merge_ops() {
        return false;
    }
    eprintln!(
        "skipped {test}: it needs BuildKit's merge and diff ops, which a dockerd with the classic image store lacks; add {{\"features\": {{\"containerd-snapshotter\": true}}}} to /etc/docker/daemon.json and restart dockerd"
    );
    true
}

/// Fails with a clear message when the set-up is missing.
pub fn require_setup() {
    let ok = |args: &[&str]| {
        Command::new("docker")
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        ok(&["info"]),
        "dockerd is not running: run scripts/e2e-setup.sh"
    );
    assert!(
        ok(&["buildx", "version"]),
        "docker buildx is missing: run scripts/e2e-setup.sh"
    );
    for image in [
        FRONTEND_IMAGE,
        "envd-test/cpu:latest",
        "envd-test/gpu:latest",
        "envd-test/conda:latest",
    ] {
        assert!(
            ok(&["image", "inspect", image]),
            "image {image} is missing: run scripts/e2e-setup.sh"
        );
    }
    assert!(
        envd_cli().exists(),
        "the envd drop-in is missing: run scripts/e2e-setup.sh"
    );
    assert!(
        state_dir().join("wheels/.complete").exists(),
        "test wheels are missing: run scripts/e2e-setup.sh"
    );
}

/// Text new on every call, for build files: BuildKit's cache outlives the
/// suite, so a step that must run has to be new to the daemon.
pub fn nonce() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is past 1970")
        .as_nanos();
    format!("{}-{now}", std::process::id())
}

/// A temporary project folder (the build context), removed on drop.
pub struct Project {
    pub dir: PathBuf,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl Project {
    pub fn new(name: &str) -> Project {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("envd-e2e-{}-{name}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        Project { dir }
    }

    /// A copy of a folder of the repository (e.g. `examples/seed`).
    pub fn copy_of(name: &str, from: &str) -> Project {
        let project = Project::new(name);
        copy_dir(&repo_root().join(from), &project.dir);
        project
    }

    pub fn write(&self, path: &str, content: &str) -> &Project {
        let full = self.dir.join(path);
        fs::create_dir_all(full.parent().unwrap()).unwrap();
        fs::write(full, content).unwrap();
        self
    }

    pub fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir.join(path)).unwrap()
    }
}

impl Drop for Project {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// One step as buildx reported it.
#[derive(Debug, Clone)]
pub struct Vertex {
    pub digest: String,
    /// The step's name without the build.envd line it starts with.
    pub name: String,
    /// That line, `build.envd:4`, for steps that run commands.
    pub location: Option<String>,
    /// The platform the name starts with, in a multi-platform build.
    pub platform: Option<String>,
    pub cached: bool,
    /// Number of inputs (0 for sources and ops on scratch).
    pub inputs: usize,
    pub error: Option<String>,
}

#[derive(Debug)]
pub struct BuildOutput {
    pub success: bool,
    /// buildx's stderr: the rawjson progress lines, then any error.
    pub stderr: String,
    pub vertices: Vec<Vertex>,
}

impl BuildOutput {
    /// Steps of the build file (named by envd-frontend) that ran, not
    /// cached. BuildKit reports an op without inputs as started and not
    /// cached when it only computes its cache key (solver/jobs.go,
    /// `CacheMap`), so those are left out; they do no work worth counting.
    pub fn executed(&self) -> Vec<&str> {
        self.vertices
            .iter()
            .filter(|v| !v.cached && v.inputs > 0 && is_build_step(&v.name))
            .map(|v| v.name.as_str())
            .collect()
    }

    pub fn cached(&self) -> Vec<&str> {
        self.vertices
            .iter()
            .filter(|v| v.cached && is_build_step(&v.name))
            .map(|v| v.name.as_str())
            .collect()
    }

    /// Vertices whose name starts with `prefix`.
    pub fn vertices_named(&self, prefix: &str) -> Vec<&Vertex> {
        self.vertices
            .iter()
            .filter(|v| v.name.starts_with(prefix))
            .collect()
    }

    /// What the steps named `prefix...` printed (stdout and stderr).
    pub fn logs(&self, prefix: &str) -> String {
        use base64::Engine;
        let digests: Vec<&str> = self
            .vertices
            .iter()
            .filter(|v| v.name.starts_with(prefix))
            .map(|v| v.digest.as_str())
            .collect();
        let mut out = String::new();
        for status in split_rawjson(&self.stderr).0 {
            for log in status["logs"].as_array().into_iter().flatten() {
                if !digests.contains(&log["vertex"].as_str().unwrap_or_default()) {
                    continue;
                }
                let data = base64::engine::general_purpose::STANDARD
                    .decode(log["data"].as_str().unwrap_or_default())
                    .expect("buildx sends logs as base64");
                out.push_str(&String::from_utf8_lossy(&data));
            }
        }
        out
    }

    /// The error text buildx printed after the progress stream.
    pub fn error_text(&self) -> String {
        split_rawjson(&self.stderr).1.to_string()
    }
}

/// A step name as the frontend gives it, `[build.envd:4] run ...`, split
/// into the line and the rest; other names (`[internal] ...`) whole. In a
/// multi-platform build the platform comes first (`[linux/arm64
/// build.envd:4] run ...`, `[linux/arm64] base ...`): see [`split_name`].
pub fn split_location(name: &str) -> (Option<&str>, &str) {
    let (_, location, rest) = split_name(name);
    (location, rest)
}

/// A step name split into its platform, its build.envd line and the rest.
pub fn split_name(name: &str) -> (Option<&str>, Option<&str>, &str) {
    let Some((head, rest)) = name
        .strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
    else {
        return (None, None, name);
    };
    let is_platform = |word: &str| {
        word.split('/').count() >= 2
            && word
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'.' | b'_' | b'-'))
    };
    let is_line = |at: &str| {
        at.rsplit_once(':').is_some_and(|(file, line)| {
            !file.is_empty() && !line.is_empty() && line.bytes().all(|b| b.is_ascii_digit())
        })
    };
    match head.split_once(' ') {
        Some((platform, at)) if is_platform(platform) && is_line(at) => {
            (Some(platform), Some(at), rest)
        }
        None if is_platform(head) => (Some(head), None, rest),
        None if is_line(head) => (None, Some(head), rest),
        _ => (None, None, name),
    }
}

/// Progress names of ops made from build.envd calls (not transfers of the
/// build context or of the build file, which BuildKit always re-checks).
pub fn is_build_step(name: &str) -> bool {
    let prefixes = [
        "base: ", "install.", "io.copy", "io.http", "run ", "config.", "runtime.",
    ];
    prefixes.iter().any(|p| name.starts_with(p))
}

/// `docker buildx build` of `project` with the given build file and args,
/// loaded into dockerd as `tag`.
pub fn build(
    project: &Project,
    file: &str,
    tag: &str,
    args: &[(&str, &str)],
    extra: &[&str],
) -> BuildOutput {
    let mut flags = vec!["--load", "-t", tag];
    flags.extend_from_slice(extra);
    buildx(project, file, args, &flags)
}

/// `docker buildx build` of `project`, its steps on the host network (the
/// local index), with `flags` choosing the builder and the output.
pub fn buildx(project: &Project, file: &str, args: &[(&str, &str)], flags: &[&str]) -> BuildOutput {
    let mut cmd = Command::new("docker");
    cmd.args(["buildx", "build", "--progress=rawjson", "-f"])
        .arg(project.dir.join(file))
        .args(["--network=host", "--allow", "network.host"]);
    for (key, value) in args {
        cmd.arg("--build-arg").arg(format!("{key}={value}"));
    }
    cmd.args(flags).arg(&project.dir);
    let output = cmd.output().expect("docker buildx build runs");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    BuildOutput {
        success: output.status.success(),
        vertices: parse_rawjson(&stderr),
        stderr,
    }
}

/// What `docker buildx build --print=WHAT` wrote (buildx 0.13 has the
/// flag only with `BUILDX_EXPERIMENTAL=1`; newer clients call it `--call`).
pub struct Printed {
    pub success: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Asks the frontend subrequest `what` (`targets`, `outline`, `lint`,
/// `subrequests.describe`, optionally with `,format=json`) about `file`.
pub fn print(project: &Project, file: &str, what: &str, args: &[(&str, &str)]) -> Printed {
    let mut cmd = Command::new("docker");
    cmd.env("BUILDX_EXPERIMENTAL", "1")
        .args(["buildx", "build", "--progress=plain"])
        .arg(format!("--print={what}"))
        .arg("-f")
        .arg(project.dir.join(file));
    for (key, value) in args {
        cmd.arg("--build-arg").arg(format!("{key}={value}"));
    }
    let output = cmd
        .arg(&project.dir)
        .output()
        .expect("docker buildx build runs");
    Printed {
        success: output.status.success(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// buildx's rawjson progress is a stream of (pretty-printed) JSON objects;
/// anything after it is the error buildx prints.
fn split_rawjson(stderr: &str) -> (Vec<serde_json::Value>, &str) {
    // buildx writes each status as indented JSON, and the error after the
    // stream. Lines of other text before the stream (a warning buildx
    // prints first) are skipped, rather than taken for its end.
    let mut at = 0;
    loop {
        let mut stream =
            serde_json::Deserializer::from_str(&stderr[at..]).into_iter::<serde_json::Value>();
        let mut statuses = vec![];
        let mut end = at;
        while let Some(Ok(status @ serde_json::Value::Object(_))) = stream.next() {
            statuses.push(status);
            end = at + stream.byte_offset();
        }
        if !statuses.is_empty() {
            return (statuses, &stderr[end..]);
        }
        match stderr[at..].find('\n') {
            Some(newline) => at += newline + 1,
            None => return (vec![], stderr),
        }
    }
}

/// Final state of each vertex from buildx's rawjson progress.
fn parse_rawjson(stderr: &str) -> Vec<Vertex> {
    let mut by_digest: BTreeMap<String, Vertex> = BTreeMap::new();
    let mut order: Vec<String> = vec![];
    for status in split_rawjson(stderr).0 {
        for v in status["vertexes"].as_array().into_iter().flatten() {
            let digest = v["digest"].as_str().unwrap_or_default().to_string();
            if !by_digest.contains_key(&digest) {
                order.push(digest.clone());
            }
            let entry = by_digest.entry(digest.clone()).or_insert(Vertex {
                digest,
                name: String::new(),
                location: None,
                platform: None,
                cached: false,
                inputs: 0,
                error: None,
            });
            if let Some(inputs) = v["inputs"].as_array() {
                entry.inputs = entry.inputs.max(inputs.len());
            }
            if let Some(name) = v["name"].as_str() {
                let (platform, location, name) = split_name(name);
                entry.name = name.to_string();
                entry.location = location.map(str::to_string);
                entry.platform = platform.map(str::to_string);
            }
            entry.cached |= v["cached"].as_bool().unwrap_or(false);
            if let Some(error) = v["error"].as_str() {
                entry.error = Some(error.to_string());
            }
        }
    }
    order
        .into_iter()
        .filter_map(|d| by_digest.remove(&d))
        .collect()
}

/// `docker ARGS...`; returns stdout, panics with stderr on failure.
pub fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        output.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `docker run --rm IMAGE sh -c SCRIPT`; returns stdout, panics on failure.
pub fn run_in(image: &str, script: &str) -> String {
    let output = Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network=none",
            "--entrypoint",
            "/bin/sh",
            image,
            "-c",
            script,
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "`{script}` failed in {image}:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `docker image inspect` of one image, as JSON.
pub fn inspect(image: &str) -> serde_json::Value {
    let output = Command::new("docker")
        .args(["image", "inspect", image])
        .output()
        .unwrap();
    assert!(output.status.success(), "no image {image}");
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    list[0].clone()
}

/// Starts one of the suite's Python servers on 127.0.0.1: `script` serving
/// `root` (under the set-up's state), logging downloads to `log`, with
/// `args`; returns it and the port it printed.
fn serve<'a>(
    script: &str,
    root: &str,
    log: &Path,
    args: impl IntoIterator<Item = &'a str>,
) -> (Child, String) {
    let mut child = Command::new("python3")
        .arg(repo_root().join(script))
        .arg("--root")
        .arg(state_dir().join(root))
        .arg("--log")
        .arg(log)
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs {script}: {e}"));
    let mut port = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut port)
        .unwrap();
    (child, port.trim().to_string())
}

/// The suite's conda channel (`scripts/e2e-setup.sh conda` builds it),
/// served on 127.0.0.1 as a site's conda mirror serves channels: under
/// each of the names a build may ask for (`pkgs/main`, `conda-forge`, ...;
/// any other name is a 404), logging every package file fetched.
pub struct CondaMirror {
    child: Child,
    /// The mirror's root, what `ENVD_CONDA_CHANNEL` names.
    pub url: String,
    log: PathBuf,
}

/// The channel names the suite's mirror serves: conda's defaults, and the
/// channels the seed example's `.condarc` and calls name.
pub const CONDA_CHANNEL_NAMES: &[&str] = &[
    "pkgs/main",
    "pkgs/r",
    "pkgs/free",
    "conda-forge",
    "pytorch",
    "menpo",
    "bioconda",
    "msys2",
];

impl CondaMirror {
    pub fn start(name: &str) -> CondaMirror {
        let log =
            std::env::temp_dir().join(format!("envd-e2e-conda-{}-{name}.log", std::process::id()));
        let _ = fs::remove_file(&log);
        let names = CONDA_CHANNEL_NAMES.iter().flat_map(|name| ["--name", name]);
        let (child, port) = serve("tests/e2e/conda/serve.py", "conda/channel", &log, names);
        CondaMirror {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// Package files downloaded so far.
    pub fn downloads(&self) -> Vec<String> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| line.split('\t').next().unwrap_or(line).to_string())
            .collect()
    }
}

impl Drop for CondaMirror {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// The test wheels served as a package index on 127.0.0.1, logging each
/// download. Each test gets its own server (and so its own URLs, which is
/// what pip's cache is keyed by).
pub struct PackageIndex {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl PackageIndex {
    pub fn start(name: &str) -> PackageIndex {
        PackageIndex::serve(name, None)
    }

    /// An index that answers 401 to every request without the basic-auth
    /// login `user:password`, as a private mirror does.
    pub fn with_login(name: &str, login: &str) -> PackageIndex {
        PackageIndex::serve(name, Some(login))
    }

    fn serve(name: &str, login: Option<&str>) -> PackageIndex {
        let log =
            std::env::temp_dir().join(format!("envd-e2e-index-{}-{name}.log", std::process::id()));
        let _ = fs::remove_file(&log);
        let login = login.into_iter().flat_map(|login| ["--login", login]);
        let (child, port) = serve("tests/e2e/index/serve.py", "wheels", &log, login);
        PackageIndex {
            child,
            url: format!("http://127.0.0.1:{port}/simple"),
            log,
        }
    }

    /// Files downloaded so far.
    pub fn downloads(&self) -> Vec<String> {
        self.log_entries()
            .into_iter()
            .map(|(name, _)| name)
            .collect()
    }

    /// Bytes of all files downloaded so far.
    pub fn bytes_downloaded(&self) -> u64 {
        self.log_entries().iter().map(|(_, bytes)| bytes).sum()
    }

    fn log_entries(&self) -> Vec<(String, u64)> {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(|line| {
                let (name, bytes) = line.split_once('\t').expect("name<TAB>bytes");
                (name.to_string(), bytes.parse().expect("a byte count"))
            })
            .collect()
    }
}

impl Drop for PackageIndex {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}

/// Build args that point the seed's names at the test images and mirrors.
pub fn site_args(index: &PackageIndex, base: &str) -> Vec<(String, String)> {
    vec![
        ("ENVD_BASE_IMAGE".to_string(), base.to_string()),
        ("ENVD_PIP_INDEX".to_string(), index.url.clone()),
        // Debian's archive has no Python 3.8; the test base has 3.11.
        ("ENVD_PYTHON_VERSION".to_string(), "3.11".to_string()),
    ]
}

/// [`site_args`] for the real-conda bases: also the suite's conda mirror
/// (`ENVD_CONDA_CHANNEL`).
pub fn conda_site_args(
    index: &PackageIndex,
    conda: &CondaMirror,
    base: &str,
) -> Vec<(String, String)> {
    let mut site = site_args(index, base);
    site.push(("ENVD_CONDA_CHANNEL".to_string(), conda.url.clone()));
    site
}

pub fn args(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect()
}

/// The suite's conda packages in the image's base prefix, as conda lists
/// them: `NAME VERSION` lines.
pub fn conda_list(image: &str) -> String {
    run_in(
        image,
        "conda list --prefix /opt/conda envd-conda | awk '!/^#/ {print $1, $2}'",
    )
}

/// Checks the seed example's image: every call of the file had its effect.
pub fn check_seed_image(image: &str, index: &PackageIndex, conda: &CondaMirror) {
    let imports = run_in(
        image,
        "python -c 'import torch, mim, mmcv, envd_test_beta, envd_test_gamma, detectron2; \
         print(torch.__version__, mmcv.__version__, envd_test_beta.VALUE, envd_test_gamma.VALUE, detectron2.__file__)'",
    );
    assert_eq!(
        imports.trim(),
        "1.10 1.7.0 beta gamma /detectron2/detectron2/__init__.py"
    );
    run_in(
        image,
        "dpkg -s libgl1-mesa-glx | grep -q '^Status: install ok installed'",
    );
    run_in(
        image,
        "test -f /detectron2/setup.py && pip show detectron2 | grep -q '^Location: /detectron2'",
    );
    let pip_conf = run_in(image, "cat /etc/pip.conf");
    assert!(
        pip_conf.contains(&format!("index-url = {}", index.url)),
        "{pip_conf}"
    );
    // The site's mirror took the place of every channel the file names.
    let condarc: serde_json::Value = serde_json::from_str(&run_in(
        image,
        "/opt/conda/bin/python -c 'import json; from ruamel.yaml import YAML; print(json.dumps(YAML(typ=\"safe\").load(open(\"/etc/conda/.condarc\"))))'",
    ))
    .unwrap();
    assert_eq!(condarc["channel_alias"], conda.url.as_str(), "{condarc}");
    let defaults = condarc["default_channels"].as_array().unwrap();
    assert!(
        !defaults.is_empty()
            && defaults
                .iter()
                .all(|c| c.as_str().unwrap().starts_with(&conda.url)),
        "{condarc}"
    );
    // Real conda installed the env file's packages at the versions asked
    // for (alpha 2.0 wants beta >=1.1,<2), with the prefix rewritten.
    assert_eq!(
        conda_list(image),
        "envd-conda-alpha 2.0\nenvd-conda-beta 1.1\nenvd-conda-prefixed 1.0\n"
    );
    assert!(
        run_in(image, "cat /opt/conda/etc/envd-conda-prefixed.conf")
            .contains("prefix=/opt/conda\n")
    );
    assert_eq!(run_in(image, "python --version").trim(), "Python 3.11.2");
}

/// Serves files by path on 127.0.0.1 (404 for others); returns the port.
/// The thread lives as long as the test process.
pub fn serve_files(files: Vec<(String, Vec<u8>)>) -> u16 {
    serve_http(move |path| {
        files
            .iter()
            .find(|(p, _)| p == path)
            .map(|(_, body)| body.clone())
    })
}

/// An HTTP server on 127.0.0.1 answering each request with what `answer`
/// gives for its path (404 for `None`); returns the port. The thread lives
/// as long as the test process.
pub fn serve_http(answer: impl Fn(&str) -> Option<Vec<u8>> + Send + 'static) -> u16 {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut request = [0u8; 4096];
            let n = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..n]);
            let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (status, body) = match answer(&path) {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"not found\n".to_vec()),
            };
            let head = format!(
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(head.as_bytes());
            let _ = stream.write_all(&body);
        }
    });
    port
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_line_before_the_progress_stream_does_not_end_it() {
        let stderr = "WARNING: current commit information was not captured by the build\n\
             {\n  \"vertexes\": [\n    {\"digest\": \"sha256:a\", \"name\": \"step\"}\n  ]\n}\n\
             {\"logs\":[]}\n\
             ERROR: failed to solve\n";
        let (statuses, rest) = split_rawjson(stderr);
        assert_eq!(statuses.len(), 2);
        assert_eq!(rest.trim(), "ERROR: failed to solve");
        assert_eq!(parse_rawjson(stderr)[0].name, "step");
        // The error after the stream is kept whole, whatever its lines.
        let excerpt = "{\"logs\":[]}\nbuild.envd:5\n   5 | >>>     run()\nERROR: x\n";
        let (statuses, rest) = split_rawjson(excerpt);
        assert_eq!(
            (statuses.len(), rest),
            (1, "\nbuild.envd:5\n   5 | >>>     run()\nERROR: x\n")
        );
        assert_eq!(
            split_rawjson("ERROR: no stream\n"),
            (vec![], "ERROR: no stream\n")
        );
    }

    #[test]
    fn step_names_split_into_platform_line_and_rest() {
        assert_eq!(
            split_name("[build.envd:4] run false"),
            (None, Some("build.envd:4"), "run false")
        );
        assert_eq!(
            split_name("[linux/arm64 build.envd:6] install.system_packages curl"),
            (
                Some("linux/arm64"),
                Some("build.envd:6"),
                "install.system_packages curl"
            )
        );
        assert_eq!(
            split_name("[linux/arm64/v8.2] io.copy ./ -> /srv"),
            (Some("linux/arm64/v8.2"), None, "io.copy ./ -> /srv")
        );
        for whole in [
            "[internal] load build definition",
            "[envd-frontend] resolve image config for x",
            "[linux/arm64 internal] load metadata",
            "exporting to image",
        ] {
            assert_eq!(split_name(whole), (None, None, whole));
        }
    }
}

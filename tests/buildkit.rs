//! BuildKit 0.25 as teams run it beyond one laptop: buildx
//! `docker-container` builders running buildkitd built from BuildKit's
//! source (`scripts/e2e-setup.sh buildkit`), qemu for linux/arm64
//! (`scripts/e2e-setup.sh qemu`), and Debian's registry on 127.0.0.1
//! serving the frontend image, a multi-platform base (the CPU test base
//! and its arm64 twin) and a build cache.
//!
//! Each test makes its own builders and registry and removes them. The
//! tests build for a second architecture under emulation, so they take
//! minutes: scripts/test.sh runs them one at a time, after the suite.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use envd_e2e::registry::Registry;
use envd_e2e::*;

/// The platforms of the multi-platform builds.
const BOTH: &str = "linux/amd64,linux/arm64";

/// The image `scripts/e2e-setup.sh buildkit` makes.
const BUILDKIT_IMAGE: &str = "envd-test/buildkit:0.25.2";
/// The arm64 twin of `envd-test/cpu` (`scripts/e2e-setup.sh arm64`).
const ARM64_BASE: &str = "envd-test/cpu-arm64:latest";

/// The registry with the frontend and the bases, and the buildkitd
/// configuration that lets builders reach it over plain HTTP.
struct Site {
    registry: Registry,
    frontend: String,
    /// `linux/amd64` and `linux/arm64` in one index.
    base: String,
    /// The CPU base alone: a single-platform `linux/amd64` image.
    base_amd64: String,
    buildkitd_config: PathBuf,
}

impl Site {
    fn start() -> Site {
        require_setup();
        for image in [BUILDKIT_IMAGE, ARM64_BASE] {
            assert!(
                Command::new("docker")
                    .args(["image", "inspect", image])
                    .output()
                    .is_ok_and(|o| o.status.success()),
                "image {image} is missing: run scripts/e2e-setup.sh"
            );
        }
        let registry = Registry::start();
        let frontend = registry.push_as(FRONTEND_IMAGE, "aiges/envd-frontend:latest");
        let base_amd64 = registry.push_as("envd-test/cpu:latest", "envd-test/cpu:amd64");
        let arm64 = registry.push_as(ARM64_BASE, "envd-test/cpu:arm64");
        let base = registry.index("envd-test/cpu:multi", &[&base_amd64, &arm64]);
        let buildkitd_config = std::env::temp_dir().join(format!(
            "envd-e2e-buildkitd-{}-{}.toml",
            std::process::id(),
            registry.address.replace([':', '.'], "-")
        ));
        std::fs::write(
            &buildkitd_config,
            format!(
                "[registry.\"{}\"]\n  http = true\n  insecure = true\n",
                registry.address
            ),
        )
        .expect("buildkitd config");
        Site {
            registry,
            frontend,
            base,
            base_amd64,
            buildkitd_config,
        }
    }

    /// Site settings: the base, the local index, the frontend from the
    /// registry (`BUILDKIT_SYNTAX` wins over the file's `# syntax=` line).
    fn args(&self, index: &PackageIndex, base: &str) -> Vec<(String, String)> {
        let mut args = site_args(index, base);
        args.push(("BUILDKIT_SYNTAX".to_string(), self.frontend.clone()));
        args
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.buildkitd_config);
    }
}

static BUILDERS: AtomicUsize = AtomicUsize::new(0);

/// A buildx builder of `docker-container` nodes running BuildKit 0.25 on
/// the host network (so steps reach the local index), removed with its
/// state on drop.
struct Builder {
    name: String,
    nodes: Vec<String>,
    /// Docker contexts made for nodes after the first.
    contexts: Vec<String>,
}

impl Builder {
    /// One node per entry, each limited to the platform given, if any.
    fn create(site: &Site, platforms: &[Option<&str>]) -> Builder {
        let n = BUILDERS.fetch_add(1, Ordering::SeqCst);
        // Made first, so what was created is removed if a step fails.
        let mut builder = Builder {
            name: format!("envd-e2e-{}-{n}", std::process::id()),
            nodes: vec![],
            contexts: vec![],
        };
        let name = builder.name.clone();
        for (i, platform) in platforms.iter().enumerate() {
            let node = format!("{name}-node{i}");
            let mut args = vec!["buildx", "create"];
            if i > 0 {
                args.push("--append");
            }
            // buildx takes one node per endpoint: later nodes reach this
            // dockerd through a Docker context of their own, as they would
            // reach another machine's.
            let context = format!("{node}-machine");
            if i > 0 {
                docker(&[
                    "context",
                    "create",
                    &context,
                    "--docker",
                    "host=unix:///var/run/docker.sock",
                ]);
                builder.contexts.push(context.clone());
            }
            let driver_opt = format!("image={BUILDKIT_IMAGE},network=host");
            let config = site.buildkitd_config.to_string_lossy().into_owned();
            args.extend([
                "--name",
                &name,
                "--node",
                &node,
                "--driver",
                "docker-container",
                "--driver-opt",
                &driver_opt,
                "--buildkitd-config",
                &config,
            ]);
            if let Some(platform) = platform {
                args.extend(["--platform", platform]);
            }
            args.push("--bootstrap");
            if i > 0 {
                args.push(&context);
            }
            builder.nodes.push(node.clone());
            docker(&args);
        }
        let version = docker(&["exec", &builder.container(0), "buildkitd", "--version"]);
        assert!(
            version.contains("v0.25.2"),
            "the builder runs BuildKit 0.25.2: {version}"
        );
        builder
    }

    /// `docker buildx build` of `project`'s build.envd on this builder,
    /// with the site settings `args`, for `platforms` (the builder's
    /// default when `None`), and `flags` (output, caches).
    fn build(
        &self,
        project: &Project,
        args: &[(String, String)],
        platforms: Option<&str>,
        flags: &[&str],
    ) -> BuildOutput {
        let mut all = vec!["--builder", self.name.as_str()];
        if let Some(platforms) = platforms {
            all.extend(["--platform", platforms]);
        }
        all.extend_from_slice(flags);
        buildx(project, "build.envd", &envd_e2e::args(args), &all)
    }

    /// The container of node `i`, as buildx names it.
    fn container(&self, i: usize) -> String {
        format!("buildx_buildkit_{}", self.nodes[i])
    }

    /// The content blobs node `i` holds (what it pulled).
    fn blobs(&self, i: usize) -> String {
        docker(&[
            "exec",
            &self.container(i),
            "ls",
            "/var/lib/buildkit/runc-overlayfs/content/blobs/sha256",
        ])
    }
}

impl Drop for Builder {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["buildx", "rm", &self.name])
            .output();
        for context in &self.contexts {
            let _ = Command::new("docker")
                .args(["context", "rm", "-f", context])
                .output();
        }
    }
}

/// `docker run --platform PLATFORM IMAGE sh -c SCRIPT`, after pulling that
/// platform's image from the registry (removed again after the run).
fn run_platform(image: &str, platform: &str, script: &str) -> String {
    /// Removes the pulled image however the run ends.
    struct Pulled<'a>(&'a str);
    impl Drop for Pulled<'_> {
        fn drop(&mut self) {
            let _ = Command::new("docker")
                .args(["image", "rm", "-f", self.0])
                .output();
        }
    }
    docker(&["pull", "-q", "--platform", platform, image]);
    let _pulled = Pulled(image);
    docker(&[
        "run",
        "--rm",
        "--platform",
        platform,
        "--entrypoint",
        "sh",
        image,
        "-c",
        script,
    ])
}

/// buildkitd 0.25 in a container of its own on the host network, listening
/// on a loopback TCP port: what buildx's `remote` driver connects to (a
/// BuildKit on another machine, or a Kubernetes service). Removed on drop.
struct RemoteBuildkitd {
    container: String,
    address: String,
}

impl RemoteBuildkitd {
    fn start(site: &Site) -> RemoteBuildkitd {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let address = format!("tcp://127.0.0.1:{port}");
        let container = format!("envd-e2e-buildkitd-{}-{port}", std::process::id());
        let config = format!(
            "{}:/etc/buildkit/buildkitd.toml:ro",
            site.buildkitd_config.display()
        );
        docker(&[
            "run",
            "-d",
            "--name",
            &container,
            "--privileged",
            "--network",
            "host",
            "-v",
            &config,
            BUILDKIT_IMAGE,
            "--addr",
            &address,
            "--allow-insecure-entitlement",
            "network.host",
        ]);
        // Made before the wait, so the container goes if the wait fails.
        let daemon = RemoteBuildkitd { container, address };
        let listening = format!("127.0.0.1:{port}");
        let start = std::time::Instant::now();
        while std::net::TcpStream::connect(&listening).is_err() {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "buildkitd did not listen on {} within 30 s",
                daemon.address
            );
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        daemon
    }
}

impl Drop for RemoteBuildkitd {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rm", "-f", "-v", &self.container])
            .output();
    }
}

/// The platforms of the steps named `name` (without line and platform).
fn platforms_of(output: &BuildOutput, name: &str) -> Vec<String> {
    let mut platforms: Vec<String> = output
        .vertices
        .iter()
        .filter(|v| v.name == name)
        .filter_map(|v| v.platform.clone())
        .collect();
    platforms.sort();
    platforms.dedup();
    platforms
}

#[test]
#[ignore = "needs Docker, BuildKit 0.25 and qemu: run scripts/test.sh"]
fn the_wrapper_builds_for_two_architectures_and_its_cache_fills_a_fresh_builder() {
    let site = Site::start();
    let index = PackageIndex::start("buildkit-multi");
    let project = Project::copy_of("buildkit-multi", "examples/aiges-wrapper");
    // New to the builder's cache, so the build runs its steps.
    project.write("wrapper/nonce.txt", &nonce());
    let args = site.args(&index, &site.base);
    let image = site.registry.reference("envd-e2e/wrapper:multi");
    let cache = format!(
        "type=registry,ref={}",
        site.registry.reference("cache/wrapper")
    );
    let output = format!("type=image,name={image},push=true");
    let cache_to = format!("{cache},mode=max");

    let builder = Builder::create(&site, &[None]);
    let first = builder.build(
        &project,
        &args,
        Some(BOTH),
        &["--output", &output, "--cache-to", &cache_to],
    );
    assert!(first.success, "{}", first.error_text());
    // Each platform's steps are named after it.
    assert_eq!(
        platforms_of(&first, "install.system_packages curl, procps"),
        ["linux/amd64", "linux/arm64"]
    );
    // Every op of one platform's graph names it (the context's transfers
    // are shared, and name none); steps that run commands name their line.
    let steps: Vec<&Vertex> = first
        .vertices
        .iter()
        .filter(|v| v.inputs > 0 && is_build_step(&v.name))
        .collect();
    assert!(steps.len() >= 2 * 8, "{steps:?}");
    assert!(
        steps.iter().all(|v| v.platform.is_some()),
        "every step names its platform: {steps:?}"
    );
    assert!(
        steps
            .iter()
            .filter(|v| v.name.starts_with("install.") || v.name.starts_with("run "))
            .all(|v| v.location.is_some()),
        "steps that run commands name their line: {steps:?}"
    );
    drop(builder);

    for (platform, machine, deb) in [
        ("linux/amd64", "x86_64", "amd64"),
        ("linux/arm64", "aarch64", "arm64"),
    ] {
        let ran = run_platform(
            &image,
            platform,
            "uname -m; dpkg-query -W -f='${Architecture}\\n' curl; python /home/aiges/wrapper/wrapper.py",
        );
        let lines: Vec<&str> = ran.lines().collect();
        assert_eq!(
            lines,
            [machine, deb, "wrapper ready: alpha delta"],
            "{platform}: the image's programs and packages are its own"
        );
    }

    // A builder with nothing in it takes every step from the registry.
    let fresh = Builder::create(&site, &[None]);
    let cache_from = cache.clone();
    let second = fresh.build(
        &project,
        &args,
        Some(BOTH),
        &["--output", &output, "--cache-from", &cache_from],
    );
    assert!(second.success, "{}", second.error_text());
    assert_eq!(
        second.executed(),
        Vec::<&str>::new(),
        "no step runs on a fresh builder with the registry's cache"
    );
    assert_eq!(
        platforms_of(&second, "install.python_packages -r requirements.txt")
            .into_iter()
            .filter(|p| second.vertices.iter().any(|v| v.cached
                && v.platform.as_deref() == Some(p)
                && v.name == "install.python_packages -r requirements.txt"))
            .count(),
        2,
        "both platforms' pip steps come from the cache"
    );
}

#[test]
#[ignore = "needs Docker, BuildKit 0.25 and qemu: run scripts/test.sh"]
fn two_nodes_one_per_platform_each_pull_only_their_own_base() {
    let site = Site::start();
    let index = PackageIndex::start("buildkit-nodes");
    let project = Project::new("buildkit-nodes");
    project.write(
        "build.envd",
        &format!(
            "def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    run(commands=[\"uname -m > /arch # {}\"])\n",
            nonce()
        ),
    );
    let args = site.args(&index, &site.base);
    let builder = Builder::create(&site, &[Some("linux/amd64"), Some("linux/arm64")]);
    let image = site.registry.reference("envd-e2e/nodes:1");
    let output = format!("type=image,name={image},push=true");
    let built = builder.build(&project, &args, Some(BOTH), &["--output", &output]);
    assert!(built.success, "{}", built.error_text());

    let amd64_layers = site.registry.layers("envd-test/cpu:amd64");
    let arm64_layers = site.registry.layers("envd-test/cpu:arm64");
    let hex = |digest: &str| digest.trim_start_matches("sha256:").to_string();
    let (node0, node1) = (builder.blobs(0), builder.blobs(1));
    for layer in &amd64_layers {
        assert!(
            node0.contains(&hex(layer)),
            "the amd64 node pulled its base"
        );
        assert!(
            !node1.contains(&hex(layer)),
            "the arm64 node left amd64 alone"
        );
    }
    for layer in &arm64_layers {
        assert!(
            node1.contains(&hex(layer)),
            "the arm64 node pulled its base"
        );
        assert!(
            !node0.contains(&hex(layer)),
            "the amd64 node left arm64 alone"
        );
    }
    drop(builder);
    assert_eq!(
        run_platform(&image, "linux/arm64", "cat /arch").trim(),
        "aarch64"
    );
    assert_eq!(
        run_platform(&image, "linux/amd64", "cat /arch").trim(),
        "x86_64"
    );
}

#[test]
#[ignore = "needs Docker, BuildKit 0.25 and qemu: run scripts/test.sh"]
fn failures_are_located_and_base_platforms_checked_on_buildkit_025() {
    let site = Site::start();
    let index = PackageIndex::start("buildkit-errors");
    let builder = Builder::create(&site, &[None]);
    let project = Project::new("buildkit-errors");
    let build_on = |args: &[(String, String)], platform: &str| {
        builder.build(&project, args, Some(platform), &[])
    };

    // A failing step: the daemon's error carries the build.envd excerpt.
    project.write(
        "build.envd",
        &format!(
            "def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    run(commands=[\"echo {}\"])\n    run(commands=[\"false\"])\n",
            nonce()
        ),
    );
    let failed = build_on(&site.args(&index, &site.base), "linux/amd64");
    assert!(!failed.success);
    let error = failed.error_text();
    assert!(
        error.contains(">>>     run(commands=[\"false\"])") && error.contains("build.envd:4"),
        "the failed step's excerpt: {error}"
    );

    // An amd64-only base for an arm64 build: an error at base().
    project.write(
        "build.envd",
        "def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    run(commands=[\"uname -m\"])\n",
    );
    let wrong = build_on(&site.args(&index, &site.base_amd64), "linux/arm64");
    assert!(!wrong.success, "an amd64 base never becomes an arm64 image");
    let error = wrong.error_text();
    assert!(
        error.contains(&format!(
            "build.envd:2: base image {} (set by --build-arg ENVD_BASE_IMAGE) is for linux/amd64, and this build is for linux/arm64",
            site.base_amd64
        )) && error.contains(">>>     base(os=\"aiges_cpu\""),
        "{error}"
    );

    // A multi-platform base without an arm64 image: the error names the
    // platform it lacks.
    let amd64_index = site
        .registry
        .index("envd-test/cpu:amd64-index", &[&site.base_amd64]);
    let missing = build_on(&site.args(&index, &amd64_index), "linux/arm64");
    assert!(!missing.success);
    let error = missing.error_text();
    assert!(
        error.contains(&format!(
            "build.envd:2: cannot resolve base image {amd64_index} for linux/arm64: "
        )),
        "{error}"
    );

    // The same base for amd64/v2 machines: they run it, with a warning.
    let loose = build_on(&site.args(&index, &site.base_amd64), "linux/amd64/v2");
    assert!(loose.success, "{}", loose.error_text());
    let warning = format!(
        "warning: build.envd:2: base image {} (set by --build-arg ENVD_BASE_IMAGE) was pulled with platform \"linux/amd64\", expected \"linux/amd64/v2\" for current build",
        site.base_amd64
    );
    assert!(
        loose.vertices.iter().any(|v| v.name == warning),
        "{warning} in {:?}",
        loose.vertices.iter().map(|v| &v.name).collect::<Vec<_>>()
    );
}

#[test]
#[ignore = "needs Docker, BuildKit 0.25 and qemu: run scripts/test.sh"]
fn buildctl_builds_through_gateway_v0_on_the_builder() {
    let site = Site::start();
    let builder = Builder::create(&site, &[None]);
    let project = Project::new("buildkit-buildctl");
    let nonce = nonce();
    project
        .write(
            "build.envd",
            "def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    io.copy(host_path=\"./service\", envd_path=\"/srv/\")\n    run(commands=[\"python /srv/service/main.py > /srv/out.txt\"])\n",
        )
        .write("service/main.py", &format!("print('{nonce}')\n"));
    let image = site.registry.reference("envd-e2e/buildctl:1");
    let buildctl = state_dir().join("buildkit-0.25.2/bin/buildctl");
    let dir = project.dir.to_string_lossy().into_owned();
    let output = Command::new(&buildctl)
        .arg("--addr")
        .arg(format!("docker-container://{}", builder.container(0)))
        .args(["build", "--frontend", "gateway.v0", "--opt"])
        .arg(format!("source={}", site.frontend))
        .args(["--local", &format!("context={dir}")])
        .args(["--local", &format!("dockerfile={dir}")])
        .args(["--opt", "filename=build.envd"])
        .args(["--opt", &format!("build-arg:ENVD_BASE_IMAGE={}", site.base)])
        .args(["--opt", "build-arg:ENVD_PYTHON_VERSION=3.11"])
        .args(["--output", &format!("type=image,name={image},push=true")])
        .output()
        .expect("buildctl runs (scripts/e2e-setup.sh buildkit builds it)");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(
        run_platform(&image, "linux/amd64", "cat /srv/out.txt").trim(),
        nonce
    );
}

#[test]
#[ignore = "needs Docker, BuildKit 0.25 and qemu: run scripts/test.sh"]
fn the_remote_driver_builds_on_a_buildkitd_it_reaches_over_tcp() {
    let site = Site::start();
    let index = PackageIndex::start("buildkit-remote");
    let daemon = RemoteBuildkitd::start(&site);
    // Removed on drop, however the test ends.
    let builder = Builder {
        name: format!("envd-e2e-remote-{}", std::process::id()),
        nodes: vec![],
        contexts: vec![],
    };
    let name = builder.name.clone();
    docker(&[
        "buildx",
        "create",
        "--name",
        &name,
        "--driver",
        "remote",
        "--bootstrap",
        &daemon.address,
    ]);
    let project = Project::copy_of("buildkit-remote", "examples/aiges-wrapper");
    project.write("wrapper/nonce.txt", &nonce());
    let image = site.registry.reference("envd-e2e/remote:1");
    let output = format!("type=image,name={image},push=true");
    let built = builder.build(
        &project,
        &site.args(&index, &site.base),
        None,
        &["--output", &output],
    );
    drop(builder);
    assert!(built.success, "{}", built.error_text());
    assert!(
        built
            .executed()
            .contains(&"install.python_packages -r requirements.txt"),
        "{:?}",
        built.executed()
    );
    assert_eq!(
        run_platform(
            &image,
            "linux/amd64",
            "python /home/aiges/wrapper/wrapper.py"
        )
        .trim(),
        "wrapper ready: alpha delta"
    );
}

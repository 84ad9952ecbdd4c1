//! The oldest Docker the users' process document allows: 20.10 (BuildKit
//! 0.8 inside: no merge or diff ops, no `Warn`, no subrequests), with its
//! own `docker` CLI and `DOCKER_BUILDKIT=1 docker build -f build.envd .`,
//! as AIGES build machines run it. Debian bookworm's docker.io 20.10 is
//! unpacked by scripts/e2e-setup.sh and started in place of the usual
//! dockerd (see `envd_e2e::daemons`), which is put back however the test
//! ends; scripts/test.sh runs it alone, after the end-to-end suite.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use envd_e2e::daemons::{OtherDaemon, docker_answers};
use envd_e2e::*;

const SYNTAX: &str = "# syntax=aiges/envd-frontend\n";

/// The unpacked Docker 20.10.
fn docker20_dir() -> PathBuf {
    state_dir().join("docker-20.10")
}

/// What `docker build --progress=plain` (20.10's CLI) printed.
struct Plain {
    success: bool,
    output: String,
}

impl Plain {
    /// Steps of build.envd by name, with whether BuildKit took them from
    /// its cache, and whether they printed anything (a step that ran a
    /// command logs with timestamps: `#7 0.311 ...`).
    fn steps(&self) -> BTreeMap<String, (bool, bool)> {
        let mut names: BTreeMap<String, String> = BTreeMap::new();
        let mut states: BTreeMap<String, (bool, bool)> = BTreeMap::new();
        for line in self.output.lines() {
            let Some((id, text)) = line.strip_prefix('#').and_then(|l| l.split_once(' ')) else {
                continue;
            };
            let state = states.entry(id.to_string()).or_default();
            if text == "CACHED" {
                state.0 = true;
            } else if text
                .split(' ')
                .next()
                .is_some_and(|t| t.parse::<f64>().is_ok())
            {
                state.1 = true;
            } else if !names.contains_key(id)
                && !text.starts_with("sha256:")
                && !text.starts_with("DONE")
                && !text.starts_with("ERROR")
            {
                names.insert(id.to_string(), split_location(text).1.to_string());
            }
        }
        names
            .into_iter()
            .filter(|(_, name)| is_build_step(name))
            .map(|(id, name)| (name, states.get(&id).copied().unwrap_or_default()))
            .collect()
    }

    /// Steps that ran a command (printed output) rather than come from
    /// the cache.
    fn ran(&self) -> Vec<String> {
        self.steps()
            .into_iter()
            .filter(|(_, (cached, printed))| !cached && *printed)
            .map(|(name, _)| name)
            .collect()
    }
}

/// `DOCKER_BUILDKIT=1 docker build` with Docker 20.10's CLI.
fn build20(project: &Project, tag: &str, args: &[(&str, &str)]) -> Plain {
    let mut cmd = Command::new(docker20_dir().join("usr/bin/docker"));
    cmd.env("DOCKER_BUILDKIT", "1")
        .args([
            "build",
            "--progress=plain",
            "--network=host",
            "-t",
            tag,
            "-f",
        ])
        .arg(project.dir.join("build.envd"));
    for (key, value) in args {
        cmd.arg("--build-arg").arg(format!("{key}={value}"));
    }
    let output = cmd.arg(&project.dir).output().expect("docker 20.10 runs");
    Plain {
        success: output.status.success(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

#[test]
#[ignore = "stops the usual dockerd: run scripts/test.sh, which runs it after the end-to-end suite"]
fn builds_on_docker_20_10_with_its_own_cli() {
    require_setup();
    let dockerd = docker20_dir().join("usr/sbin/dockerd");
    assert!(
        dockerd.exists(),
        "Docker 20.10 is not unpacked: run scripts/e2e-setup.sh docker20"
    );
    // The images the builds need, from the usual daemon (no registry).
    let images = state_dir().join("docker20-images.tar");
    let wanted = [
        FRONTEND_IMAGE,
        "envd-test/cpu:latest",
        "envd-test/conda:latest",
    ];
    let mut save = vec!["save", "-o", images.to_str().expect("UTF-8 path")];
    save.extend(wanted);
    docker(&save);

    // Its helpers (docker-proxy, docker-init) first; containerd and runc
    // are the installed ones.
    let path = format!(
        "{}:{}:{}",
        docker20_dir().join("usr/sbin").display(),
        docker20_dir().join("usr/bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let daemon = OtherDaemon::start(
        &dockerd,
        Path::new("/var/tmp/envd-e2e-docker20"),
        "{}",
        Some(&path),
    );
    let version = docker(&["version", "--format", "{{.Server.Version}}"]);
    assert!(version.starts_with("20.10."), "{version}");
    let loaded = Command::new("docker")
        .args(["load", "-q", "-i"])
        .arg(&images)
        .output();
    // Large: not kept whether or not the load worked.
    let _ = std::fs::remove_file(&images);
    assert!(
        loaded.as_ref().is_ok_and(|o| o.status.success()),
        "docker load: {loaded:?}"
    );
    let index = PackageIndex::start("docker20");
    let conda = CondaMirror::start("docker20");

    // The seed example, as the users' document writes it, with the header.
    let seed = Project::copy_of("docker20-seed", "examples/seed");
    seed.write(
        "build.envd",
        &format!("{SYNTAX}{}", seed.read("build.envd")),
    );
    let site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    let out = build20(&seed, "envd-e2e/seed:docker20", &args(&site));
    assert!(out.success, "{}\n{}", out.output, daemon.log());
    check_seed_image("envd-e2e/seed:docker20", &index, &conda);
    // No Warn on this daemon: the warning is a step every client shows.
    assert!(
        out.output
            .contains("warning: build.envd:18: io.copy(): `src`, `dest` are aliases"),
        "{}",
        out.output
    );

    // The wrapper example, then the image runs.
    let wrapper = Project::copy_of("docker20-wrapper", "examples/aiges-wrapper");
    let site = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    let first = build20(&wrapper, "envd-e2e/wrapper:docker20", &site);
    assert!(first.success, "{}", first.output);
    let ran = docker(&["run", "--rm", "envd-e2e/wrapper:docker20"]);
    assert!(ran.starts_with("wrapper ready:"), "{ran}");

    // A rebuild with no change runs no step.
    let again = build20(&wrapper, "envd-e2e/wrapper:docker20", &site);
    assert!(again.success, "{}", again.output);
    assert_eq!(again.ran(), Vec::<String>::new(), "{}", again.output);
    assert!(
        again
            .steps()
            .get("install.python_packages -r requirements.txt")
            .is_some_and(|(cached, _)| *cached),
        "{:?}\n{}",
        again.steps(),
        again.output
    );

    // A failing step shows its build.envd line.
    let failing = Project::new("docker20-failing");
    failing.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    run(commands=[\"echo {} && exit 3\"])\n",
            nonce()
        ),
    );
    let out = build20(&failing, "envd-e2e/failing:docker20", &site);
    assert!(!out.success);
    assert!(
        out.output.contains("> [build.envd:4] run echo"),
        "the failure names its line: {}",
        out.output
    );

    // A feature this daemon cannot do: base families need merge and diff
    // ops. The error is at base() and names the caps and the Docker that
    // has them.
    let family = Project::new("docker20-family");
    family.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    run(commands=[\"true\"])\n"
        ),
    );
    // The conda image extends the CPU one, as AIGES' GPU images extend
    // their CPU ones.
    let family_site = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/conda:latest"),
        ("ENVD_INSTALL_BASE", "envd-test/cpu:latest"),
    ];
    let out = build20(&family, "envd-e2e/family:docker20", &family_site);
    assert!(!out.success);
    for expected in [
        "build.envd:3",
        "(caps `mergeop` and `diffop`: BuildKit 0.10, Docker 24.0 with the containerd image store)",
    ] {
        assert!(
            out.output.contains(expected),
            "{expected:?} not in:\n{}",
            out.output
        );
    }

    drop(daemon);
    assert!(docker_answers(), "the usual dockerd is back");
}

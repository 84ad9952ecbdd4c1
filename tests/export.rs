//! The exported Dockerfile (`ENVD_FRONTEND_EXPORT=dockerfile`, issue 23)
//! built by builders that cannot run a BuildKit frontend: dockerd's
//! built-in Dockerfile frontend (no syntax line), which must give the image
//! envd-frontend gives, and Podman (Debian's), which must build the
//! wrapper example, rebuild it from its cache, share the pip cache between
//! the variants, and name the build.envd line of a failing step.
//!
//! Ignored by a plain `cargo test`; `scripts/test.sh` runs them. The
//! Podman tests skip, saying why, where podman cannot run.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use envd_e2e::*;
use llb_gen::llb::sha256_hex;

/// The wrapper example with one more setting for the comparison to see (a
/// port), built as the README builds it.
fn wrapper_project(name: &str) -> Project {
    let project = Project::copy_of(name, "examples/aiges-wrapper");
    let text = project.read("build.envd");
    project.write(
        "build.envd",
        &format!("{text}    runtime.expose(envd_port=1888)\n"),
    );
    project
}

/// The folder the frontend's export is written to (outside the context,
/// which the Dockerfile's `COPY .` copies).
struct ExportDir(PathBuf);

impl ExportDir {
    fn new(name: &str) -> ExportDir {
        let dir =
            std::env::temp_dir().join(format!("envd-e2e-export-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        ExportDir(dir)
    }

    fn dockerfile(&self) -> PathBuf {
        self.0.join("Dockerfile")
    }
}

impl Drop for ExportDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The Dockerfile envd-frontend exports for `project` with `site`.
fn export(project: &Project, site: &[(String, String)], name: &str) -> ExportDir {
    let dir = ExportDir::new(name);
    let mut site = args(site);
    site.push(("ENVD_FRONTEND_EXPORT", "dockerfile"));
    let output = format!("type=local,dest={}", dir.0.display());
    let out = buildx(project, "build.envd", &site, &["--output", &output]);
    assert!(out.success, "{}", out.error_text());
    let text = std::fs::read_to_string(dir.dockerfile()).unwrap();
    assert!(
        !text.contains("# syntax="),
        "no syntax line: every builder reads it as a plain Dockerfile"
    );
    dir
}

/// Paths, kinds and modes of everything under `folders`, and the SHA-256
/// of each file but compiled Python (whose header holds its source's
/// time).
fn files_of(image: &str, folders: &str) -> String {
    run_in(
        image,
        &format!(
            "set -e; site=$(python3 -c 'import sysconfig; print(sysconfig.get_paths()[\"purelib\"])'); \
             for f in {folders} \"$site\"; do find \"$f\" -printf '%p %y %m\\n'; done | sort; \
             for f in {folders} \"$site\"; do find \"$f\" -type f ! -name '*.pyc' -exec sha256sum {{}} +; done | sort"
        ),
    )
}

/// The config fields the export must give as the frontend gives them.
fn config_of(image: &str) -> serde_json::Value {
    let config = &inspect(image)["Config"];
    let fields = [
        "Env",
        "Entrypoint",
        "Cmd",
        "WorkingDir",
        "User",
        "ExposedPorts",
        "Labels",
    ];
    serde_json::Value::Object(
        fields
            .iter()
            .map(|field| (field.to_string(), config[*field].clone()))
            .collect(),
    )
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn exported_dockerfile_builds_the_frontends_image_on_dockerds_builtin_frontend() {
    require_setup();
    let index = PackageIndex::start("export-builtin");
    let project = wrapper_project("export-builtin");
    let site = site_args(&index, "envd-test/cpu:latest");
    let built = build(
        &project,
        "build.envd",
        "envd-e2e/export:frontend",
        &args(&site),
        &[],
    );
    assert!(built.success, "{}", built.error_text());
    let exported = export(&project, &site, "builtin");
    let text = std::fs::read_to_string(exported.dockerfile()).unwrap();
    // Each instruction's line, and the cache ids variants share.
    for expected in [
        "# build.envd:7\nRUN ",
        "--mount=type=cache,id=envd-frontend/pip,target=/var/cache/envd-frontend/pip,sharing=shared",
        "# build.envd:8\nCOPY . /home/aiges",
        "# build.envd:5\nCOPY --chmod=644 <<'ENVD' /etc/pip.conf",
    ] {
        assert!(text.contains(expected), "{expected:?} in:\n{text}");
    }

    // The envd drop-in writes the same file where -o type=dockerfile says.
    let dropped = ExportDir::new("builtin-envd");
    std::fs::create_dir_all(&dropped.0).unwrap();
    let dest = dropped.0.join("wrapper.Dockerfile");
    let envd = Command::new(envd_cli())
        .args(["build", "-f", "build.envd", "--network", "host", "-o"])
        .arg(format!("type=dockerfile,dest={}", dest.display()))
        .current_dir(&project.dir)
        .envs(site.clone())
        .output()
        .unwrap();
    assert!(envd.status.success(), "{}", output_text(&envd));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), text);
    assert!(
        !dropped.0.join("wrapper.Dockerfile.envd-export").exists(),
        "the exporter's folder is removed"
    );

    // No syntax line: dockerd's own Dockerfile frontend builds it.
    let output = builtin_build(
        &exported.dockerfile(),
        &project.dir,
        "envd-e2e/export:builtin",
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    assert_eq!(
        config_of("envd-e2e/export:builtin"),
        config_of("envd-e2e/export:frontend")
    );
    let folders = "/home/aiges /etc/pip.conf";
    let frontend_files = files_of("envd-e2e/export:frontend", folders);
    assert!(
        frontend_files.contains("/home/aiges/wrapper/wrapper.py f 644"),
        "{frontend_files}"
    );
    assert!(
        frontend_files.contains("envd_test_alpha"),
        "{frontend_files}"
    );
    assert_eq!(files_of("envd-e2e/export:builtin", folders), frontend_files);
    // Neither keeps the folders the steps' mounts needed (the frontend asks
    // BuildKit to remove mount points with their empty parents, as the
    // Dockerfile frontend does).
    for image in ["envd-e2e/export:frontend", "envd-e2e/export:builtin"] {
        run_in(
            image,
            "test ! -e /tmp/envd-frontend && test ! -e /var/cache/envd-frontend && test ! -e /run/secrets",
        );
    }
    assert_eq!(
        run_in(
            "envd-e2e/export:builtin",
            "python /home/aiges/wrapper/wrapper.py"
        )
        .trim(),
        "wrapper ready: alpha delta"
    );
}

/// `docker buildx build` of `dockerfile` with no syntax line: dockerd's
/// built-in Dockerfile frontend, on the host network (the local index).
fn builtin_build(dockerfile: &Path, context: &Path, tag: &str) -> Output {
    Command::new("docker")
        .args([
            "buildx",
            "build",
            "--progress=plain",
            "--network=host",
            "--load",
        ])
        .args(["-t", tag, "-f"])
        .arg(dockerfile)
        .arg(context)
        .output()
        .unwrap()
}

/// Why podman cannot run here, if it cannot.
fn podman_missing() -> Option<String> {
    match Command::new("podman")
        .args(["info", "--format", "{{.Host.OCIRuntime.Name}}"])
        .output()
    {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(format!(
            "podman info failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )),
        Err(e) => Some(format!(
            "podman is not installed ({e}); scripts/e2e-setup.sh podman installs Debian's"
        )),
    }
}

fn skip_without_podman(test: &str) -> bool {
    match podman_missing() {
        Some(reason) => {
            eprintln!("skipping {test}: {reason}");
            true
        }
        None => false,
    }
}

/// Moves a test base from dockerd to podman (as `docker.io/NAME`).
fn load_into_podman(image: &str) {
    let script = format!("docker save {image} | podman load -q");
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{script}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `podman build` of the exported Dockerfile with the project as context,
/// on the host network (the local index), with the limits podman needs
/// here (ENVIRONMENT.md).
fn podman_build(dockerfile: &Path, context: &Path, tag: &str) -> Output {
    Command::new("podman")
        .args(["build", "--network", "host"])
        .args([
            "--ulimit",
            "nofile=1024:1024",
            "--ulimit",
            "nproc=1024:1024",
        ])
        .args(["-t", tag, "-f"])
        .arg(dockerfile)
        .arg(context)
        .output()
        .unwrap()
}

/// A step line of podman's output: `STEP 3/9: ...`, after the stage
/// (`[2/2] STEP 3/9: ...`) when there are several.
fn is_step(line: &str) -> bool {
    let step = match line.strip_prefix('[') {
        Some(rest) => rest.split_once("] ").map_or("", |(_, step)| step),
        None => line,
    };
    step.starts_with("STEP ")
}

fn output_text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Builds `dockerfile` on Podman as `tag` (its base `base` moved over
/// first), runs `script` in the image with `sh`, and returns what it
/// printed; the image is removed after.
fn podman_build_and_run(
    base: &str,
    dockerfile: &Path,
    context: &Path,
    tag: &str,
    script: &str,
) -> String {
    load_into_podman(base);
    let _image = PodmanImages(vec![tag.to_string()]);
    let built = podman_build(dockerfile, context, tag);
    assert!(built.status.success(), "{}", output_text(&built));
    let ran = podman_run(&["--entrypoint", "/bin/sh", tag, "-c", script]);
    assert!(ran.status.success(), "{}", output_text(&ran));
    String::from_utf8_lossy(&ran.stdout).into_owned()
}

/// `podman run --rm` without a network, with `args` (options, the image,
/// its arguments).
fn podman_run(args: &[&str]) -> std::process::Output {
    Command::new("podman")
        .args(["run", "--rm", "--network", "none"])
        .args(args)
        .output()
        .unwrap()
}

/// Removes podman images the test made, whatever happens.
struct PodmanImages(Vec<String>);

impl Drop for PodmanImages {
    fn drop(&mut self) {
        let _ = Command::new("podman")
            .args(["rmi", "-f"])
            .args(&self.0)
            .output();
    }
}

#[test]
#[ignore = "needs Docker and Podman: run scripts/test.sh, which sets them up"]
fn exported_dockerfile_builds_the_wrapper_on_podman_cached_and_shared() {
    require_setup();
    if skip_without_podman("exported_dockerfile_builds_the_wrapper_on_podman_cached_and_shared") {
        return;
    }
    load_into_podman("envd-test/cpu:latest");
    load_into_podman("envd-test/gpu:latest");
    let _images = PodmanImages(vec![
        "localhost/envd-e2e-export:cpu".into(),
        "localhost/envd-e2e-export:gpu".into(),
    ]);
    let index = PackageIndex::start("export-podman");
    let project = wrapper_project("export-podman");
    let cpu_site = site_args(&index, "envd-test/cpu:latest");
    let cpu = export(&project, &cpu_site, "podman-cpu");

    let built = podman_build(
        &cpu.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:cpu",
    );
    assert!(built.status.success(), "{}", output_text(&built));
    let downloads = index.downloads();
    assert!(
        downloads.iter().any(|d| d.contains("envd_test_alpha")),
        "{downloads:?}"
    );
    let ran = podman_run(&["localhost/envd-e2e-export:cpu"]);
    assert!(ran.status.success(), "{}", output_text(&ran));
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "wrapper ready: alpha delta"
    );

    // A rebuild with nothing changed takes every step from podman's cache.
    let again = podman_build(
        &cpu.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:cpu",
    );
    assert!(again.status.success(), "{}", output_text(&again));
    let output = output_text(&again);
    let steps = output
        .lines()
        .filter(|l| is_step(l) && !l.contains(": FROM "))
        .count();
    let cached = output.lines().filter(|l| l.contains("Using cache")).count();
    assert!(
        steps > 0 && cached == steps,
        "{cached} of {steps} steps cached:\n{output}"
    );
    assert_eq!(
        index.downloads(),
        downloads,
        "a cached rebuild downloads nothing"
    );

    // Editing a service file reruns the copy of the context, not pip: the
    // requirements file comes through a stage of just that file.
    let service = project.read("wrapper/wrapper.py");
    project.write("wrapper/wrapper.py", &format!("{service}# edited\n"));
    let edited = podman_build(
        &cpu.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:cpu",
    );
    let output = output_text(&edited);
    assert!(edited.status.success(), "{output}");
    let lines: Vec<&str> = output.lines().collect();
    let step_cached = |marker: &str| {
        let at = lines
            .iter()
            .position(|l| is_step(l) && l.contains(marker))
            .unwrap_or_else(|| panic!("no step {marker}:\n{output}"));
        lines[at + 1].contains("Using cache")
    };
    assert!(step_cached("(# build.envd:7"), "pip ran again:\n{output}");
    assert!(
        !step_cached("COPY . /home/aiges"),
        "the copy was cached:\n{output}"
    );

    // The GPU variant runs pip again on its base, and pip takes every
    // wheel from the cache mount the variants share.
    let gpu_site = site_args(&index, "envd-test/gpu:latest");
    let gpu = export(&project, &gpu_site, "podman-gpu");
    let built = podman_build(
        &gpu.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:gpu",
    );
    assert!(built.status.success(), "{}", output_text(&built));
    assert_eq!(
        index.downloads(),
        downloads,
        "the second variant downloads no wheel again"
    );
    let ran = podman_run(&[
        "--entrypoint",
        "cat",
        "localhost/envd-e2e-export:gpu",
        "/etc/envd-test-variant",
    ]);
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        "gpu",
        "{}",
        output_text(&ran)
    );
}

#[test]
#[ignore = "needs Docker and Podman: run scripts/test.sh, which sets them up"]
fn a_failing_step_on_podman_names_its_build_envd_line() {
    require_setup();
    if skip_without_podman("a_failing_step_on_podman_names_its_build_envd_line") {
        return;
    }
    load_into_podman("envd-test/cpu:latest");
    let _images = PodmanImages(vec!["localhost/envd-e2e-export:failing".into()]);
    let project = Project::new("export-failing");
    project.write(
        "build.envd",
        &format!(
            "# syntax=aiges/envd-frontend\ndef build():\n    base(os=\"aiges_cpu\")\n    run(commands=[\"echo {}\"])\n    run(commands=[\"exit 3\"])\n",
            nonce()
        ),
    );
    let site = vec![(
        "ENVD_BASE_IMAGE_AIGES_CPU".to_string(),
        "envd-test/cpu:latest".to_string(),
    )];
    let exported = export(&project, &site, "failing");
    let built = podman_build(
        &exported.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:failing",
    );
    assert!(!built.status.success());
    let output = output_text(&built);
    // podman shows a step with its here-document's first line.
    let failing = output.lines().rfind(|l| is_step(l)).unwrap_or_default();
    assert!(failing.contains("# build.envd:5"), "{output}");
    assert!(output.contains("exit status 3"), "{output}");
}

/// A STAND-IN for codex's release archive (the real one is on no registry
/// here): a tar.gz holding `codex-x86_64-unknown-linux-musl`, a script
/// that prints a version, as the release holds the program.
fn codex_stand_in() -> Vec<u8> {
    let dir = Project::new("codex-stand-in");
    dir.write(
        "codex-x86_64-unknown-linux-musl",
        "#!/bin/sh\necho codex stand-in 0.98.0\n",
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg("chmod 755 codex-x86_64-unknown-linux-musl && tar -czf - codex-x86_64-unknown-linux-musl")
        .current_dir(&dir.dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    out.stdout
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn an_exported_v1_download_is_checked_unpacked_and_installed_as_the_frontend_does() {
    require_setup();
    let archive = codex_stand_in();
    let digest = sha256_hex(&archive);
    let path =
        "/openai/codex/releases/download/rust-v0.98.0/codex-x86_64-unknown-linux-musl.tar.gz";
    let port = serve_files(vec![(path.to_string(), archive)]);
    let project = Project::new("export-v1");
    project.write(
        "build.envd",
        "# syntax=aiges/envd-frontend v1\ndef build():\n    base(image=\"envd-test/cpu:latest\")\n    install.codex()\n",
    );
    // One file's rule, with the stand-in's checksum.
    let site = vec![(
        "ENVD_DOWNLOAD_MIRRORS".to_string(),
        format!("https://github.com{path}=http://127.0.0.1:{port}{path}#sha256={digest}"),
    )];
    let built = build(
        &project,
        "build.envd",
        "envd-e2e/export-v1:frontend",
        &args(&site),
        &[],
    );
    assert!(built.success, "{}", built.error_text());
    let exported = export(&project, &site, "v1");
    let dockerfile = std::fs::read_to_string(exported.dockerfile()).unwrap();
    assert!(
        dockerfile.contains(&format!(
            "ADD --chmod=755 --checksum=sha256:{digest} http://127.0.0.1:{port}{path} "
        )),
        "{dockerfile}"
    );
    let out = builtin_build(
        &exported.dockerfile(),
        &project.dir,
        "envd-e2e/export-v1:builtin",
    );
    assert!(out.status.success(), "{}", output_text(&out));
    let program = "stat -c '%a %U' /usr/bin/codex && sha256sum /usr/bin/codex && codex";
    let installed = run_in("envd-e2e/export-v1:frontend", program);
    assert!(installed.contains("codex stand-in 0.98.0"), "{installed}");
    assert_eq!(run_in("envd-e2e/export-v1:builtin", program), installed);

    if skip_without_podman(
        "an_exported_v1_download_is_checked_unpacked_and_installed_as_the_frontend_does (podman)",
    ) {
        return;
    }
    let ran = podman_build_and_run(
        "envd-test/cpu:latest",
        &exported.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:v1",
        program,
    );
    assert_eq!(ran, installed);
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn the_seed_examples_exported_dockerfile_installs_its_conda_environment_on_real_conda() {
    require_setup();
    let index = PackageIndex::start("export-seed");
    let conda = CondaMirror::start("export-seed");
    let project = Project::copy_of("export-seed", "examples/seed");
    let mut site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    // The example is verbatim: no syntax line.
    site.push((
        "BUILDKIT_SYNTAX".to_string(),
        "aiges/envd-frontend".to_string(),
    ));
    let exported = export(&project, &site, "seed");
    let dockerfile = std::fs::read_to_string(exported.dockerfile()).unwrap();
    // The conda steps share the frontend's package cache by id.
    assert!(
        dockerfile.contains("--mount=type=cache,id=envd-frontend/conda-pkgs,target=/var/cache/envd-frontend/conda-pkgs,sharing=locked"),
        "{dockerfile}"
    );
    let out = builtin_build(
        &exported.dockerfile(),
        &project.dir,
        "envd-e2e/export-seed:builtin",
    );
    assert!(out.status.success(), "{}", output_text(&out));
    // What the seed example's envd-frontend build is checked for: the env
    // file's packages from the site's conda mirror, pip's, apt's, the
    // editable folder, the mirrors in pip.conf and .condarc.
    check_seed_image("envd-e2e/export-seed:builtin", &index, &conda);

    if skip_without_podman(
        "the_seed_examples_exported_dockerfile_installs_its_conda_environment_on_real_conda (podman)",
    ) {
        return;
    }
    let stdout = podman_build_and_run(
        "envd-test/conda:latest",
        &exported.dockerfile(),
        &project.dir,
        "localhost/envd-e2e-export:seed",
        "python -c 'import torch, mmcv, detectron2; print(torch.__version__)' && /opt/conda/bin/conda list envd-conda --json",
    );
    assert!(stdout.starts_with("1.10\n"), "{stdout}");
    for package in ["envd-conda-alpha", "envd-conda-beta", "envd-conda-prefixed"] {
        assert!(
            stdout.contains(&format!("\"name\": \"{package}\"")),
            "{stdout}"
        );
    }
}

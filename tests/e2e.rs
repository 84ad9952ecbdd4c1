//! End-to-end: build.envd files built by a real dockerd and buildx through
//! the `aiges/envd-frontend` image, each checked by running the image.
//! Real pip against a local index, real apt against Debian's archive, real
//! conda 26.7.1 (`envd-test/conda`) against a local channel.
//!
//! The tests are ignored by a plain `cargo test`, which needs no Docker;
//! `scripts/test.sh` sets Docker up and runs them with `--ignored`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use envd_e2e::*;

const SYNTAX: &str = "# syntax=aiges/envd-frontend\n";

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn seed_example_with_syntax_header() {
    require_setup();
    let index = PackageIndex::start("seed-header");
    let conda = CondaMirror::start("seed-header");
    let project = Project::copy_of("seed-header", "examples/seed");
    project.write(
        "build.envd",
        &format!("{SYNTAX}{}", project.read("build.envd")),
    );
    let site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/seed:header",
        &args(&site),
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    check_seed_image("envd-e2e/seed:header", &index, &conda);
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn seed_example_through_buildkit_syntax_build_arg() {
    require_setup();
    let index = PackageIndex::start("seed-arg");
    let conda = CondaMirror::start("seed-arg");
    let project = Project::copy_of("seed-arg", "examples/seed");
    assert!(
        !project.read("build.envd").starts_with("# syntax="),
        "the example has no header"
    );
    let mut site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    site.push((
        "BUILDKIT_SYNTAX".to_string(),
        "aiges/envd-frontend".to_string(),
    ));
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/seed:arg",
        &args(&site),
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    check_seed_image("envd-e2e/seed:arg", &index, &conda);
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn image_config_follows_the_build_file() {
    require_setup();
    let project = Project::new("config");
    let text = format!(
        "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    runtime.environ(env={{\"AIGES_HOME\": \"/home/aiges\"}}, extra_path=[\"/home/aiges/bin\"])\n    config.entrypoint([\"/home/aiges/bin/AIservice\", \"-m=0\"])\n"
    );
    project.write("build.envd", &text);
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/config:1",
        &[("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest")],
        &["--label", "team=asr", "--target", "build"],
    );
    assert!(out.success, "{}", out.error_text());
    let config = &inspect("envd-e2e/config:1")["Config"];
    let env: Vec<&str> = config["Env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(env.contains(&"AIGES_HOME=/home/aiges"), "{env:?}");
    assert!(
        env.iter()
            .any(|e| e.starts_with("PATH=") && e.ends_with(":/home/aiges/bin")),
        "{env:?}"
    );
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["/home/aiges/bin/AIservice", "-m=0"])
    );
    assert!(
        config["Cmd"].is_null(),
        "the entrypoint clears the base's CMD: {}",
        config["Cmd"]
    );
    let labels = &config["Labels"];
    assert_eq!(labels["team"], "asr");
    assert_eq!(labels["io.github.aiges.envd-frontend.target"], "build");
    let digest = std::process::Command::new("sha256sum")
        .arg(project.dir.join("build.envd"))
        .output()
        .unwrap();
    let digest = String::from_utf8_lossy(&digest.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        labels["io.github.aiges.envd-frontend.build-digest"],
        format!("sha256:{digest}")
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn a_panic_in_the_frontend_reaches_the_client_as_an_error() {
    require_setup();
    let project = Project::new("panic");
    project.write(
        "build.envd",
        &format!("{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n"),
    );
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/panic:1",
        &[
            ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
            ("ENVD_FRONTEND_TEST_PANIC", "1"),
        ],
        &[],
    );
    assert!(!out.success);
    let text = out.error_text();
    assert!(
        text.contains(
            "internal error in envd-frontend: ENVD_FRONTEND_TEST_PANIC=1 asked for a panic"
        ),
        "{text}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn inputs_that_crashed_or_hung_the_frontend_build_or_fail_at_their_line() {
    require_setup();
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    // A no-break space indent in a config text panicked the frontend.
    let project = Project::copy_of(
        "unicode-indent",
        "llb-gen/tests/fixtures/valid/unicode_indented_config_text",
    );
    let header = format!("{SYNTAX}{}", project.read("build.envd"));
    project.write("build.envd", &header);
    let out = build(&project, "build.envd", "envd-e2e/unicode:1", &cpu, &[]);
    assert!(out.success, "{}", out.error_text());
    // Each of these overflowed a stack, took seconds, or grew without bound.
    for (fixture, message, line) in [
        ("nesting_brackets", "brackets nest more than 64 deep", 5),
        ("nesting_operator_chain", "more than 300 operators", 4),
        ("too_many_steps", "more than 1000 steps", 6),
        (
            "conda_channel_deep_flow",
            "nests brackets more than 64 deep",
            5,
        ),
        // These took gigabytes in one statement; the evaluation's memory
        // bound stops them (llb_gen::bounded).
        ("memory_list_repeat", "needs more than the 256 MiB", 3),
        ("memory_string_repeat", "needs more than the 256 MiB", 4),
    ] {
        let project = Project::copy_of(
            fixture,
            &format!("llb-gen/tests/fixtures/invalid/{fixture}"),
        );
        let text = format!("{SYNTAX}{}", project.read("build.envd"));
        project.write("build.envd", &text);
        let out = build(&project, "build.envd", "envd-e2e/refused:1", &cpu, &[]);
        assert!(!out.success, "{fixture} built");
        let error = out.error_text();
        // The header line moves every line down by one.
        let at = format!("build.envd:{}", line + 1);
        assert!(
            error.contains(message) && error.contains(&at),
            "{fixture}: {error}"
        );
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn errors_point_at_the_build_file_line() {
    require_setup();
    let project = Project::new("errors");
    project.write(
        "syntax.envd",
        &format!("{SYNTAX}def build():\n    base(os=\"aiges_cpu\"\n    run(commands=[\"true\"])\n"),
    );
    let out = build(&project, "syntax.envd", "envd-e2e/errors:1", &[], &[]);
    assert!(!out.success);
    let text = out.error_text();
    assert!(text.contains("syntax.envd:4: Parse error"), "{text}");
    assert!(
        text.contains(">>>     run(commands=[\"true\"])"),
        "buildx shows the line: {text}"
    );

    project.write(
        "failing.envd",
        &format!("{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    run(commands=[\"echo ok\"])\n    run(commands=[\"exit 3\"])\n"),
    );
    let out = build(
        &project,
        "failing.envd",
        "envd-e2e/errors:2",
        &[("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest")],
        &[],
    );
    assert!(!out.success);
    let text = out.error_text();
    assert!(text.contains("exit code: 3"), "{text}");
    assert!(
        text.contains(">>>     run(commands=[\"exit 3\"])"),
        "the failing step points at its call: {text}"
    );
    // The failed step's name starts with its line, for clients that show
    // no excerpt (Docker 20.10's docker build).
    assert!(
        out.vertices.iter().any(|v| v.error.is_some()
            && v.name == "run exit 3"
            && v.location.as_deref() == Some("failing.envd:5")),
        "{:?}",
        out.vertices
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn rebuilds_run_only_what_changed() {
    require_setup();
    let index = PackageIndex::start("cache");
    let project = Project::new("cache");
    project
        .write(
            "build.envd",
            &format!(
                "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    config.pip_index(url=\"https://pypi.tuna.tsinghua.edu.cn/simple\")\n    install.python_packages(name=[\"envd-test-alpha==1.0\"])\n    io.copy(src=\"./service\", dest=\"/srv/\")\n    run(commands=[\"python /srv/service/main.py > /srv/out.txt\"])\n"
            ),
        )
        .write("service/main.py", "print('v1')\n")
        .write("service/other.txt", "x\n");
    let site = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    let first = build(&project, "build.envd", "envd-e2e/cache:1", &site, &[]);
    assert!(first.success, "{}", first.error_text());

    let again = build(&project, "build.envd", "envd-e2e/cache:1", &site, &[]);
    assert!(again.success, "{}", again.error_text());
    assert_eq!(
        again.executed(),
        Vec::<&str>::new(),
        "nothing changed, nothing runs"
    );
    for step in [
        "install.python_packages envd-test-alpha==1.0",
        "config.pip_index /etc/pip.conf",
    ] {
        assert!(
            again.cached().contains(&step),
            "{step}: {:?}",
            again.cached()
        );
    }

    // New content every run: BuildKit's cache outlives the suite, and an
    // edit seen in an earlier run would be cached.
    let nonce = nonce();
    project.write("service/main.py", &format!("print('v2 {nonce}')\n"));
    let edited = build(&project, "build.envd", "envd-e2e/cache:1", &site, &[]);
    assert!(edited.success, "{}", edited.error_text());
    let executed = edited.executed();
    assert!(
        executed.contains(&"io.copy ./service -> /srv/"),
        "{executed:?}"
    );
    assert!(
        executed.contains(&"run python /srv/service/main.py > /srv/out.txt"),
        "{executed:?}"
    );
    assert!(
        !executed
            .iter()
            .any(|s| s.starts_with("install.") || s.starts_with("base")),
        "{executed:?}"
    );
    assert_eq!(
        run_in("envd-e2e/cache:1", "cat /srv/out.txt").trim(),
        format!("v2 {nonce}")
    );
}

/// Builds `build.envd` of `project` with `args` and `VARIANT=variant`.
fn build_variant(
    project: &Project,
    tag: &str,
    args: &[(&str, &str)],
    variant: &str,
) -> BuildOutput {
    let args = [args, &[("VARIANT", variant)]].concat();
    build(project, "build.envd", tag, &args, &[])
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn variants_share_layers_and_downloads() {
    require_setup();
    if skip_without_merge_ops("variants_share_layers_and_downloads") {
        return;
    }
    let index = PackageIndex::start("variants");
    let project = Project::new("variants");
    project
        .write(
            "build.envd",
            &format!(
                "{SYNTAX}def build():\n    base(os=\"aiges_gpu\" if build_args.get(\"VARIANT\") == \"gpu\" else \"aiges_cpu\")\n    config.pip_index(url=\"https://pypi.tuna.tsinghua.edu.cn/simple\")\n    io.copy(src=\"./service\", dest=\"/srv/\")\n    install.system_packages(name=[\"procps\"])\n    install.python_packages(name=[\"envd-test-beta==1.0\", \"envd-test-gamma==1.0\"])\n"
            ),
        )
        .write("service/main.py", "print('service')\n");
    let common = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
        ("ENVD_BASE_IMAGE_AIGES_GPU", "envd-test/gpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    let cpu = build_variant(&project, "envd-e2e/variant:cpu", &common, "cpu");
    assert!(cpu.success, "{}", cpu.error_text());
    let downloads = index.downloads();
    assert_eq!(downloads.len(), 2, "{downloads:?}");

    let gpu = build_variant(&project, "envd-e2e/variant:gpu", &common, "gpu");
    assert!(gpu.success, "{}", gpu.error_text());
    let cached = gpu.cached();
    // (A config file is one small op on each variant's image, which a
    // rebuild finds cached; rebuilds_run_only_what_changed checks it.)
    assert!(
        cached.contains(&"io.copy ./service -> /srv/"),
        "base-independent layer computed once: {cached:?}"
    );
    assert_eq!(
        index.downloads(),
        downloads,
        "the second variant downloads nothing"
    );
    // apt runs again on the GPU base, and takes every package from the
    // shared archive cache (apt prints what it has to fetch).
    let apt = gpu.logs("install.system_packages procps");
    assert!(apt.contains("Need to get 0 B"), "{apt}");
    assert_eq!(
        run_in("envd-e2e/variant:gpu", "cat /etc/envd-test-variant").trim(),
        "gpu"
    );
    run_in(
        "envd-e2e/variant:gpu",
        "python3 -c 'import envd_test_beta, envd_test_gamma' && test -f /srv/service/main.py",
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn install_base_runs_the_gpu_variant_on_the_cpu_steps() {
    require_setup();
    if skip_without_merge_ops("install_base_runs_the_gpu_variant_on_the_cpu_steps") {
        return;
    }
    let index = PackageIndex::start("family");
    let project = Project::new("family");
    let nonce = nonce();
    project
        .write(
            "build.envd",
            &format!(
                "{SYNTAX}def build():\n    base(os=\"aiges_gpu\" if build_args.get(\"VARIANT\") == \"gpu\" else \"aiges_cpu\", language=\"python3\")\n    install.python_packages(name=[\"envd-test-beta==1.0\"])\n    io.copy(src=\"./service\", dest=\"/srv/\")\n    runtime.environ(env={{\"SERVICE\": \"/srv/service\"}})\n    run(commands=[\"echo {nonce} > /srv/nonce && test ! -e /etc/envd-test-variant\"])\n"
            ),
        )
        .write("service/main.py", "print('service')\n");
    let common = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
        ("ENVD_BASE_IMAGE_AIGES_GPU", "envd-test/gpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
        ("ENVD_INSTALL_BASE", "aiges_cpu"),
    ];
    let cpu = build_variant(&project, "envd-e2e/family:cpu", &common, "cpu");
    assert!(cpu.success, "{}", cpu.error_text());
    let executed = cpu.executed();
    assert!(
        executed.contains(&"install.python_packages envd-test-beta==1.0"),
        "{executed:?}"
    );
    assert!(
        cpu.vertices_named("install base:").is_empty(),
        "the CPU variant is the install base: no merge"
    );
    let downloads = index.downloads();

    let gpu = build_variant(&project, "envd-e2e/family:gpu", &common, "gpu");
    assert!(gpu.success, "{}", gpu.error_text());
    assert_eq!(
        gpu.executed(),
        Vec::<&str>::new(),
        "the GPU variant re-executes no step"
    );
    assert_eq!(
        gpu.vertices_named("install base:").len(),
        2,
        "diff and merge"
    );
    assert_eq!(index.downloads(), downloads, "nothing downloaded again");

    // The GPU base's files, the steps' files, and the env of both.
    let image = "envd-e2e/family:gpu";
    assert_eq!(run_in(image, "cat /etc/envd-test-variant").trim(), "gpu");
    assert_eq!(run_in(image, "cat /srv/nonce").trim(), nonce);
    run_in(
        image,
        "python -c 'import envd_test_beta' && test -f /usr/local/cuda/version.txt && test \"$SERVICE\" = /srv/service",
    );
    // The image is the GPU base's layers plus one layer per step, as the
    // history says.
    let layers = |image: &str| {
        inspect(image)["RootFS"]["Layers"]
            .as_array()
            .unwrap()
            .clone()
    };
    let base_layers = layers("envd-test/gpu:latest");
    let image_layers = layers(image);
    assert_eq!(&image_layers[..base_layers.len()], base_layers.as_slice());
    assert_eq!(
        image_layers.len() - base_layers.len(),
        layers("envd-e2e/family:cpu").len() - layers("envd-test/cpu:latest").len()
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn install_base_that_the_base_does_not_extend_is_an_error() {
    require_setup();
    if skip_without_merge_ops("install_base_that_the_base_does_not_extend_is_an_error") {
        return;
    }
    let project = Project::new("family-error");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    run(commands=[\"true\"])\n"
        ),
    );
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/family:error",
        &[
            ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest"),
            ("ENVD_INSTALL_BASE", "envd-test/gpu:latest"),
        ],
        &[],
    );
    assert!(!out.success);
    let text = out.error_text();
    assert!(
        text.contains("base envd-test/cpu:latest does not extend install base envd-test/gpu:latest (ENVD_INSTALL_BASE): the base's layer chain (1) is shorter than the install base's (2)"),
        "{text}"
    );
    assert!(text.contains(">>>     base(os=\"aiges_cpu\")"), "{text}");
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn four_builds_at_once_share_download_caches_safely() {
    require_setup();
    let index = PackageIndex::start("concurrent");
    let nonce = nonce();
    let conda = CondaMirror::start("concurrent");
    let projects: Vec<(Project, &str)> = [("pip-apt", ""), ("conda", "    install.conda_packages(name=[\"envd-conda-alpha\"], channel=[\"conda-forge\"])\n")]
        .into_iter()
        .map(|(name, extra)| {
            let project = Project::new(name);
            project.write(
                "build.envd",
                &format!(
                    "{SYNTAX}def build():\n    base(os=\"aiges_gpu\" if build_args.get(\"VARIANT\") == \"gpu\" else \"aiges_cpu\")\n    run(commands=[\"echo {nonce} > /nonce\"])\n{extra}    install.system_packages(name=[\"procps\"])\n    install.python_packages(name=[\"envd-test-beta==1.0\", \"envd-test-gamma==1.0\"])\n"
                ),
            );
            (project, name)
        })
        .collect();
    let bases = |project: &str, variant: &str| match (project, variant) {
        ("conda", "gpu") => "envd-test/gpu-conda:latest",
        ("conda", _) => "envd-test/conda:latest",
        (_, "gpu") => "envd-test/gpu:latest",
        _ => "envd-test/cpu:latest",
    };
    let outputs: Vec<(String, BuildOutput)> = std::thread::scope(|scope| {
        let handles: Vec<_> = projects
            .iter()
            .flat_map(|(project, name)| {
                ["cpu", "gpu"].map(|variant| {
                    let index = &index;
                    let conda = &conda;
                    scope.spawn(move || {
                        let tag = format!("envd-e2e/concurrent-{name}:{variant}");
                        let out = build(
                            project,
                            "build.envd",
                            &tag,
                            &[
                                ("ENVD_BASE_IMAGE", bases(name, variant)),
                                ("ENVD_PIP_INDEX", index.url.as_str()),
                                ("ENVD_CONDA_CHANNEL", conda.url.as_str()),
                                ("VARIANT", variant),
                            ],
                            &[],
                        );
                        (tag, out)
                    })
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    for (tag, out) in &outputs {
        assert!(out.success, "{tag}: {}", out.error_text());
        let executed = out.executed();
        assert!(
            executed.contains(&"install.system_packages procps")
                && executed
                    .contains(&"install.python_packages envd-test-beta==1.0, envd-test-gamma==1.0"),
            "{tag} ran its installs: {executed:?}"
        );
        run_in(
            tag,
            "dpkg -s procps | grep -q '^Status: install ok installed' && python3 -c 'import envd_test_beta, envd_test_gamma'",
        );
    }
    // Each wheel came from the index once or, when two builds asked at the
    // same moment, a few times; and the cache the four left behind is whole:
    // a fifth build that runs every step again downloads nothing. (Not with
    // --no-cache: BuildKit empties cache mounts for those.)
    let downloads = index.downloads();
    for wheel in ["envd_test_beta", "envd_test_gamma"] {
        let count = downloads.iter().filter(|d| d.starts_with(wheel)).count();
        assert!((1..=4).contains(&count), "{wheel}: {downloads:?}");
    }
    // A build that runs the installs again (its first step is new), on
    // the caches the four left behind.
    let build_again = |(project, name): &(Project, &str), extra: &[(&str, &str)]| {
        let build_file = project.read("build.envd");
        project.write(
            "build.envd",
            &build_file.replace(&nonce, &format!("{nonce}-again")),
        );
        let mut args = vec![
            ("ENVD_BASE_IMAGE", bases(name, "cpu")),
            ("ENVD_PIP_INDEX", index.url.as_str()),
            ("VARIANT", "cpu"),
        ];
        args.extend_from_slice(extra);
        let tag = format!("envd-e2e/concurrent-again:{name}");
        let out = build(project, "build.envd", &tag, &args, &[]);
        assert!(out.success, "{}", out.error_text());
        out
    };
    let again = build_again(&projects[0], &[]);
    assert!(
        again
            .executed()
            .contains(&"install.python_packages envd-test-beta==1.0, envd-test-gamma==1.0"),
        "{:?}",
        again.executed()
    );
    assert_eq!(
        index.downloads(),
        downloads,
        "the pip cache served every wheel"
    );
    // The same for conda's package cache, which the two conda builds of
    // each variant shared (locked, one at a time).
    for variant in ["cpu", "gpu"] {
        assert_eq!(
            conda_list(&format!("envd-e2e/concurrent-conda:{variant}")),
            "envd-conda-alpha 2.0\nenvd-conda-beta 1.1\n"
        );
    }
    let conda_files = conda.downloads();
    let again = build_again(&projects[1], &[("ENVD_CONDA_CHANNEL", conda.url.as_str())]);
    assert!(
        again
            .executed()
            .contains(&"install.conda_packages envd-conda-alpha"),
        "{:?}",
        again.executed()
    );
    assert_eq!(
        conda.downloads(),
        conda_files,
        "conda's cache served every package"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn frontend_report_shows_its_own_cost_as_a_step() {
    require_setup();
    let project = Project::new("report");
    project.write(
        "build.envd",
        &format!("{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n"),
    );
    let site = ("ENVD_BASE_IMAGE_AIGES_CPU", "envd-test/cpu:latest");
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/report:1",
        &[site, ("ENVD_FRONTEND_REPORT", "1")],
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    let report = out.vertices_named("envd-frontend report: ");
    assert_eq!(report.len(), 1, "{:?}", out.vertices);
    let fields: Vec<(&str, f64)> = report[0]
        .name
        .split_whitespace()
        .filter_map(|kv| {
            let (key, value) = kv.split_once('=')?;
            Some((key, value.parse().ok()?))
        })
        .collect();
    let keys: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
    assert_eq!(
        keys,
        [
            "ping_ms",
            "ping_cpu_ms",
            "build_file_ms",
            "build_file_cpu_ms",
            "compiled_ms",
            "compiled_cpu_ms",
            "return_ms",
            "return_cpu_ms",
            "before_start_cpu_ms",
            "peak_rss_kib"
        ]
    );
    assert!(fields.iter().all(|(_, v)| *v > 0.0), "{fields:?}");
    let field = |key: &str| fields.iter().find(|(k, _)| *k == key).unwrap().1;
    assert!(field("ping_ms") <= field("build_file_ms"));
    assert!(field("build_file_ms") <= field("compiled_ms"));
    assert!(field("compiled_ms") <= field("return_ms"));
    assert!(field("ping_cpu_ms") <= field("return_cpu_ms"));

    let bad = build(
        &project,
        "build.envd",
        "envd-e2e/report:1",
        &[site, ("ENVD_FRONTEND_REPORT", "yes")],
        &[],
    );
    assert!(!bad.success);
    assert!(
        bad.error_text().contains(
            "option build-arg:ENVD_FRONTEND_REPORT=\"yes\": expected 1, true, 0 or false"
        ),
        "{}",
        bad.error_text()
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn a_build_file_saved_on_windows_builds() {
    require_setup();
    let index = PackageIndex::start("habits");
    let project = Project::new("habits");
    // A byte-order mark, CRLF line ends and tab indents, in build.envd and
    // in the context files, and a Windows conda prefix. A byte-order mark
    // hides a `# syntax=` line from dockerd (it parsed the file as a
    // Dockerfile), so the frontend is named by build arg, as such files need.
    let crlf = |text: &str| format!("\u{feff}{}", text.replace('\n', "\r\n"));
    project.write(
        "build.envd",
        &crlf("def build():\n\tbase(os=\"aiges_cpu\", language=\"python3\")\n\tinstall.python_packages(requirements=\"requirements.txt\")\n\tinstall.conda_packages(env_file=\"env.yaml\")\n\tif True:\n\t\trun(commands=[\"printf 'a\\tb' > /tmp/tab\"])\n"),
    );
    project.write("requirements.txt", &crlf("envd-test-alpha==1.0\n"));
    project.write(
        "env.yaml",
        &crlf("name: wrapper\nchannels:\n  - defaults\ndependencies:\n  - envd-conda-beta=1.0=h2bbff1b_0\n  - vc=14.2=h21ff451_1\nprefix: C:\\Users\\me\\anaconda3\\envs\\wrapper\n"),
    );
    let conda = CondaMirror::start("habits");
    let mut site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    site.push((
        "BUILDKIT_SYNTAX".to_string(),
        "aiges/envd-frontend".to_string(),
    ));
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/habits:1",
        &args(&site),
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    let image = "envd-e2e/habits:1";
    assert_eq!(
        run_in(
            image,
            "python -c 'import envd_test_alpha; print(envd_test_alpha.VALUE)'"
        )
        .trim(),
        "alpha"
    );
    assert_eq!(run_in(image, "cat /tmp/tab"), "a\tb");
    // Exported on Windows: the build string dropped and Windows' own `vc`
    // left out (each named in a warning), the rest installed by conda.
    assert_eq!(conda_list(image), "envd-conda-beta 1.0\n");
    let warnings: Vec<&str> = out
        .vertices
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| n.starts_with("warning: env.yaml"))
        .collect();
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("envd-conda-beta=1.0=h2bbff1b_0"))
            && warnings.iter().any(|w| w.contains("vc=14.2")),
        "{warnings:?}"
    );
}

/// Serves `body` for every request on 127.0.0.1, for `io.http`; returns
/// the port. The thread lives as long as the test process.
fn serve_bytes(body: &'static [u8]) -> u16 {
    serve_http(move |_| Some(body.to_vec()))
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn io_http_downloads_what_its_checksum_names_and_nothing_else() {
    require_setup();
    const MODEL: &[u8] = b"model weights\n";
    let port = serve_bytes(MODEL);
    let good = format!("sha256:{}", llb_gen::llb::sha256_hex(MODEL));
    let wrong = format!("sha256:{}", "0".repeat(64));
    let project = Project::new("io-http");
    let file = |checksum: &str| {
        format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    io.http(url=\"http://127.0.0.1:{port}/{}/asr.bin\", checksum=\"{checksum}\", filename=\"asr.bin\")\n",
            nonce()
        )
    };
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    project.write("good.envd", &file(&good));
    let out = build(&project, "good.envd", "envd-e2e/http:1", &cpu, &[]);
    assert!(out.success, "{}", out.error_text());
    assert_eq!(
        run_in("envd-e2e/http:1", "cat /home/envd/extra_source/asr.bin"),
        "model weights\n"
    );
    project.write("wrong.envd", &file(&wrong));
    let out = build(&project, "wrong.envd", "envd-e2e/http:2", &cpu, &[]);
    assert!(!out.success, "a wrong checksum built");
    let error = out.error_text();
    // At the io.http line (the header moves it to line 4).
    assert!(
        error.contains("digest mismatch") && error.contains("wrong.envd:4"),
        "{error}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn an_editable_install_of_the_context_is_installed_as_a_plain_package() {
    require_setup();
    let index = PackageIndex::start("editable");
    let project = Project::new("editable");
    project
        .write(
            "build.envd",
            &format!(
                "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    install.python_packages(requirements=\"requirements.txt\")\n"
            ),
        )
        .write("requirements.txt", "envd-test-alpha==1.0\n-e .\n")
        .write(
            "setup.py",
            "from setuptools import setup\nsetup(name='editable-service', version='1.0', packages=['editable_service'])\n",
        )
        .write("editable_service/__init__.py", "NAME = 'editable service'\n");
    let args = [
        ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    let out = build(&project, "build.envd", "envd-e2e/editable:1", &args, &[]);
    assert!(out.success, "{}", out.error_text());
    let warned: Vec<&str> = out
        .vertices
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| n.starts_with("warning: requirements.txt:2"))
        .collect();
    assert_eq!(warned.len(), 1, "the warning is shown as a step");
    // Installed from the step's own copy of the context, into the image's
    // site-packages: nothing points at the mount the image does not keep.
    let found = run_in(
        "envd-e2e/editable:1",
        "cd / && python3 -c 'import editable_service, envd_test_alpha; print(editable_service.NAME, editable_service.__file__)'",
    );
    assert!(found.starts_with("editable service /"), "{found}");
    assert!(!found.contains("envd-frontend/context"), "{found}");
    assert!(
        found.contains("-packages/editable_service/__init__.py"),
        "{found}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn run_mount_host_sees_the_context_without_copying_it() {
    require_setup();
    let project = Project::new("mount-host");
    project.write("data/input.txt", "from the context\n");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    runtime.environ(env={{\"NONCE\": \"{}\"}})\n    run(commands=[\"cp data/input.txt /tmp/seen && touch written-here\"], mount_host=True)\n",
            nonce()
        ),
    );
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    let out = build(&project, "build.envd", "envd-e2e/mount-host:1", &cpu, &[]);
    assert!(out.success, "{}", out.error_text());
    let image = "envd-e2e/mount-host:1";
    assert_eq!(run_in(image, "cat /tmp/seen"), "from the context\n");
    // The test base has no working directory: envd's folder is used. The
    // mount's files, and what the command wrote into it, are not in the
    // image (run_in fails if either is there).
    run_in(
        image,
        "test ! -e /home/envd/build-context/data && test ! -e /home/envd/build-context/written-here",
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn dockerignore_keeps_a_secret_file_and_a_folder_out_of_the_image() {
    require_setup();
    let project = Project::new("dockerignore");
    project.write(
        ".dockerignore",
        "# as AIGES demos ship one\nsecret.env\nmodels/\n",
    );
    project.write("secret.env", "TOKEN=do-not-ship\n");
    project.write("models/asr.bin", "weights\n");
    project.write("service/main.py", "print('wrapper')\n");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    runtime.environ(env={{\"NONCE\": \"{}\"}})\n    io.copy(src=\"./\", dest=\"/srv/app/\")\n",
            nonce()
        ),
    );
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    let out = build(&project, "build.envd", "envd-e2e/dockerignore:1", &cpu, &[]);
    assert!(out.success, "{}", out.error_text());
    let listing = run_in(
        "envd-e2e/dockerignore:1",
        "cd /srv/app && find . -type f | sort",
    );
    assert_eq!(
        listing,
        "./.dockerignore\n./build.envd\n./service/main.py\n"
    );
}

/// A git repository of `.envd` files, served by `git daemon` on 127.0.0.1
/// for as long as the value lives.
struct GitDaemon {
    child: std::process::Child,
    port: u16,
    /// The folder it serves, removed with it.
    _repositories: Project,
}

impl GitDaemon {
    fn serve(name: &str, files: &[(&str, &str)]) -> GitDaemon {
        let base = Project::new(&format!("git-{name}"));
        let repo = base.dir.join("lib.git");
        for (path, text) in files {
            base.write(&format!("lib.git/{path}"), text);
        }
        let git = |args: &[&str]| {
            let status = std::process::Command::new("git")
                .args([
                    "-c",
                    "user.name=e2e",
                    "-c",
                    "user.email=e2e@example.invalid",
                ])
                .args(args)
                .current_dir(&repo)
                .status()
                .expect("git runs");
            assert!(status.success(), "git {args:?}");
        };
        git(&["init", "-q"]);
        git(&["add", "."]);
        git(&["commit", "-q", "-m", "envd library"]);
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        // git-daemon itself, not `git daemon`, which would leave it running
        // when killed.
        let exec_path = std::process::Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git runs");
        let exec_path = String::from_utf8_lossy(&exec_path.stdout)
            .trim()
            .to_string();
        let child = std::process::Command::new(format!("{exec_path}/git-daemon"))
            .args([
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", base.dir.display()),
            ])
            .arg(&base.dir)
            .spawn()
            .expect("git daemon starts");
        // Wait until it accepts connections.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        GitDaemon {
            child,
            port,
            _repositories: base,
        }
    }

    fn url(&self) -> String {
        format!("git://127.0.0.1:{}/lib.git", self.port)
    }
}

impl Drop for GitDaemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn include_fetches_a_repository_through_buildkit_and_a_site_mirror() {
    require_setup();
    let daemon = GitDaemon::serve(
        "include",
        &[
            (
                "src/aiges.envd",
                "def wrapper(name):\n    run(commands=[\"echo \" + name + \" > /tmp/wrapper\"])\n",
            ),
            (
                "src/env.envd",
                "def environ():\n\truntime.environ(env={\"FROM_LIB\": \"yes\"})\n",
            ),
        ],
    );
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    let nonce = nonce();
    // Two build files use the library; the second names it by its public
    // URL and reaches it through the site's mirror, as air-gapped sites do.
    let direct = Project::new("include-direct");
    direct.write(
        "build.envd",
        &format!(
            "{SYNTAX}lib = include(git=\"{}\")\n\ndef build():\n    base(os=\"aiges_cpu\")\n    lib.wrapper(\"asr-{nonce}\")\n    lib.environ()\n",
            daemon.url()
        ),
    );
    let out = build(&direct, "build.envd", "envd-e2e/include:1", &cpu, &[]);
    assert!(out.success, "{}", out.error_text());
    assert_eq!(
        run_in("envd-e2e/include:1", "cat /tmp/wrapper"),
        format!("asr-{nonce}\n")
    );
    assert_eq!(run_in("envd-e2e/include:1", "echo $FROM_LIB").trim(), "yes");

    let mirrored = Project::new("include-mirror");
    mirrored.write(
        "build.envd",
        &format!(
            "{SYNTAX}envdlib = include(\"https://github.com/example/envdlib\")\n\ndef build():\n    base(os=\"aiges_cpu\")\n    envdlib.wrapper(\"tts-{nonce}\")\n"
        ),
    );
    let mirror = format!("https://github.com/example/envdlib={}", daemon.url());
    let args = [
        ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
        ("ENVD_INCLUDE_MIRRORS", mirror.as_str()),
    ];
    let out = build(&mirrored, "build.envd", "envd-e2e/include:2", &args, &[]);
    assert!(out.success, "{}", out.error_text());
    assert_eq!(
        run_in("envd-e2e/include:2", "cat /tmp/wrapper"),
        format!("tts-{nonce}\n")
    );

    // Or from a folder of the build context, as a site without any git
    // server keeps it.
    let vendored = Project::new("include-vendored");
    vendored.write(
        "vendor/envdlib/src/aiges.envd",
        "def wrapper(name):\n    run(commands=[\"echo \" + name + \" > /tmp/wrapper\"])\n",
    );
    vendored.write(
        "build.envd",
        &format!(
            "{SYNTAX}envdlib = include(\"https://github.com/example/envdlib\")\n\ndef build():\n    base(os=\"aiges_cpu\")\n    envdlib.wrapper(\"ocr-{nonce}\")\n"
        ),
    );
    let args = [
        ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
        (
            "ENVD_INCLUDE_MIRRORS",
            "https://github.com/example/envdlib=context:vendor/envdlib",
        ),
    ];
    let out = build(&vendored, "build.envd", "envd-e2e/include:4", &args, &[]);
    assert!(out.success, "{}", out.error_text());
    assert_eq!(
        run_in("envd-e2e/include:4", "cat /tmp/wrapper"),
        format!("ocr-{nonce}\n")
    );

    // Without the mirror the repository cannot be fetched: an error at the
    // include line (the header moves it to line 2).
    let missing = Project::new("include-missing");
    missing.write(
        "build.envd",
        &format!(
            "{SYNTAX}lib = include(\"git://127.0.0.1:1/absent-{nonce}.git\")\n\ndef build():\n    base(os=\"aiges_cpu\")\n"
        ),
    );
    let out = build(&missing, "build.envd", "envd-e2e/include:3", &cpu, &[]);
    assert!(!out.success);
    let error = out.error_text();
    assert!(
        error.contains("build.envd:2") && error.contains("include(): cannot fetch"),
        "{error}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn r_packages_install_from_a_local_cran() {
    require_setup();
    // A CRAN-style repository of one pure-R source package, made with tar.
    let package = Project::new("r-package");
    package.write(
        "envdtest/DESCRIPTION",
        "Package: envdtest\nVersion: 1.0\nTitle: A Test Package\nDescription: Says hello.\nAuthor: e2e\nMaintainer: e2e <e2e@example.invalid>\nLicense: MIT\nNeedsCompilation: no\n",
    );
    package.write("envdtest/NAMESPACE", "export(hello)\n");
    package.write(
        "envdtest/R/hello.R",
        "hello <- function() \"hello from envdtest\"\n",
    );
    let status = std::process::Command::new("tar")
        .args(["-czf", "envdtest_1.0.tar.gz", "envdtest"])
        .current_dir(&package.dir)
        .status()
        .expect("tar runs");
    assert!(status.success());
    let tarball = std::fs::read(package.dir.join("envdtest_1.0.tar.gz")).expect("the tarball");
    let port = serve_files(vec![
        (
            "/src/contrib/PACKAGES".to_string(),
            b"Package: envdtest\nVersion: 1.0\nNeedsCompilation: no\n".to_vec(),
        ),
        ("/src/contrib/envdtest_1.0.tar.gz".to_string(), tarball),
    ]);
    let project = Project::new("r");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"r\")\n    config.cran_mirror(url=\"http://127.0.0.1:{port}\")\n    install.r_packages(name=[\"envdtest\"])\n    runtime.environ(env={{\"NONCE\": \"{}\"}})\n",
            nonce()
        ),
    );
    let r = [("ENVD_BASE_IMAGE", "envd-test/r:latest")];
    let out = build(&project, "build.envd", "envd-e2e/r:1", &r, &[]);
    assert!(out.success, "{}", out.error_text());
    assert_eq!(
        run_in("envd-e2e/r:1", "Rscript -e 'cat(envdtest::hello())'"),
        "hello from envdtest"
    );

    // A package the repository lacks: R only warns; the step fails at its line.
    project.write(
        "missing.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"r\")\n    config.cran_mirror(url=\"http://127.0.0.1:{port}\")\n    install.r_packages(name=[\"absentpkg\"])\n"
        ),
    );
    let out = build(&project, "missing.envd", "envd-e2e/r:2", &r, &[]);
    assert!(!out.success, "a missing package built");
    // buildx shows the call's line; the step's log says what failed.
    let error = out.error_text();
    assert!(
        error.contains(">>>     install.r_packages(name=[\"absentpkg\"])"),
        "{error}"
    );
    let log = out.logs("install.r_packages");
    assert!(
        log.contains(
            "envd-frontend: missing.envd:5: install.r_packages could not install: absentpkg"
        ),
        "{log}"
    );

    // A base without R fails at base().
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    let out = build(&project, "build.envd", "envd-e2e/r:3", &cpu, &[]);
    assert!(!out.success, "R on a base without it built");
    let error = out.error_text();
    assert!(
        error.contains(">>>     base(os=\"aiges_cpu\", language=\"r\")"),
        "{error}"
    );
    let log = out.logs("base: R");
    assert!(
        log.contains("names R, and the base image has no Rscript"),
        "{log}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn warnings_show_as_steps_on_the_buildx_installed_here() {
    require_setup();
    let project = Project::new("warnings");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\")\n    shell(\"zsh\")\n    runtime.expose(8080, 18080)\n"
        ),
    );
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];
    for run in ["first", "again"] {
        let out = build(&project, "build.envd", "envd-e2e/warnings:1", &cpu, &[]);
        assert!(out.success, "{}", out.error_text());
        // Shown on every build, cached or not (the header moves lines by one).
        for expected in [
            "warning: build.envd:4: shell() has no effect on an image",
            "warning: build.envd:5: runtime.expose(): `host_port` has no effect on an image",
        ] {
            assert_eq!(
                out.vertices_named(expected).len(),
                1,
                "{run} build: {expected:?} not shown in {:?}",
                out.vertices.iter().map(|v| &v.name).collect::<Vec<_>>()
            );
        }
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn subrequests_answer_through_buildx() {
    require_setup();
    let project = Project::new("subrequests");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}# The variant to build.\nVARIANT = build_args.get(\"VARIANT\", \"cpu\")\n\n\
             def build():\n    \"\"\"The CPU wrapper.\"\"\"\n    base(os=\"aiges_cpu\", language=\"python3\")\n    shell(\"zsh\")\n    run(commands=[\"pip install numpy\"])\n\n\
             def build_gpu():\n    \"\"\"The GPU wrapper.\"\"\"\n    base(os=\"aiges_gpu\")\n"
        ),
    );
    let cpu = [("ENVD_BASE_IMAGE", "envd-test/cpu:latest")];

    let targets = print(&project, "build.envd", "targets", &cpu);
    assert!(targets.success, "{}", targets.stderr);
    assert_eq!(
        targets.stdout,
        "TARGET          DESCRIPTION\nbuild (default) The CPU wrapper.\nbuild_gpu       The GPU wrapper.\n"
    );

    let outline = print(&project, "build.envd", "outline,format=json", &cpu);
    assert!(outline.success, "{}", outline.stderr);
    let outline: serde_json::Value = serde_json::from_str(&outline.stdout).expect("JSON");
    assert_eq!(outline["description"], "The CPU wrapper.");
    let variant = &outline["args"][0];
    assert_eq!(
        (&variant["name"], &variant["value"], &variant["description"]),
        (
            &"VARIANT".into(),
            &"cpu".into(),
            &"The variant to build.".into()
        )
    );
    // Line 3 with the header; the site setting given shows its value.
    assert_eq!(variant["location"]["ranges"][0]["start"]["line"], 3);
    let base = outline["args"]
        .as_array()
        .expect("args")
        .iter()
        .find(|a| a["name"] == "ENVD_BASE_IMAGE")
        .expect("ENVD_BASE_IMAGE is listed");
    assert_eq!(base["value"], "envd-test/cpu:latest");

    let lint = print(&project, "build.envd", "lint", &cpu);
    assert!(lint.success, "{}", lint.stderr);
    for expected in [
        "WARNING: NoEffectInImage - docs/build-envd-reference.md#noeffectinimage",
        "WARNING: RunInsteadOfBuiltin - docs/build-envd-reference.md#runinsteadofbuiltin",
        "   9 | >>>     run(commands=[\"pip install numpy\"])",
        "Check complete, 2 warnings found.",
    ] {
        assert!(
            lint.stdout.contains(expected),
            "{expected:?} not in:\n{}",
            lint.stdout
        );
    }

    let describe = print(&project, "build.envd", "subrequests.describe", &cpu);
    assert!(describe.success, "{}", describe.stderr);
    for name in ["outline", "targets", "lint", "subrequests.describe"] {
        assert!(
            describe.stdout.contains(&format!("\n{name} ")),
            "{}",
            describe.stdout
        );
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn seed_example_through_the_envd_build_drop_in() {
    require_setup();
    let index = PackageIndex::start("seed-envd");
    let conda = CondaMirror::start("seed-envd");
    let project = Project::copy_of("seed-envd", "examples/seed");
    // The line of the users' process document, run in the project's folder;
    // the site settings come from the environment, as a CI runner sets them.
    let output = std::process::Command::new(envd_cli())
        .args(["build", "-t", "envd-e2e/seed:envd", "-f", "build.envd"])
        .args(["--network", "host"])
        .current_dir(&project.dir)
        .envs(conda_site_args(&index, &conda, "envd-test/conda:latest"))
        .output()
        .expect("envd runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("--build-arg BUILDKIT_SYNTAX=aiges/envd-frontend"),
        "{stderr}"
    );
    check_seed_image("envd-e2e/seed:envd", &index, &conda);

    // A flag envd had for its development environments is refused, naming why.
    let refused = std::process::Command::new(envd_cli())
        .args(["build", "--public-key", "id.pub"])
        .current_dir(&project.dir)
        .output()
        .expect("envd runs");
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("--public-key is not supported"), "{stderr}");
}

/// Lines holding `needle` in the whole file system of `image` (`docker
/// export` of a container made from it).
fn occurrences_in_file_system(image: &str, needle: &str) -> usize {
    let container = docker(&["create", image]).trim().to_string();
    let output = std::process::Command::new("bash")
        .arg("-c")
        // pipefail: a failed export must not read as "not found" (grep's
        // 1 is "none", not a failure).
        .arg(format!(
            "set -o pipefail; docker export {container} | grep -a -c -F -e \"$NEEDLE\"; [ $? -le 1 ]"
        ))
        .env("NEEDLE", needle)
        .output()
        .expect("bash runs");
    docker(&["rm", &container]);
    assert!(
        output.status.success(),
        "docker export: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .trim()
        .parse()
        .expect("grep counts lines")
}

/// What `llb-gen --format json` prints for the build with `args`: the LLB,
/// or the rendered errors.
fn llb_gen_output(project: &Project, args: &[(&str, &str)]) -> String {
    let text = std::fs::read_to_string(project.dir.join("build.envd")).unwrap();
    let options = llb_gen::CompileOptions::default().build_args(
        args.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let files = llb_gen::disk::DiskContext::new(&project.dir).unwrap();
    match llb_gen::compile(&text, &options, &files, &llb_gen::disk::OfflineResolver) {
        Ok(compiled) => {
            serde_json::to_string(&llb_gen::llb::definition_to_json(&compiled.definition).unwrap())
                .unwrap()
        }
        Err(diagnostics) => diagnostics.render(),
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn a_private_mirror_login_comes_from_the_netrc_secret_and_is_kept_nowhere() {
    require_setup();
    // New every run, so no record of an earlier run can hold it.
    let password = format!("pw-{}", nonce());
    let index = PackageIndex::with_login("private", &format!("alice:{password}"));
    let project = Project::copy_of("private-mirror", "examples/aiges-wrapper");
    let netrc = std::env::temp_dir().join(format!("envd-e2e-netrc-{}", std::process::id()));
    std::fs::write(
        &netrc,
        format!("machine 127.0.0.1 login alice password {password}\n"),
    )
    .unwrap();
    let secret = format!("id=netrc,src={}", netrc.display());
    let site = site_args(&index, "envd-test/cpu:latest");
    let pip_step = "install.python_packages -r requirements.txt";

    // Without the login, pip gets the mirror's 401 at the install line, and
    // the step says how to give the login.
    let refused = build(
        &project,
        "build.envd",
        "envd-e2e/private:none",
        &args(&site),
        &[],
    );
    assert!(!refused.success);
    let log = refused.logs(pip_step);
    assert!(log.contains("401"), "pip reports the mirror's 401: {log}");
    assert!(
        log.contains(
            "envd-frontend: build.envd:7: pip failed, and the build has no netrc secret: if the mirror needs a login, build with --secret id=netrc,src=$HOME/.netrc"
        ),
        "{log}"
    );
    assert!(index.downloads().is_empty());

    // With it, the wrapper builds.
    let built = build(
        &project,
        "build.envd",
        "envd-e2e/private:cpu",
        &args(&site),
        &["--secret", &secret],
    );
    assert!(built.success, "{}", built.error_text());
    assert_eq!(index.downloads().len(), 4, "{:?}", index.downloads());
    assert_eq!(
        run_in(
            "envd-e2e/private:cpu",
            "python /home/aiges/wrapper/wrapper.py"
        )
        .trim(),
        "wrapper ready: alpha delta"
    );

    // The second variant takes every wheel from the cache.
    let gpu_site = site_args(&index, "envd-test/gpu:latest");
    let gpu = build(
        &project,
        "build.envd",
        "envd-e2e/private:gpu",
        &args(&gpu_site),
        &["--secret", &secret],
    );
    assert!(gpu.success, "{}", gpu.error_text());
    assert_eq!(
        index.downloads().len(),
        4,
        "the second variant downloads nothing"
    );

    // The password is nowhere a build keeps things. (The search finds
    // what is there: the wrapper's own text.)
    assert!(occurrences_in_file_system("envd-e2e/private:cpu", "wrapper ready:") > 0);
    assert_eq!(
        occurrences_in_file_system("envd-e2e/private:cpu", &password),
        0
    );
    assert_eq!(
        occurrences_in_file_system("envd-e2e/private:gpu", &password),
        0
    );
    assert!(
        !inspect("envd-e2e/private:cpu")
            .to_string()
            .contains(&password)
    );
    assert!(!docker(&["history", "--no-trunc", "envd-e2e/private:cpu"]).contains(&password));
    // The frontend never sees the secret; its graph is llb-gen's.
    let llb = llb_gen_output(&project, &args(&site));
    assert!(llb.contains("\"NETRC=/run/secrets/netrc\"") && !llb.contains(&password));
    for output in [&refused, &built, &gpu] {
        assert!(!output.stderr.contains(&password), "in the progress output");
    }

    // A login in the site's URL is refused, and never echoed.
    let url_with_login = index
        .url
        .replacen("http://", &format!("http://alice:{password}@"), 1);
    let in_url = build(
        &project,
        "build.envd",
        "envd-e2e/private:url",
        &[
            ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
            ("ENVD_PIP_INDEX", &url_with_login),
            ("ENVD_PYTHON_VERSION", "3.11"),
        ],
        &[],
    );
    assert!(!in_url.success);
    let error = in_url.error_text();
    assert!(
        error.contains("ENVD_PIP_INDEX \"http://***@127.0.0.1:")
            && error.contains("carries a login"),
        "{error}"
    );
    assert!(!in_url.stderr.contains(&password), "{}", in_url.stderr);
    let refused_offline = llb_gen_output(
        &project,
        &[
            ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
            ("ENVD_PIP_INDEX", &url_with_login),
        ],
    );
    assert!(
        refused_offline.contains("carries a login") && !refused_offline.contains(&password),
        "{refused_offline}"
    );
    let _ = std::fs::remove_file(&netrc);
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn conda_packages_by_name_and_channel_from_the_sites_mirror() {
    require_setup();
    let index = PackageIndex::start("conda-names");
    let conda = CondaMirror::start("conda-names");
    let project = Project::new("conda-names");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    install.conda_packages(name=[\"envd-conda-alpha=2.0\", \"envd-conda-prefixed\"], channel=[\"conda-forge\"])\n    run(commands=[\"echo {} > /nonce\"])\n",
            nonce()
        ),
    );
    let site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/conda-names:1",
        &args(&site),
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    let image = "envd-e2e/conda-names:1";
    // The solver honoured the range alpha 2.0 asks of beta.
    assert_eq!(
        conda_list(image),
        "envd-conda-alpha 2.0\nenvd-conda-beta 1.1\nenvd-conda-prefixed 1.0\n"
    );
    // The prefix placeholder was rewritten to where conda installed.
    assert!(
        run_in(image, "cat /opt/conda/etc/envd-conda-prefixed.conf")
            .starts_with("prefix=/opt/conda\n")
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn conda_variants_share_conda_s_cache() {
    require_setup();
    let index = PackageIndex::start("conda-variants");
    let conda = CondaMirror::start("conda-variants");
    let project = Project::new("conda-variants");
    project
        .write(
            "build.envd",
            &format!(
                "{SYNTAX}def build():\n    base(os=\"aiges_gpu\" if build_args.get(\"VARIANT\") == \"gpu\" else \"aiges_cpu\", language=\"python3\")\n    install.conda_packages(env_file=\"env.yaml\")\n    run(commands=[\"echo {} > /nonce\"])\n",
                nonce()
            ),
        )
        .write(
            "env.yaml",
            "name: service\nchannels:\n  - defaults\ndependencies:\n  - python=3.11.4=h955ad1f_0\n  - envd-conda-beta=2.0\n  - pip=23.2.1=py311h06a4308_0\n  - pip:\n    - envd-test-delta==1.0\nprefix: /home/dev/miniconda3/envs/service\n",
        );
    let mut site = conda_site_args(&index, &conda, "unused");
    site.retain(|(k, _)| k != "ENVD_BASE_IMAGE");
    site.push((
        "ENVD_BASE_IMAGE_AIGES_CPU".to_string(),
        "envd-test/conda:latest".to_string(),
    ));
    site.push((
        "ENVD_BASE_IMAGE_AIGES_GPU".to_string(),
        "envd-test/gpu-conda:latest".to_string(),
    ));
    let cpu = build_variant(&project, "envd-e2e/conda-variant:cpu", &args(&site), "cpu");
    assert!(cpu.success, "{}", cpu.error_text());
    // conda's package cache is shared by every build and outlives the
    // suite, and conda keys `defaults` packages by name, not by the
    // mirror's address: the first variant may find them all there. What
    // counts is that each variant ran conda and the second fetched nothing.
    let conda_files = conda.downloads();
    let wheels = index.downloads();
    assert!(!wheels.is_empty(), "the first variant fetched its wheel");
    assert!(
        cpu.executed().contains(&"install.conda_packages env.yaml"),
        "{:?}",
        cpu.executed()
    );
    let gpu = build_variant(&project, "envd-e2e/conda-variant:gpu", &args(&site), "gpu");
    assert!(gpu.success, "{}", gpu.error_text());
    assert!(
        gpu.executed().contains(&"install.conda_packages env.yaml"),
        "the GPU variant ran conda on its own base: {:?}",
        gpu.executed()
    );
    assert_eq!(
        conda.downloads(),
        conda_files,
        "the GPU variant fetches no conda package"
    );
    assert_eq!(
        index.downloads(),
        wheels,
        "the GPU variant fetches no wheel"
    );
    for image in ["envd-e2e/conda-variant:cpu", "envd-e2e/conda-variant:gpu"] {
        assert!(conda_list(image).contains("envd-conda-beta 2.0"), "{image}");
        run_in(image, "python -c 'import envd_test_delta'");
    }
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn conda_s_own_errors_fail_at_their_line() {
    require_setup();
    let index = PackageIndex::start("conda-errors");
    let conda = CondaMirror::start("conda-errors");
    let project = Project::new("conda-errors");
    let site = conda_site_args(&index, &conda, "envd-test/conda:latest");
    // A package the channel lacks.
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    run(commands=[\"echo {} > /nonce\"])\n    install.conda_packages(name=[\"envd-conda-missing\"], channel=[\"conda-forge\"])\n",
            nonce()
        ),
    );
    let missing = build(
        &project,
        "build.envd",
        "envd-e2e/conda-errors:1",
        &args(&site),
        &[],
    );
    assert!(!missing.success);
    let failed: Vec<&Vertex> = missing
        .vertices
        .iter()
        .filter(|v| v.error.is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].location.as_deref(), Some("build.envd:5"));
    let log = missing.logs("install.conda_packages");
    assert!(
        log.contains("PackagesNotFoundInChannelsError") && log.contains("envd-conda-missing"),
        "{log}"
    );
    // A .condarc conda refuses: a channel priority it does not have.
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    run(commands=[\"echo {} > /nonce\"])\n    config.conda_channel(channel=\"\"\"\nchannels: [defaults]\nchannel_priority: sometimes\n\"\"\")\n",
            nonce()
        ),
    );
    let refused = build(
        &project,
        "build.envd",
        "envd-e2e/conda-errors:2",
        &args(&site),
        &[],
    );
    assert!(!refused.success);
    let log = refused.logs("config.conda_channel: conda reads it");
    assert!(
        log.contains("CustomValidationError: Parameter channel_priority = 'sometimes'")
            && log.contains("build.envd:5: conda refuses the .condarc this call writes"),
        "{log}"
    );
    let failed: Vec<&Vertex> = refused
        .vertices
        .iter()
        .filter(|v| v.error.is_some())
        .collect();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].location.as_deref(), Some("build.envd:5"));
}

/// An envd v1 serving file, as envd's own serving examples write one, its
/// calls out of envd's order (envd 1.x builds in fixed phases).
fn v1_serving_file(header: &str) -> String {
    format!(
        "{header}\ndef serving():\n    base(image=\"python:3.11-slim\")\n    run(commands=[\"test -f /srv/app/__init__.py\", \"python3 -c 'import app, envd_test_alpha; print(app.NAME)' > /ready\"])\n    io.copy(source=\"app\", target=\"/srv/app\")\n    install.python_packages(requirements=\"requirements.txt\")\n    install.apt_packages(name=[\"procps\"])\n    runtime.environ(env={{\"PYTHONPATH\": \"/srv\", \"NONCE\": \"{}\"}})\n    runtime.expose(envd_port=8000)\n    config.entrypoint([\"python3\", \"-m\", \"app\"])\n",
        nonce()
    )
}

/// What the v1 serving image must be: its files, config and entrypoint.
fn check_v1_serving_image(image: &str) {
    assert_eq!(run_in(image, "cat /ready"), "v1 app\n");
    run_in(image, "command -v pkill >/dev/null");
    let served = std::process::Command::new("docker")
        .args(["run", "--rm", "--network=none", image])
        .output()
        .unwrap();
    assert!(served.status.success(), "{served:?}");
    assert_eq!(String::from_utf8_lossy(&served.stdout), "serving\n");
    let config = std::process::Command::new("docker")
        .args(["image", "inspect", "--format", "{{json .Config}}", image])
        .output()
        .unwrap();
    let config: serde_json::Value = serde_json::from_slice(&config.stdout).unwrap();
    assert_eq!(
        config["Entrypoint"],
        serde_json::json!(["python3", "-m", "app"])
    );
    assert!(config["Cmd"].is_null(), "envd v1 sets no Cmd: {config}");
    assert!(config["ExposedPorts"]["8000/tcp"].is_object(), "{config}");
}

fn v1_project(name: &str, header: &str) -> Project {
    let project = Project::new(name);
    project
        .write("build.envd", &v1_serving_file(header))
        .write("requirements.txt", "envd-test-alpha==1.0\n")
        .write("app/__init__.py", "NAME = 'v1 app'\n")
        .write("app/__main__.py", "print('serving')\n");
    project
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn an_envd_v1_serving_file_builds_by_build_arg_header_and_envd_build() {
    require_setup();
    let index = PackageIndex::start("v1-serving");
    let site = [
        ("ENVD_BASE_IMAGE", "envd-test/cpu:latest"),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    // envd 1.x's own header: BuildKit would run an image named `v1`;
    // BUILDKIT_SYNTAX names this frontend instead, as the Dockerfile
    // frontend reads it before the file's line.
    let project = v1_project("v1-serving-arg", "# syntax=v1");
    let mut with_syntax = site.to_vec();
    with_syntax.push(("BUILDKIT_SYNTAX", "aiges/envd-frontend"));
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/v1-serving:arg",
        &with_syntax,
        &["--target", "serving"],
    );
    assert!(out.success, "{}", out.error_text());
    check_v1_serving_image("envd-e2e/v1-serving:arg");
    // The run is written first and succeeded: it ran after the copy and
    // the install (/ready names the app and imported the package), as
    // envd 1.x orders them (the fixture v1_serving shows the whole order).
    // The header that names this frontend, which envd 1.x reads as v1 too.
    let project = v1_project("v1-serving-header", "# syntax=aiges/envd-frontend v1");
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/v1-serving:header",
        &site,
        &["--target", "serving"],
    );
    assert!(out.success, "{}", out.error_text());
    check_v1_serving_image("envd-e2e/v1-serving:header");

    // envd's command line, the function named after the file.
    let project = v1_project("v1-serving-envd", "# syntax=v1");
    let output = std::process::Command::new(envd_cli())
        .args([
            "build",
            "-t",
            "envd-e2e/v1-serving:envd",
            "-f",
            "build.envd:serving",
        ])
        .args(["--network", "host"])
        .current_dir(&project.dir)
        .envs(site.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .output()
        .expect("envd runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    check_v1_serving_image("envd-e2e/v1-serving:envd");

    // A failing v1 step points at its call.
    project.write(
        "failing.envd",
        "# syntax=v1\ndef build():\n    base(image=\"python:3.11-slim\")\n    run(commands=[\"echo ok\", \"exit 3\"])\n",
    );
    let out = build(
        &project,
        "failing.envd",
        "envd-e2e/v1-serving:failing",
        &with_syntax,
        &[],
    );
    assert!(!out.success);
    let text = out.error_text();
    assert!(text.contains("exit code: 3"), "{text}");
    assert!(
        text.contains(">>>     run(commands=[\"echo ok\", \"exit 3\"])"),
        "the failing step points at its call: {text}"
    );
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn a_v1_dev_file_without_its_header_builds_as_v1_and_says_so() {
    require_setup();
    let project = Project::new("v1-dev");
    project.write(
        "build.envd",
        &format!(
            "{SYNTAX}def build():\n    base(dev=True)\n    runtime.environ(env={{\"NONCE\": \"{}\"}})\n    run(commands=[\"whoami > who\", \"pwd >> who\"])\n",
            nonce()
        ),
    );
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/v1-dev:1",
        &[("ENVD_BASE_IMAGE", "envd-test/cpu:latest")],
        &[],
    );
    assert!(out.success, "{}", out.error_text());
    let warned: Vec<&str> = out
        .vertices
        .iter()
        .map(|v| v.name.as_str())
        .filter(|n| n.starts_with("warning: build.envd:1: build.envd has no `# syntax=v1` line"))
        .collect();
    assert_eq!(warned.len(), 1, "{:?}", out.vertices);
    // run() ran as envd in its folder, which is the image's user and
    // working directory.
    let image = "envd-e2e/v1-dev:1";
    assert_eq!(
        run_in(image, "cat /home/envd/build-context/who"),
        "envd\n/home/envd/build-context\n"
    );
    assert_eq!(
        run_in(image, "id -un && pwd"),
        "envd\n/home/envd/build-context\n"
    );
}

/// envd 1.3.4's uv release archive for x86_64 (`uv-x86_64-unknown-linux-
/// gnu/uv` and `uvx`), repacked from PyPI's uv wheel of the same version,
/// which carries the same programs (`scripts/e2e-setup.sh wheels` fetches
/// it; GitHub is not reached here).
fn uv_release_archive() -> Vec<u8> {
    let wheels = state_dir().join("uv");
    let wheel = std::fs::read_dir(&wheels)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .find(|path| path.to_string_lossy().ends_with(".whl"))
        .expect("scripts/e2e-setup.sh wheels fetches uv's wheel");
    let repack = r#"
import io, sys, tarfile, zipfile
out = io.BytesIO()
with zipfile.ZipFile(sys.argv[1]) as wheel, tarfile.open(fileobj=out, mode="w:gz") as tar:
    for name in ("uv", "uvx"):
        data = wheel.read(next(n for n in wheel.namelist() if n.endswith(".data/scripts/" + name)))
        info = tarfile.TarInfo("uv-x86_64-unknown-linux-gnu/" + name)
        info.size, info.mode = len(data), 0o755
        tar.addfile(info, io.BytesIO(data))
sys.stdout.buffer.write(out.getvalue())
"#;
    let output = std::process::Command::new("python3")
        .args(["-c", repack])
        .arg(&wheel)
        .output()
        .expect("python3 runs");
    assert!(output.status.success(), "{output:?}");
    output.stdout
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn install_uv_comes_through_the_sites_download_mirror() {
    require_setup();
    let port = serve_files(vec![(
        "/astral-sh/uv/releases/download/0.9.22/uv-x86_64-unknown-linux-gnu.tar.gz".to_string(),
        uv_release_archive(),
    )]);
    let project = Project::new("v1-uv");
    project.write(
        "build.envd",
        &format!(
            "# syntax=aiges/envd-frontend v1\ndef build():\n    base(image=\"envd-test/cpu:latest\")\n    run(commands=[\"echo {} > /nonce\"])\n    install.uv(python_version=\"3.12\")\n",
            nonce()
        ),
    );
    let mirror = format!("https://github.com/astral-sh/=http://127.0.0.1:{port}/astral-sh/");
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/v1-uv:1",
        &[("ENVD_DOWNLOAD_MIRRORS", &mirror)],
        &[],
    );
    // BuildKit fetched uv's archive from the mirror and extracted it; the
    // uv it installed ran `uv python install`, which asked the same mirror
    // for Python's build. That build is on no registry here, so the
    // mirror has none: the step fails, at install.uv()'s line.
    assert!(!out.success, "{}", out.stderr);
    assert_eq!(
        out.vertices_named("extract uv-x86_64-unknown-linux-gnu.tar.gz")
            .len(),
        1
    );
    // What uv printed: it ran, and fetched from the mirror.
    let logs = out.logs("");
    assert!(
        logs.contains(&format!(
            "Failed to download http://127.0.0.1:{port}/astral-sh/python-build-standalone/releases/download/"
        )),
        "uv asked the site's mirror for Python: {logs}"
    );
    let text = out.error_text();
    assert!(text.contains("uv python install 3.12"), "{text}");
    assert!(
        text.contains(">>>     install.uv(python_version=\"3.12\")"),
        "{text}"
    );
}

/// A STAND-IN for Miniconda's installer, which is on no registry here: a
/// shell script taking Miniconda's `-b -u -p PREFIX` that unpacks the
/// suite's real conda (envd-test/conda's /opt/conda: conda 26.7.1 in a
/// venv over the base's Python 3.11) into PREFIX, and chooses the classic
/// solver (libmamba is on no registry here either). That conda's classic
/// solver needs Debian's pycosat and picosat, which envd-test/conda's own
/// layers hold: the test builds on that image, and the stand-in replaces
/// the conda there (`-u`, as Miniconda updates an install).
fn miniconda_stand_in() -> Vec<u8> {
    let payload = std::process::Command::new("docker")
        .args([
            "run",
            "--rm",
            "--network=none",
            "--entrypoint",
            "/bin/sh",
            "envd-test/conda:latest",
            "-c",
            "rm /opt/conda/.condarc && tar -C /opt/conda -czf - .",
        ])
        .output()
        .expect("docker runs");
    assert!(payload.status.success(), "{payload:?}");
    // The payload starts after the script, whose length is written into
    // it at a fixed width.
    let script = |skip: usize| {
        format!(
            "#!/bin/sh\n# envd-frontend's end-to-end suite: a stand-in for Miniconda's installer.\nset -eu\nprefix=\nwhile [ $# -gt 0 ]; do case \"$1\" in -p) prefix=$2; shift ;; esac; shift; done\n[ -n \"$prefix\" ] || {{ echo 'usage: -b -u -p PREFIX' >&2; exit 2; }}\nrm -rf \"$prefix\"\nmkdir -p \"$prefix/condarc.d\"\ntail -c +{skip:08} \"$0\" | tar -xz -C \"$prefix\"\nprintf 'solver: classic\\n' > \"$prefix/condarc.d/solver.yml\"\nexit 0\n"
        )
    };
    let skip = script(0).len() + 1;
    let mut installer = script(skip).into_bytes();
    assert_eq!(installer.len() + 1, skip);
    installer.extend_from_slice(&payload.stdout);
    installer
}

fn sha256_hex(bytes: &[u8]) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("written");
    let out = child.wait_with_output().expect("sha256sum ends");
    String::from_utf8_lossy(&out.stdout)[..64].to_string()
}

#[test]
#[ignore = "needs Docker: run scripts/test.sh, which sets it up"]
fn v1_conda_packages_install_into_the_environment_of_install_python_on_real_conda() {
    require_setup();
    let conda = CondaMirror::start("v1-conda");
    let installer = miniconda_stand_in();
    let rule = format!(
        "https://repo.anaconda.com/miniconda/Miniconda3-py311_25.9.1-1-Linux-x86_64.sh=http://127.0.0.1:{}/Miniconda3.sh#sha256={}",
        serve_files(vec![("/Miniconda3.sh".to_string(), installer.clone())]),
        sha256_hex(&installer)
    );
    let project = Project::new("v1-conda");
    // Out of envd's order on purpose: run() is built last, conda before
    // the Python it makes.
    project.write(
        "build.envd",
        &format!(
            "# syntax=aiges/envd-frontend v1\ndef build():\n    base(image=\"envd-test/conda:latest\")\n    run(commands=[\"python3 -c 'import sys; print(sys.version_info[:2])' > /ran\", \"echo {} > /nonce\"])\n    install.python(version=\"3.11\")\n    install.conda()\n    config.conda_channel(channel=\"channels:\\n  - conda-forge\\n\")\n    install.conda_packages(name=[\"envd-conda-alpha=2.0\", \"envd-conda-prefixed\"])\n",
            nonce()
        ),
    );
    let out = build(
        &project,
        "build.envd",
        "envd-e2e/v1-conda:1",
        &[
            ("ENVD_DOWNLOAD_MIRRORS", &rule),
            ("ENVD_CONDA_CHANNEL", &conda.url),
        ],
        &[],
    );
    assert!(out.success, "{}\n{}", out.logs(""), out.error_text());
    let image = "envd-e2e/v1-conda:1";
    // conda's solver gave alpha 2.0 the beta it asks for, in the envd
    // environment; the prefix placeholder became that environment.
    assert_eq!(
        run_in(
            image,
            "/opt/conda/bin/conda list --prefix /opt/conda/envs/envd envd-conda | awk '!/^#/ {print $1, $2}'"
        ),
        "envd-conda-alpha 2.0\nenvd-conda-beta 1.1\nenvd-conda-prefixed 1.0\n"
    );
    assert!(
        run_in(
            image,
            "cat /opt/conda/envs/envd/etc/envd-conda-prefixed.conf"
        )
        .starts_with("prefix=/opt/conda/envs/envd\n")
    );
    // python3 is the environment's (its placeholder links the base's
    // interpreter), and run() came after it.
    assert_eq!(
        run_in(image, "readlink -f /usr/bin/python3; cat /ran"),
        "/opt/conda/envs/envd/bin/python3\n(3, 11)\n"
    );
    // config.conda_channel's text, with the site's mirror put in.
    let condarc = run_in(image, "cat /opt/conda/envs/envd/.condarc");
    assert!(
        condarc.starts_with("channels:\n- conda-forge\n")
            && condarc.contains(&format!("channel_alias: {}\n", conda.url)),
        "{condarc}"
    );
}

//! End-to-end: build.envd files built by a real dockerd and buildx through
//! the `aiges/envd-frontend` image, each checked by running the image.
//! Real pip against a local index, real apt against Debian's archive; the
//! one stand-in is `conda` in the `envd-test/conda` image.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use envd_e2e::*;

const SYNTAX: &str = "# syntax=aiges/envd-frontend\n";

/// Build args that point the seed's names at the test images and mirrors.
fn site_args(index: &PackageIndex, base: &str) -> Vec<(String, String)> {
    vec![
        ("ENVD_BASE_IMAGE".to_string(), base.to_string()),
        ("ENVD_PIP_INDEX".to_string(), index.url.clone()),
        // Debian's archive has no Python 3.8; the test base has 3.11.
        ("ENVD_PYTHON_VERSION".to_string(), "3.11".to_string()),
    ]
}

fn args(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// Checks the seed example's image: every call of the file had its effect.
fn check_seed_image(image: &str, index: &PackageIndex) {
    let imports = run_in(
        image,
        "python -c 'import torch, mim, mmcv, envd_test_beta, envd_test_gamma, detectron2; \
         print(torch.__version__, mmcv.__version__, envd_test_beta.VALUE, envd_test_gamma.VALUE, detectron2.__file__)'",
    );
    assert_eq!(imports.trim(), "1.10 1.7.0 beta gamma /detectron2/detectron2/__init__.py");
    run_in(image, "dpkg -s libgl1-mesa-glx | grep -q '^Status: install ok installed'");
    run_in(image, "test -f /detectron2/setup.py && pip show detectron2 | grep -q '^Location: /detectron2'");
    let pip_conf = run_in(image, "cat /etc/pip.conf");
    assert!(pip_conf.contains(&format!("index-url = {}", index.url)), "{pip_conf}");
    let condarc = run_in(image, "cat /etc/conda/.condarc");
    assert!(condarc.starts_with("channels:\n- defaults\nshow_channel_urls: true\n"), "{condarc}");
    // The stand-in conda records the env file it was given and the .condarc it saw.
    let log = run_in(image, "cat /opt/conda/standin.log");
    assert!(log.contains("env update prefix=/opt/conda file=/tmp/envd-frontend/conda/environment.yml condarc=/etc/conda/.condarc"), "{log}");
    let env = run_in(image, "cat /opt/conda/env-applied.yml");
    assert_eq!(env, "channels:\n- pytorch\n- defaults\ndependencies:\n- python=3.8\n- numpy=1.21\n");
    assert_eq!(run_in(image, "python --version").trim(), "Python 3.11.2");
}

#[test]
fn seed_example_with_syntax_header() {
    require_setup();
    let index = PackageIndex::start("seed-header");
    let project = Project::copy_of("seed-header", "examples/seed");
    project.write("build.envd", &format!("{SYNTAX}{}", project.read("build.envd")));
    let site = site_args(&index, "envd-test/conda:latest");
    let out = build(&project, "build.envd", "envd-e2e/seed:header", &args(&site), &[]);
    assert!(out.success, "{}", out.error_text());
    check_seed_image("envd-e2e/seed:header", &index);
    remove_image("envd-e2e/seed:header");
}

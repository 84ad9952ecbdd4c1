//! The `llb-gen` binary: output formats, exit codes and diagnostics.

// Test helpers panic on unexpected output; that is how they report it.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use envd_proto::pb;
use envd_proto::prost::Message;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn llb_gen(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_llb-gen"))
        .args(args)
        .output()
        .unwrap()
}

fn seed() -> String {
    fixture("valid/seed/build.envd")
        .to_string_lossy()
        .into_owned()
}

#[test]
fn pb_output_is_a_definition_with_the_terminal_last() {
    let out = llb_gen(&["--platform", "linux/amd64", &seed()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let def = pb::Definition::decode(out.stdout.as_slice()).unwrap();
    let last = pb::Op::decode(def.def.last().unwrap().as_slice()).unwrap();
    assert!(last.op.is_none() && last.inputs.len() == 1);
    assert!(def.source.unwrap().infos[0].filename == "build.envd");
}

#[test]
fn json_output_is_one_op_per_line() {
    let out = llb_gen(&["--format", "json", &seed()]);
    assert!(out.status.success());
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() > 10);
    assert!(
        lines
            .iter()
            .all(|l| l["digest"].as_str().unwrap().starts_with("sha256:"))
    );
}

#[test]
fn ir_and_config_formats_follow_target_and_build_args() {
    let dir = fixture("valid/targets_variants/build.envd");
    let out = llb_gen(&[
        "--format",
        "ir",
        "--target",
        "build_gpu",
        dir.to_str().unwrap(),
    ]);
    let ir: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(ir["target"], "build_gpu");
    assert_eq!(ir["base"]["image"], "aiges_gpu");

    let dir = fixture("valid/build_args_variant/build.envd");
    let out = llb_gen(&[
        "--format",
        "config",
        "--build-arg",
        "VARIANT=gpu",
        dir.to_str().unwrap(),
    ]);
    let config: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let history = config["history"].to_string();
    assert!(history.contains("torch==1.10+cu113"), "{history}");
}

#[test]
fn dockerfile_format_exports_or_says_at_which_line_it_cannot() {
    let out = llb_gen(&[
        "--platform",
        "linux/amd64",
        "--format",
        "dockerfile",
        &seed(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dockerfile = String::from_utf8(out.stdout).unwrap();
    assert!(
        dockerfile.contains(
            "\n# build.envd:3\nFROM --platform=linux/amd64 docker.io/library/ubuntu:20.04\n"
        ),
        "{dockerfile}"
    );
    assert!(
        dockerfile.contains("# build.envd:17\nCOPY detectron2 /detectron2\n"),
        "{dockerfile}"
    );

    let family = fixture("valid/install_base_family/build.envd");
    let out = llb_gen(&[
        "--format",
        "dockerfile",
        "--build-arg",
        "ENVD_INSTALL_BASE=aiges_cpu",
        family.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("build.envd:4:5: error: ENVD_INSTALL_BASE makes a base family"),
        "{stderr}"
    );
}

#[test]
fn bad_input_exits_1_with_located_diagnostics() {
    let dir = fixture("invalid/unknown_parameter/build.envd");
    let out = llb_gen(&[dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.starts_with(
            "build.envd:3:5: error: install.python_packages() has no parameter `nmae`"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("^^^^"), "{stderr}");
}

#[test]
fn warnings_go_to_stderr_and_the_build_succeeds() {
    let dir = fixture("valid/dev_only_warnings/build.envd");
    let out = llb_gen(&["--format", "ir", dir.to_str().unwrap()]);
    assert!(out.status.success());
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("warning[NoEffectInImage]: shell() has no effect on an image"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(llb_gen(&["--no-such-flag"]).status.code(), Some(2));
    assert_eq!(
        llb_gen(&["--format", "yaml", &seed()]).status.code(),
        Some(2)
    );
    assert_eq!(
        llb_gen(&["--platform", "linux", &seed()]).status.code(),
        Some(2)
    );
    assert_eq!(llb_gen(&["/nonexistent/build.envd"]).status.code(), Some(2));
    let out = llb_gen(&["--build-arg", "ENVD_TEST_UNSET_VARIABLE", &seed()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no value given"));
}

#[test]
fn help_shows_examples() {
    let out = llb_gen(&["--help"]);
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("Examples:") && text.contains("--target"),
        "{text}"
    );
}

#[test]
fn call_check_lists_findings_and_exits_1() {
    let dir = fixture("valid/lint_run_instead_of_builtin/build.envd");
    let out = llb_gen(&["--call", "check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains(
            "WARNING: RunInsteadOfBuiltin - docs/build-envd-reference.md#runinsteadofbuiltin"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "   6 | >>>         \"DEBIAN_FRONTEND=noninteractive apt-get install -y libgl1\","
        ),
        "{text}"
    );
    assert!(
        text.ends_with("Check complete, 3 warnings found.\n"),
        "{text}"
    );

    let json = llb_gen(&["--call", "check", "--json", dir.to_str().unwrap()]);
    let results: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let warnings = results["warnings"].as_array().unwrap();
    assert_eq!(warnings.len(), 3);
    assert_eq!(warnings[0]["ruleName"], "RunInsteadOfBuiltin");
    assert_eq!(warnings[0]["location"]["ranges"][0]["start"]["line"], 5);
    assert_eq!(results["sources"][0]["filename"], "build.envd");
    assert!(results.get("buildError").is_none());
}

#[test]
fn call_check_of_a_clean_file_exits_0_and_of_a_broken_one_gives_the_error() {
    let clean = fixture("valid/lint_copy_context_without_git/build.envd");
    let out = llb_gen(&["--call", "check", clean.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "Check complete, no warnings found.\n"
    );

    let broken = fixture("invalid/copy_missing_src/build.envd");
    let out = llb_gen(&["--call", "check", "--json", broken.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let results: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let error = &results["buildError"];
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("does not exist in the build context"),
        "{results}"
    );
    assert_eq!(error["location"]["ranges"][0]["start"]["line"], 3);
}

#[test]
fn call_targets_and_outline() {
    let dir = tempdir("targets");
    let file = dir.join("build.envd");
    std::fs::write(
        &file,
        "# The Python of the image.\nPY = build_args.get(\"PY\", \"3.9\")\n\n\
         def build():\n    \"\"\"The CPU image.\"\"\"\n    base(os=\"aiges_cpu\", language=\"python\" + PY)\n    install.python_packages(name=[\"six\"])\n\n\
         def build_gpu():\n    base(os=\"aiges_gpu\")\n",
    )
    .unwrap();
    let out = llb_gen(&["--call", "targets", file.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8(out.stdout).unwrap(),
        "TARGET          DESCRIPTION\nbuild (default) The CPU image.\nbuild_gpu       \n"
    );
    let out = llb_gen(&[
        "--call",
        "outline",
        "--json",
        "--build-arg",
        "PY=3.10",
        file.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let outline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(outline["name"], "build");
    assert_eq!(outline["description"], "The CPU image.");
    let args = outline["args"].as_array().unwrap();
    assert_eq!(args[0]["name"], "PY");
    assert_eq!(args[0]["value"], "3.10");
    assert_eq!(args[0]["description"], "The Python of the image.");
    assert_eq!(args[0]["location"]["ranges"][0]["start"]["line"], 2);
    let names: Vec<&str> = args.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert!(
        names.contains(&"ENVD_BASE_IMAGE_AIGES_CPU") && names.contains(&"ENVD_PIP_INDEX"),
        "{names:?}"
    );
    // The GPU target installs no Python packages: no pip mirror applies.
    let out = llb_gen(&[
        "--call",
        "outline",
        "--json",
        "--target",
        "build_gpu",
        file.to_str().unwrap(),
    ]);
    let outline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = outline["args"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"ENVD_BASE_IMAGE_AIGES_GPU") && !names.contains(&"ENVD_PIP_INDEX"),
        "{names:?}"
    );
}

#[test]
fn the_outline_of_a_v1_file_that_downloads_lists_the_download_mirrors_at_the_call() {
    let dir = tempdir("outline-downloads");
    let file = dir.join("build.envd");
    std::fs::write(
        &file,
        "# syntax=v1\ndef build():\n    base(image=\"ubuntu:22.04\")\n    install.go()\n",
    )
    .unwrap();
    let outline_names = |args: &[&str]| -> Vec<(String, serde_json::Value)> {
        let out = llb_gen(args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let outline: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        outline["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["name"].as_str().unwrap().to_string(), a.clone()))
            .collect()
    };
    let path = file.to_str().unwrap();
    let args = outline_names(&["--call", "outline", "--json", path]);
    let mirrors = args
        .iter()
        .find(|(name, _)| name == "ENVD_DOWNLOAD_MIRRORS")
        .map(|(_, arg)| arg)
        .expect("listed");
    assert_eq!(mirrors["location"]["ranges"][0]["start"]["line"], 4);
    // A file that downloads nothing has no use for it.
    std::fs::write(
        &file,
        "# syntax=v1\ndef build():\n    base(image=\"ubuntu:22.04\")\n",
    )
    .unwrap();
    let args = outline_names(&["--call", "outline", "--json", path]);
    assert!(args.iter().all(|(name, _)| name != "ENVD_DOWNLOAD_MIRRORS"));
}

/// A fresh folder under Cargo's scratch space for integration tests.
fn tempdir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

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

//! The generated documentation is current: the reference page
//! `docs/build-envd-reference.md`, the builtin table in README.md and the
//! editors' stubs `docs/stubs/__builtins__.pyi` are what the builtin specs
//! produce. `ENVD_UPDATE_DOCS=1` rewrites them.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use llb_gen::builtins::reference::{
    README_TABLE_END, README_TABLE_START, readme_table, reference_page,
};

fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn updating() -> bool {
    std::env::var_os("ENVD_UPDATE_DOCS").is_some_and(|v| v == "1")
}

const STALE: &str = "is stale: run `ENVD_UPDATE_DOCS=1 cargo test -p llb-gen --test docs`";

#[test]
fn reference_page_is_current() {
    let path = repo_file("docs/build-envd-reference.md");
    let expected = reference_page();
    if updating() {
        fs::write(&path, &expected).unwrap();
    }
    let actual = fs::read_to_string(&path).unwrap_or_default();
    assert!(actual == expected, "{} {STALE}", path.display());
}

#[test]
fn stubs_are_current() {
    let path = repo_file(llb_gen::builtins::stubs::STUB_PATH);
    let expected = llb_gen::builtins::stubs::stub_file();
    if updating() {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, &expected).unwrap();
    }
    let actual = fs::read_to_string(&path).unwrap_or_default();
    assert!(actual == expected, "{} {STALE}", path.display());
}

#[test]
fn readme_table_is_current() {
    let path = repo_file("README.md");
    let readme = fs::read_to_string(&path).unwrap();
    let start = readme
        .find(README_TABLE_START)
        .unwrap_or_else(|| panic!("README.md has no line {README_TABLE_START}"))
        + README_TABLE_START.len();
    let end = readme
        .find(README_TABLE_END)
        .unwrap_or_else(|| panic!("README.md has no line {README_TABLE_END}"));
    let expected = format!("\n{}", readme_table());
    if updating() {
        let updated = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        readme[start..end] == expected,
        "the builtin table in README.md {STALE}"
    );
}

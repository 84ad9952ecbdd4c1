//! The generated documentation is current: the reference page
//! `docs/build-envd-reference.md`, the builtin table in README.md and the
//! editors' stubs `docs/stubs/__builtins__.pyi` are what the builtin specs
//! produce; the tables of lint rules and site settings (README.md) and of
//! bounds (docs/robustness.md) are what the code holds.
//! `ENVD_UPDATE_DOCS=1` rewrites them.

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

/// Held while a test rewrites a file (README.md holds three generated
/// blocks, and the tests run in parallel).
static REWRITING: std::sync::Mutex<()> = std::sync::Mutex::new(());

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
    use llb_gen::builtins::stubs::{STUB_PATH, STUB_PATH_V1, stub_file_of};
    use llb_gen::ir::Syntax;
    for (file, syntax) in [(STUB_PATH, Syntax::V0), (STUB_PATH_V1, Syntax::V1)] {
        let path = repo_file(file);
        let expected = stub_file_of(syntax);
        if updating() {
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, &expected).unwrap();
        }
        let actual = fs::read_to_string(&path).unwrap_or_default();
        assert!(actual == expected, "{} {STALE}", path.display());
    }
}

#[test]
fn readme_table_is_current() {
    block_is_current(
        "README.md",
        README_TABLE_START,
        README_TABLE_END,
        &readme_table(),
        "builtin",
    );
}

/// The block of `file` between the markers of generated table `name` is
/// `table`.
fn generated_block_is_current(file: &str, name: &str, table: &str) {
    let start_marker = format!("<!-- generated: {name} (llb-gen/tests/docs.rs); do not edit -->");
    let end_marker = format!("<!-- end of generated: {name} -->");
    block_is_current(file, &start_marker, &end_marker, table, name);
}

/// The text of `file` between `start_marker` and `end_marker` is `table`
/// (the `name` table).
fn block_is_current(file: &str, start_marker: &str, end_marker: &str, table: &str, name: &str) {
    let path = repo_file(file);
    let _rewriting = REWRITING.lock().unwrap();
    let text = fs::read_to_string(&path).unwrap();
    let start = text
        .find(start_marker)
        .unwrap_or_else(|| panic!("{file} has no line {start_marker}"))
        + start_marker.len();
    let end = text
        .find(end_marker)
        .unwrap_or_else(|| panic!("{file} has no line {end_marker}"));
    let expected = format!("\n{table}");
    if updating() {
        let updated = format!("{}{expected}{}", &text[..start], &text[end..]);
        fs::write(&path, updated).unwrap();
        return;
    }
    assert!(
        text[start..end] == expected,
        "the {name} table in {file} {STALE}"
    );
}

/// A Markdown table: the header, then a row per item.
fn markdown_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut table = line(header.iter().map(|h| h.to_string()).collect());
    table.push_str(&line(header.iter().map(|_| "---".to_string()).collect()));
    for row in rows {
        table.push_str(&line(row.clone()));
    }
    table
}

#[test]
fn lint_rule_table_is_current() {
    let rows: Vec<Vec<String>> = llb_gen::lint::RULES
        .iter()
        .map(|rule| {
            vec![
                format!(
                    "[`{}`](docs/build-envd-reference.md#{})",
                    rule.name,
                    rule.anchor()
                ),
                rule.description.to_string(),
            ]
        })
        .collect();
    generated_block_is_current(
        "README.md",
        "lint rules",
        &markdown_table(&["rule", "finds"], &rows),
    );
}

#[test]
fn settings_table_is_current() {
    let rows: Vec<Vec<String>> = llb_gen::lower::SETTINGS
        .iter()
        .map(|(name, description)| vec![format!("`{name}`"), description.to_string()])
        .collect();
    generated_block_is_current(
        "README.md",
        "settings",
        &markdown_table(&["build arg", "what it does"], &rows),
    );
}

#[test]
fn bounds_table_is_current() {
    let rows: Vec<Vec<String>> = llb_gen::limits::bounds()
        .into_iter()
        .chain(llb_gen::lang::bounds())
        .map(|bound| {
            vec![
                bound.what.to_string(),
                bound.value,
                bound.error_at.to_string(),
            ]
        })
        .collect();
    generated_block_is_current(
        "docs/robustness.md",
        "bounds",
        &markdown_table(&["bound", "value", "the error points at"], &rows),
    );
}

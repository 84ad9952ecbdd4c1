//! The modules of llb-gen import only those before them in the pipeline
//! (the order lib.rs gives): no module reaches a later one, so there are no
//! cycles, and `lower` never reaches `lang`.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

/// lib.rs declares its modules in this order.
const ORDER: &[&str] = &[
    "llb",
    "limits",
    "lint",
    "diagnostics",
    "validate",
    "pep508",
    "includes",
    "ir",
    "lower",
    "builtins",
    "plan",
    "lang",
    "allocator",
    "probe",
    "bounded",
    "compile",
    "export",
    "subrequests",
    "disk",
    "language_server",
    "fuzzing",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn modules_import_only_earlier_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut violations = vec![];
    for (rank, module) in ORDER.iter().enumerate() {
        let mut files = vec![];
        let dir = src.join(module);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        for file in files {
            let text = fs::read_to_string(&file).unwrap();
            for later in &ORDER[rank + 1..] {
                let needle = format!("crate::{later}");
                if text.contains(&format!("{needle}::")) || text.contains(&format!("{needle};")) {
                    violations.push(format!("{} uses {needle}", file.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn every_module_is_ranked_and_lib_rs_declares_them_in_order() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = fs::read_to_string(src.join("lib.rs")).unwrap();
    let declared: Vec<&str> = lib
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';'))
        .collect();
    assert_eq!(declared, ORDER);
}

/// Within `lang`, the `include` global reaches the recorder and never the
/// other way: the recorder owns the state include works with.
#[test]
fn the_recorder_does_not_reach_include() {
    let recorder = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lang/recorder.rs");
    let text = fs::read_to_string(recorder).unwrap();
    assert!(!text.contains("include::"), "recorder.rs imports include");
}

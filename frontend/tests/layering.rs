//! The frontend's modules import only those declared before them in
//! lib.rs: dependencies run one way, and no two files import each other.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::Path;

/// The modules lib.rs declares, in its order.
fn declared() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    fs::read_to_string(src.join("lib.rs"))
        .unwrap()
        .lines()
        .filter_map(|line| line.strip_prefix("pub mod "))
        .map(|rest| rest.trim_end_matches(';').to_string())
        .collect()
}

#[test]
fn modules_import_only_earlier_ones() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared();
    assert!(order.len() >= 14, "lib.rs declares {order:?}");
    let mut violations = vec![];
    for (rank, module) in order.iter().enumerate() {
        let text = fs::read_to_string(src.join(format!("{module}.rs"))).unwrap();
        for later in &order[rank + 1..] {
            let needle = format!("crate::{later}");
            if text.contains(&format!("{needle}::")) || text.contains(&format!("{needle};")) {
                violations.push(format!("{module}.rs uses {needle}"));
            }
        }
    }
    assert!(violations.is_empty(), "{violations:#?}");
}

#[test]
fn every_source_file_is_a_declared_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let order = declared();
    for entry in fs::read_dir(&src).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        if let Some(module) = name.strip_suffix(".rs")
            && module != "lib"
            && module != "main"
        {
            assert!(order.iter().any(|m| m == module), "{name} is not ranked");
        }
    }
}

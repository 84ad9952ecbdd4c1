//! The two ways an evaluation is bounded, the probe (a child process, for
//! the language server) and a thread of this process (for llb-gen and the
//! frontend), give the same answers: a result within the bounds, and the
//! same located error beyond them. This test program installs the
//! allocator that keeps a thread's budget, as those programs do.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;

use llb_gen::allocator::EvaluationAllocator;
use llb_gen::bounded;
use llb_gen::diagnostics::SourceText;
use llb_gen::includes::IncludedModules;
use llb_gen::probe;

#[global_allocator]
static ALLOCATOR: EvaluationAllocator = EvaluationAllocator;

const FINE: &str = "def build():\n    base(os=\"ubuntu22.04\")\n";

/// Files that exceed the memory bound: in a statement, in a statement of a
/// loop, and while Starlark computes a constant before any statement.
const GREEDY: [&str; 3] = [
    "def build():\n    base(os=\"ubuntu22.04\")\n    x = [0] * 100000000\n",
    "def build():\n    base(os=\"ubuntu22.04\")\n    s = \"x\"\n    for i in range(64):\n        s = s + s\n",
    "def build():\n    run(commands=[\"echo \" + \"ab\" * 300000000])\n",
];

fn source(text: &str) -> SourceText {
    SourceText::new("build.envd", text)
}

fn in_probe(text: &str) -> Result<(), String> {
    let program = Path::new(env!("CARGO_BIN_EXE_llb-gen"));
    let args = BTreeMap::new();
    probe::evaluate(program, &source(text), None, &args, &IncludedModules::new())
        .map_err(|d| d.render())
}

fn on_a_thread(text: &str) -> Result<(), String> {
    let args = BTreeMap::new();
    bounded::evaluate(&source(text), None, &args, &IncludedModules::new())
        .map(|_| ())
        .map_err(|d| d.render())
}

#[test]
fn both_bounds_let_a_file_within_them_evaluate() {
    assert_eq!(in_probe(FINE), Ok(()));
    assert_eq!(on_a_thread(FINE), Ok(()));
}

#[test]
fn both_bounds_stop_a_greedy_file_at_the_same_place() {
    for text in GREEDY {
        let probed = in_probe(text).unwrap_err();
        assert!(probed.contains("needs more than the 256 MiB"), "{probed}");
        assert_eq!(on_a_thread(text).unwrap_err(), probed, "{text}");
    }
}

#[test]
fn a_thread_stopped_by_its_budget_leaves_the_process_able_to_evaluate() {
    let error = on_a_thread(GREEDY[0]).unwrap_err();
    assert!(error.contains("build.envd:3:5"), "{error}");
    // The budget is the evaluating thread's: this one's allocations, and
    // the next evaluation's, are not charged to it.
    let held = vec![1u8; (256 << 20) + 1];
    assert_eq!(on_a_thread(FINE), Ok(()));
    assert_eq!(held.len(), (256 << 20) + 1);
}

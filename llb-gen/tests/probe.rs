//! The evaluation probe started ahead of its request, as the frontend
//! starts it while it reads the build file: it evaluates within its bounds
//! when the request comes, and ends with its owner when none does.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use llb_gen::diagnostics::SourceText;
use llb_gen::includes::IncludedModules;
use llb_gen::probe::{StartedProbe, evaluate_in};

fn started() -> StartedProbe {
    StartedProbe::start(Path::new(env!("CARGO_BIN_EXE_llb-gen"))).unwrap()
}

fn evaluate(probe: StartedProbe, text: &str) -> Result<(), String> {
    let source = SourceText::new("build.envd", text);
    evaluate_in(
        probe,
        &source,
        None,
        &BTreeMap::new(),
        &IncludedModules::default(),
    )
    .map_err(|d| d.render())
}

#[test]
fn a_probe_started_ahead_evaluates_within_its_bounds_when_asked() {
    let (fine, greedy) = (started(), started());
    // The caller's other work, while the probes wait.
    std::thread::sleep(Duration::from_millis(50));
    assert_eq!(
        evaluate(fine, "def build():\n    base(os=\"ubuntu22.04\")\n"),
        Ok(())
    );
    let error = evaluate(
        greedy,
        "x = [0] * 2000000000\ndef build():\n    base(os=\"ubuntu22.04\")\n",
    )
    .unwrap_err();
    assert!(error.contains("build.envd:1:"), "{error}");
    assert!(error.contains("needs more than the"), "{error}");
}

#[test]
fn a_probe_never_asked_ends_with_its_owner() {
    let probe = started();
    let pid = probe.id().unwrap();
    assert!(Path::new(&format!("/proc/{pid}")).exists());
    drop(probe);
    assert!(!Path::new(&format!("/proc/{pid}")).exists());
}

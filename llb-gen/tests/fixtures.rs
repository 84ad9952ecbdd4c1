//! Fixture tests, one test per folder: every folder under
//! `tests/fixtures/valid` compiles (twice, to the same bytes) and is
//! snapshotted (warnings, IR, image config, LLB); every folder under
//! `tests/fixtures/invalid` fails with located errors, and its rendered
//! diagnostics are snapshotted. Every valid folder is also exported as a
//! Dockerfile (`llb_gen::export`), and the Dockerfile, or the export's
//! located error, is snapshotted as `export__NAME`. A folder holds `build.envd`, its context
//! files, and an optional `options.json` (`target`, `build_args`,
//! `platform`, `merge_layers`, `includes`, `base_platforms`,
//! `platform_in_names`). Run one with `cargo test -p llb-gen --test
//! fixtures -- valid/seed`.

// Test helpers panic on broken fixtures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use envd_proto::prost::Message;
use libtest_mimic::{Arguments, Failed, Trial};
use llb_gen::compile::EvaluationBounds;
use llb_gen::diagnostics::Diagnostics;
use llb_gen::llb::{Platform, definition_to_json, sha256_hex};
use llb_gen::lower::{BaseResolver, ImageConfig, ResolvedBase};
use llb_gen::{CompileOptions, Compiled, compile};
use serde::Deserialize;

// As llb-gen and the frontend: the allocator keeps the budget of a thread
// that evaluates (the memory fixtures need it).
#[global_allocator]
static ALLOCATOR: llb_gen::allocator::EvaluationAllocator = llb_gen::allocator::EvaluationAllocator;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct FixtureOptions {
    target: Option<String>,
    #[serde(default)]
    build_args: BTreeMap<String, String>,
    platform: Option<String>,
    /// Whether the daemon has merge ops (default: yes).
    merge_layers: Option<bool>,
    /// The repositories build.envd includes: URL -> folder in the fixture.
    #[serde(default)]
    includes: BTreeMap<String, String>,
    /// Single-platform bases: image reference -> the platform its config
    /// names whatever platform is asked for (as BuildKit resolves such an
    /// image). Other bases have every platform.
    #[serde(default)]
    base_platforms: BTreeMap<String, String>,
    /// One platform of several: op names start with it.
    #[serde(default)]
    platform_in_names: bool,
}

/// Stand-in for a registry: AIGES-like bases get a config with conda on
/// PATH and a working directory; every base gets a digest derived from its
/// name, so pinning shows in the snapshots; single-platform bases name
/// their own platform.
struct FixtureRegistry {
    base_platforms: BTreeMap<String, String>,
}

impl BaseResolver for FixtureRegistry {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        let own = self
            .base_platforms
            .get(reference)
            .map(|p| Platform::parse(p).unwrap());
        let mut config = ImageConfig::empty(own.as_ref().unwrap_or(platform));
        if reference.contains("aiges") {
            config.config.env = Some(vec![
                "PATH=/opt/conda/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
                    .to_string(),
                "LANG=C.UTF-8".to_string(),
            ]);
            config.config.working_dir = Some("/home/aiges".to_string());
            config.config.cmd = Some(vec!["bash".to_string()]);
        }
        // GPU images extend their CPU namesakes, as AIGES' do: the layer
        // chain of `x/aiges-gpu:t` begins with that of `x/aiges-cpu:*`.
        let name = reference.split(':').next().unwrap_or(reference);
        let mut diff_ids = vec![format!(
            "sha256:{}",
            sha256_hex(name.replace("gpu", "cpu").as_bytes())
        )];
        if name.contains("gpu") {
            diff_ids.push(format!("sha256:{}", sha256_hex(reference.as_bytes())));
        }
        config.other.insert(
            "rootfs".to_string(),
            serde_json::json!({"type": "layers", "diff_ids": diff_ids}),
        );
        Ok(ResolvedBase {
            digest: Some(format!("sha256:{}", sha256_hex(reference.as_bytes()))),
            config,
        })
    }
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(kind);
    let mut dirs: Vec<PathBuf> = fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn fixture_options(dir: &Path) -> FixtureOptions {
    match fs::read_to_string(dir.join("options.json")) {
        Ok(json) => serde_json::from_str(&json).unwrap(),
        Err(_) => FixtureOptions::default(),
    }
}

fn compile_fixture(dir: &Path) -> Result<Compiled, Diagnostics> {
    compile_as(dir, &fixture_options(dir))
}

/// The fixture compiled as its options say.
fn compile_as(dir: &Path, fixture: &FixtureOptions) -> Result<Compiled, Diagnostics> {
    let (text, options) = compile_options(dir, fixture);
    compile_with(dir, &text, &options, fixture)
}

/// The fixture compiled for export and written as a Dockerfile.
fn export_fixture(dir: &Path) -> Result<llb_gen::export::Exported, Diagnostics> {
    let fixture = fixture_options(dir);
    let (text, options) = compile_options(dir, &fixture);
    let options = llb_gen::export::compile_options(options);
    let compiled = compile_with(dir, &text, &options, &fixture)?;
    llb_gen::export::dockerfile(&text, &options, &compiled)
}

fn compile_options(dir: &Path, options: &FixtureOptions) -> (String, CompileOptions) {
    let text = fs::read_to_string(dir.join("build.envd")).unwrap();
    let platform = Platform::parse(options.platform.as_deref().unwrap_or("linux/amd64")).unwrap();
    let includes = llb_gen::disk::included_from_folders(
        &text,
        &options
            .includes
            .iter()
            .map(|(url, folder)| (url.clone(), dir.join(folder)))
            .collect(),
        "the fixture gives no folder for it",
    );
    // Every fixture's evaluation is bounded as in the frontend and llb-gen;
    // some need its memory bound.
    let mut compile_options = CompileOptions::default()
        .target(options.target.clone())
        .platform(platform)
        .build_args(options.build_args.clone())
        .merge_layers(options.merge_layers.unwrap_or(true))
        .bounds(EvaluationBounds::Thread)
        .includes(includes);
    // As a build of several platforms names its ops.
    compile_options.lower.platform_in_names = options.platform_in_names;
    (text, compile_options)
}

fn compile_with(
    dir: &Path,
    text: &str,
    options: &CompileOptions,
    fixture: &FixtureOptions,
) -> Result<Compiled, Diagnostics> {
    let registry = FixtureRegistry {
        base_platforms: fixture.base_platforms.clone(),
    };
    let files = llb_gen::disk::DiskContext::new(dir).unwrap();
    compile(text, options, &files, &registry)
}

fn name(dir: &Path) -> String {
    dir.file_name().unwrap().to_string_lossy().into_owned()
}

fn snapshot(name: &str, text: &str) {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots"));
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| insta::assert_snapshot!(name, text));
}

/// A valid fixture compiles, to the same bytes twice, and matches its snapshot.
fn check_valid(dir: &Path) -> Result<(), Failed> {
    let compiled = compile_fixture(dir).map_err(|d| d.render())?;
    let again = compile_fixture(dir).map_err(|d| d.render())?;
    if compiled.definition.encode_to_vec() != again.definition.encode_to_vec() {
        return Err("compiling twice gave different bytes".into());
    }
    let mut text = String::new();
    text.push_str("== warnings ==\n");
    for warning in &compiled.warnings {
        text.push_str(&warning.render());
    }
    text.push_str("== ir ==\n");
    text.push_str(&serde_json::to_string_pretty(&compiled.spec).unwrap());
    text.push_str("\n== image config ==\n");
    text.push_str(&serde_json::to_string_pretty(&compiled.lowered.config).unwrap());
    text.push_str("\n== llb ==\n");
    for op in definition_to_json(&compiled.definition).unwrap() {
        text.push_str(&op.to_string());
        text.push('\n');
    }
    snapshot(&format!("valid__{}", name(dir)), &text);
    Ok(())
}

/// A valid fixture's export: its Dockerfile and the export's warnings, or
/// its located error, match the snapshot.
fn check_export(dir: &Path) -> Result<(), Failed> {
    let text = match export_fixture(dir) {
        Ok(exported) => {
            let mut text = String::from("== warnings ==\n");
            for warning in &exported.warnings {
                text.push_str(&warning.render());
            }
            text.push_str("== dockerfile ==\n");
            text.push_str(&exported.dockerfile);
            text
        }
        Err(diagnostics) => {
            if let Some(unlocated) = diagnostics.errors().find(|d| d.span.is_none()) {
                return Err(format!(
                    "an export error without a location:\n{}",
                    unlocated.render()
                )
                .into());
            }
            format!("== error ==\n{}", diagnostics.render())
        }
    };
    snapshot(&format!("export__{}", name(dir)), &text);
    Ok(())
}

/// An invalid fixture fails; every error has a location; the rendered
/// diagnostics match the snapshot.
fn check_invalid(dir: &Path) -> Result<(), Failed> {
    let diagnostics = match compile_fixture(dir) {
        Ok(_) => return Err("it compiled, but it is an invalid fixture".into()),
        Err(d) => d,
    };
    if diagnostics.first_error().is_none() {
        return Err(format!("no error among:\n{}", diagnostics.render()).into());
    }
    if let Some(unlocated) = diagnostics.errors().find(|d| d.span.is_none()) {
        return Err(format!("an error without a location:\n{}", unlocated.render()).into());
    }
    snapshot(&format!("invalid__{}", name(dir)), &diagnostics.render());
    Ok(())
}

/// Digests of the exec ops (the steps that run) in a compiled build.
fn exec_digests(compiled: &Compiled) -> Vec<String> {
    definition_to_json(&compiled.definition)
        .unwrap()
        .into_iter()
        .filter(|op| op["op"].get("exec").is_some())
        .map(|op| op["digest"].as_str().unwrap().to_string())
        .collect()
}

fn install_base_runs_the_gpu_steps_as_the_cpu_build_does() -> Result<(), Failed> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/install_base_family");
    let with_args = |args: &[(&str, &str)]| FixtureOptions {
        build_args: args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..FixtureOptions::default()
    };
    let cpu_image = llb_gen::lower::DEFAULT_BASES
        .iter()
        .find(|(name, _)| *name == "aiges_cpu")
        .unwrap()
        .1;
    let cpu =
        exec_digests(&compile_as(&dir, &with_args(&[("ENVD_BASE_IMAGE", cpu_image)])).unwrap());
    let gpu_family =
        exec_digests(&compile_as(&dir, &with_args(&[("ENVD_INSTALL_BASE", "aiges_cpu")])).unwrap());
    let gpu_plain = exec_digests(&compile_as(&dir, &with_args(&[])).unwrap());
    assert_eq!(cpu.len(), 4, "python, apt, pip and run steps: {cpu:?}");
    assert_eq!(gpu_family, cpu, "the GPU build's steps are the CPU build's");
    assert!(
        gpu_plain.iter().all(|d| !cpu.contains(d)),
        "without an install base the GPU steps run on the GPU base"
    );
    Ok(())
}

/// Each rule's finding is among some fixture's results, so each rule is
/// demonstrated and kept working.
fn every_lint_rule_has_a_fixture(dirs: &[PathBuf]) -> Result<(), Failed> {
    let mut found: Vec<&str> = vec![];
    for dir in dirs {
        let diagnostics = match compile_fixture(dir) {
            Ok(compiled) => compiled.warnings,
            Err(diagnostics) => diagnostics.0,
        };
        found.extend(diagnostics.iter().filter_map(|d| d.rule.map(|r| r.name)));
        if let Ok(exported) = export_fixture(dir) {
            found.extend(
                exported
                    .warnings
                    .iter()
                    .filter_map(|d| d.rule.map(|r| r.name)),
            );
        }
    }
    let missing: Vec<&str> = llb_gen::lint::RULES
        .iter()
        .map(|rule| rule.name)
        .filter(|name| !found.contains(name))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!("no fixture shows a warning of: {}", missing.join(", ")).into())
    }
}

/// The fixture folders are exactly those with accepted snapshots: a folder
/// that went missing leaves its snapshot behind, and one added has none.
fn fixture_folders_match_their_snapshots(dirs: &[(&str, PathBuf)]) -> Result<(), Failed> {
    let snapshots = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots");
    let mut expected: Vec<String> = fs::read_dir(snapshots)
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|file| file.strip_suffix(".snap").map(str::to_string))
        .filter(|name| {
            name.starts_with("valid__")
                || name.starts_with("invalid__")
                || name.starts_with("export__")
        })
        .collect();
    expected.sort();
    let mut found: Vec<String> = dirs
        .iter()
        .map(|(kind, dir)| format!("{kind}__{}", name(dir)))
        .collect();
    found.extend(
        dirs.iter()
            .filter(|(kind, _)| *kind == "valid")
            .map(|(_, dir)| format!("export__{}", name(dir))),
    );
    found.sort();
    let orphans: Vec<&String> = expected.iter().filter(|e| !found.contains(e)).collect();
    let new: Vec<&String> = found.iter().filter(|f| !expected.contains(f)).collect();
    if orphans.is_empty() && new.is_empty() {
        Ok(())
    } else {
        Err(format!("snapshots without a fixture folder: {orphans:?}; fixture folders without a snapshot: {new:?}").into())
    }
}

fn main() {
    let args = Arguments::from_args();
    let mut trials = vec![Trial::test(
        "install_base_runs_the_gpu_steps_as_the_cpu_build_does",
        install_base_runs_the_gpu_steps_as_the_cpu_build_does,
    )];
    let valid = fixtures("valid");
    let invalid = fixtures("invalid");
    let all: Vec<(&str, PathBuf)> = valid
        .iter()
        .map(|dir| ("valid", dir.clone()))
        .chain(invalid.iter().map(|dir| ("invalid", dir.clone())))
        .collect();
    let dirs: Vec<PathBuf> = all.iter().map(|(_, dir)| dir.clone()).collect();
    trials.push(Trial::test(
        "fixture_folders_match_their_snapshots",
        move || fixture_folders_match_their_snapshots(&all),
    ));
    trials.push(Trial::test("every_lint_rule_has_a_fixture", move || {
        every_lint_rule_has_a_fixture(&dirs)
    }));
    for dir in valid {
        let exported = dir.clone();
        trials.push(Trial::test(format!("valid/{}", name(&dir)), move || {
            check_valid(&dir)
        }));
        trials.push(Trial::test(
            format!("export/{}", name(&exported)),
            move || check_export(&exported),
        ));
    }
    for dir in invalid {
        trials.push(Trial::test(format!("invalid/{}", name(&dir)), move || {
            check_invalid(&dir)
        }));
    }
    libtest_mimic::run(&args, trials).exit();
}

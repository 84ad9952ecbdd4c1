//! In-process compile time of the seed example (build.envd, env.yaml and
//! build.txt held in memory, so no file I/O is measured).

use std::collections::HashMap;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, criterion_group, criterion_main};
use llb_gen::llb::Platform;
use llb_gen::lower::{BaseResolver, ContextFiles, FileKind, ImageConfig, ResolvedBase};
use llb_gen::{CompileOptions, compile};

// As llb-gen: the bounded evaluation needs its allocator.
#[global_allocator]
static ALLOCATOR: llb_gen::allocator::EvaluationAllocator = llb_gen::allocator::EvaluationAllocator;

/// The seed fixture's context, read once before measuring.
struct InMemory(HashMap<String, Option<Vec<u8>>>);

impl ContextFiles for InMemory {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        Ok(self.0.get(path).cloned().flatten())
    }

    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        Ok(self.0.get(path).map(|c| {
            if c.is_some() {
                FileKind::File
            } else {
                FileKind::Dir
            }
        }))
    }
}

/// Stand-in for registry lookups: an empty config, as `llb-gen` uses offline.
struct Offline;

impl BaseResolver for Offline {
    fn resolve(&self, _: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        Ok(ResolvedBase {
            digest: None,
            config: ImageConfig::empty(platform),
        })
    }
}

fn seed_example(c: &mut Criterion) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/valid/seed");
    let read = |name: &str| std::fs::read(dir.join(name)).ok();
    let text = String::from_utf8(read("build.envd").unwrap_or_default()).unwrap_or_default();
    let files = InMemory(HashMap::from([
        ("env.yaml".to_string(), read("env.yaml")),
        ("build.txt".to_string(), read("build.txt")),
        ("detectron2".to_string(), None),
    ]));
    let mut options = CompileOptions::default();
    c.bench_function("compile seed example", |b| {
        b.iter(|| {
            compile(black_box(&text), &options, &files, &Offline).map(|c| c.definition.def.len())
        })
    });
    // Bounded on a thread, as the frontend and llb-gen compile: the
    // difference is the thread's and the budget's cost.
    options.bounds = llb_gen::compile::EvaluationBounds::Thread;
    c.bench_function(
        "compile seed example, evaluation bounded on a thread",
        |b| {
            b.iter(|| {
                compile(black_box(&text), &options, &files, &Offline)
                    .map(|c| c.definition.def.len())
            })
        },
    );
    // With the evaluation probe, as the language server compiles: the
    // difference is the child process's cost.
    options.bounds =
        llb_gen::compile::EvaluationBounds::Probe(env!("CARGO_BIN_EXE_llb-gen").into());
    c.bench_function("compile seed example with the evaluation probe", |b| {
        b.iter(|| {
            compile(black_box(&text), &options, &files, &Offline).map(|c| c.definition.def.len())
        })
    });
}

criterion_group!(benches, seed_example);
criterion_main!(benches);

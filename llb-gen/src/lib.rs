//! build.envd to BuildKit LLB, with no I/O of its own (context files and
//! base image configs come through traits; [`disk`] reads a folder for the
//! offline compiler and tests).
//!
//! Modules, in the order lib.rs declares them: [`llb`], the typed LLB
//! builder; [`limits`], the bounds on what the compiler reads; [`lint`],
//! the rules every warning belongs to; [`diagnostics`], located errors and
//! warnings; [`validate`] and [`pep508`], checks of input text;
//! [`includes`], the repositories a file includes and the one loop that
//! fetches them; [`ir`], the plain data every stage shares (spans, what
//! `base()` asks for); [`lower`], the machinery that turns a build into LLB
//! and image config; [`builtins`], one file per envd builtin (its
//! parameters, its step, its lowering) and the registry; [`plan`], the
//! whole build assembled from the recorded calls, checked, and lowered step
//! by step; [`lang`], Starlark evaluation into a plan (the only module that
//! imports `starlark`); [`allocator`], the global allocator that bounds an
//! evaluation's memory; [`probe`], that evaluation first in a child process
//! with bounded memory and time; [`bounded`], the same bounds on a thread
//! of this process; [`compile`], the whole pipeline and its
//! one options type; [`export`], a compiled build as a Dockerfile;
//! [`subrequests`], the answers to `--call
//! targets|outline|check`; [`disk`], a folder as the context and included
//! repositories; [`language_server`], the language server's answers.
//! Each imports only those before it (`tests/layering.rs`); builtins see
//! plain values, never Starlark ones.

pub mod llb;
pub mod limits;
pub mod lint;
pub mod diagnostics;
pub mod validate;
pub mod pep508;
pub mod includes;
pub mod ir;
pub mod lower;
pub mod builtins;
pub mod plan;
pub mod lang;
pub mod allocator;
pub mod probe;
pub mod bounded;
pub mod compile;
pub mod export;
pub mod subrequests;
pub mod disk;
pub mod language_server;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;

pub use compile::{CompileOptions, Compiled, compile};

// The unit tests run with the allocator the programs install, so the
// budget's own tests see it work.
#[cfg(test)]
#[global_allocator]
static ALLOCATOR: allocator::EvaluationAllocator = allocator::EvaluationAllocator;

//! build.envd to BuildKit LLB, with no I/O of its own (context files and
//! base image configs come through traits; [`disk`] reads a folder for the
//! offline compiler and tests).
//!
//! Modules: [`llb`], the typed LLB builder; [`limits`], the bounds on
//! what the compiler reads; [`lint`], the rules every warning belongs
//! to; [`diagnostics`], located errors and warnings; [`checks`] and
//! [`pep508`], checks of input text; [`ir`], the plain data every stage
//! shares (spans, what `base()` asks for);
//! [`lower`], the machinery that turns a build into LLB and image config;
//! [`builtins`], one file per envd builtin (its parameters, its step, its
//! lowering) and the registry; [`build`], the whole build assembled from
//! the recorded calls and lowered step by step; [`lang`], Starlark
//! evaluation into a build (the only module that imports `starlark`);
//! [`probe`], that evaluation first in a child process with bounded memory
//! and time; [`compile`], the whole pipeline; [`subrequests`], the answers
//! to `--call targets|outline|check`; [`disk`], a folder as the context;
//! [`editor`], the language server's answers. Each imports only those
//! before it in this list; builtins see plain values, never Starlark ones.

pub mod build;
pub mod builtins;
pub mod checks;
pub mod compile;
pub mod diagnostics;
pub mod disk;
pub mod editor;
#[cfg(any(test, feature = "fuzzing"))]
pub mod fuzzing;
pub mod ir;
pub mod lang;
pub mod limits;
pub mod lint;
pub mod llb;
pub mod lower;
pub mod pep508;
pub mod probe;
pub mod subrequests;

pub use compile::{CompileOptions, Compiled, compile, included_urls};

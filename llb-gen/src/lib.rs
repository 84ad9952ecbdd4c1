//! build.envd to BuildKit LLB, with no I/O of its own.
//!
//! Stages, each depending only on those before it: [`llb`], the typed LLB
//! builder; [`diagnostics`], located errors; [`ir`], the plain build
//! description; [`lang`], Starlark evaluation into the IR; [`lower`], IR to
//! LLB and image config; [`compile`], the whole pipeline.

pub mod compile;
pub mod diagnostics;
pub mod ir;
pub mod lang;
pub mod llb;
pub mod lower;
pub mod pep508;

pub use compile::{CompileOptions, Compiled, compile};

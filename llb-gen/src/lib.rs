//! build.envd to BuildKit LLB, with no I/O of its own.
//!
//! Stages, each depending only on those before it: [`llb`], the typed LLB
//! builder and marshaller.

pub mod llb;

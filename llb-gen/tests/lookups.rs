//! The compiler announces every lookup (base images, context paths) before
//! it waits for the first, so a frontend can run them concurrently.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]
use std::cell::RefCell;

use llb_gen::llb::{Image, Platform};
use llb_gen::lower::{
    BaseResolver, ContextFiles, ContextSource, FileKind, ImageConfig, ResolvedBase,
};
use llb_gen::{CompileOptions, compile};

/// Context files and a registry in memory that record what is asked of them.
#[derive(Default)]
struct Recorder {
    events: RefCell<Vec<String>>,
}

impl ContextFiles for Recorder {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
        self.events.borrow_mut().push(format!("read {path}"));
        Ok(Some(b"numpy\n".to_vec()))
    }
    fn kind(&self, path: &str) -> Result<Option<FileKind>, String> {
        self.events.borrow_mut().push(format!("kind {path}"));
        Ok(Some(if path == "service" {
            FileKind::Dir
        } else {
            FileKind::File
        }))
    }
    fn prefetch(&self, paths: &[String]) {
        self.events
            .borrow_mut()
            .push(format!("prefetch {}", paths.join(" ")));
    }
}

impl BaseResolver for Recorder {
    fn resolve(&self, reference: &str, platform: &Platform) -> Result<ResolvedBase, String> {
        self.events
            .borrow_mut()
            .push(format!("resolve {reference}"));
        Ok(ResolvedBase {
            digest: None,
            config: ImageConfig::empty(platform),
        })
    }
    fn prefetch(&self, reference: &str, _platform: &Platform) {
        self.events
            .borrow_mut()
            .push(format!("prefetch image {reference}"));
    }
}

#[test]
fn lookups_are_announced_before_the_first_one_waits() {
    let text = "def build():\n    base(os=\"ubuntu22.04\")\n    install.python_packages(requirements=\"requirements.txt\")\n    io.copy(src=\"service\", dest=\"/srv\")\n    io.copy(src=\".\", dest=\"/all\")\n";
    let recorder = Recorder::default();
    let options = CompileOptions::default();
    compile(text, &options, &recorder, &recorder)
        .map_err(|d| d.render())
        .unwrap();
    let events = recorder.events.borrow();
    assert_eq!(
        events[..3],
        [
            "prefetch image ubuntu:22.04",
            "prefetch .dockerignore requirements.txt service",
            "resolve ubuntu:22.04"
        ]
    );
    assert!(
        events.contains(&"read requirements.txt".to_string()),
        "{events:?}"
    );
}

#[test]
fn an_input_state_context_has_no_dockerignore_to_look_up() {
    let text = "def build():\n    base(os=\"ubuntu22.04\")\n    install.python_packages(requirements=\"requirements.txt\")\n";
    let recorder = Recorder::default();
    // A context the client passed as a definition (here, an image's files).
    let context = Image::new("docker.io/library/alpine:3").build().unwrap();
    let options = CompileOptions::default().context(ContextSource::State(context));
    compile(text, &options, &recorder, &recorder)
        .map_err(|d| d.render())
        .unwrap();
    let events = recorder.events.borrow();
    assert!(
        events.contains(&"prefetch requirements.txt".to_string()),
        "{events:?}"
    );
    assert!(
        !events.iter().any(|e| e.contains(".dockerignore")),
        "{events:?}"
    );
}

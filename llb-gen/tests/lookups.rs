//! The compiler announces every lookup (base images, context paths) before
//! it waits for the first but `.dockerignore` (which says what the context
//! transfer leaves out), so a frontend can run them concurrently.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]
use std::cell::RefCell;

use llb_gen::llb::Platform;
use llb_gen::lower::{
    BaseResolver, ContextFiles, ContextReads, FileKind, ImageConfig, ResolvedBase,
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
    fn prefetch(&self, reads: &ContextReads) {
        self.events
            .borrow_mut()
            .push(format!("prefetch {}", reads.paths.join(" ")));
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
    let build = |copies: &str| {
        format!(
            "def build():\n    base(os=\"ubuntu22.04\")\n    install.python_packages(requirements=\"requirements.txt\")\n{copies}"
        )
    };
    let recorder = Recorder::default();
    let options = CompileOptions::default();
    compile(
        &build("    io.copy(src=\"service\", dest=\"/srv\")\n"),
        &options,
        &recorder,
        &recorder,
    )
    .map_err(|d| d.render())
    .unwrap();
    let events = recorder.events.borrow();
    assert_eq!(
        events[..4],
        [
            "prefetch image ubuntu:22.04",
            "read .dockerignore",
            "prefetch requirements.txt service",
            "resolve ubuntu:22.04"
        ]
    );
    assert!(
        events.contains(&"read requirements.txt".to_string()),
        "{events:?}"
    );
    drop(events);

    // A step that reads all of the context: the transfer is all of it.
    let recorder = Recorder::default();
    compile(
        &build(
            "    io.copy(src=\"service\", dest=\"/srv\")\n    io.copy(src=\".\", dest=\"/all\")\n",
        ),
        &options,
        &recorder,
        &recorder,
    )
    .map_err(|d| d.render())
    .unwrap();
    assert_eq!(recorder.events.borrow()[2], "prefetch .");
}

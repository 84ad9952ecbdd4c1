//! Source files and locations attached to ops, so BuildKit can point a
//! failing step at the build file line that made it.

use std::sync::Arc;

/// A build file as BuildKit shows it in error excerpts. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile(Arc<SourceFileData>);

#[derive(Debug, PartialEq, Eq)]
struct SourceFileData {
    filename: String,
    data: Vec<u8>,
    language: String,
}

impl SourceFile {
    pub fn new(filename: &str, data: impl Into<Vec<u8>>, language: &str) -> SourceFile {
        SourceFile(Arc::new(SourceFileData {
            filename: filename.to_string(),
            data: data.into(),
            language: language.to_string(),
        }))
    }

    pub fn filename(&self) -> &str {
        &self.0.filename
    }

    pub fn data(&self) -> &[u8] {
        &self.0.data
    }

    pub fn language(&self) -> &str {
        &self.0.language
    }

    /// Attaches ranges of this file to an op.
    pub fn location(&self, ranges: impl IntoIterator<Item = SourceRange>) -> SourceLocation {
        SourceLocation {
            file: self.clone(),
            ranges: ranges.into_iter().collect(),
        }
    }
}

/// A position: 1-based line, 0-based character, as in BuildKit's `pb.Position`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourcePosition {
    pub line: u32,
    pub character: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SourceRange {
    pub start: SourcePosition,
    pub end: SourcePosition,
}

impl SourceRange {
    /// The whole of lines `start..=end` (1-based).
    pub fn lines(start: u32, end: u32) -> SourceRange {
        SourceRange {
            start: SourcePosition {
                line: start,
                character: 0,
            },
            end: SourcePosition {
                line: end,
                character: 0,
            },
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLocation {
    pub(crate) file: SourceFile,
    pub(crate) ranges: Vec<SourceRange>,
}

//! The plain data every stage shares: where a call was made (its span and
//! the calls that led to it), a value located at its call, and what
//! `base()` asks for. The steps are the builtins' (`builtins::Step`); the
//! whole build is `plan::BuildSpec`.

use serde::Serialize;

/// Where a call was made: byte range in build.envd, its 1-based line, and
/// the calls that led to it (outermost first), e.g. `build()` calling
/// `mirror_config()`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Span {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub called_from: Vec<CallSite>,
}

/// A call in the chain that led to a builtin.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct CallSite {
    pub start: usize,
    pub end: usize,
    pub line: usize,
}

impl Span {
    pub fn range(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// The envd syntax a build file is written in: envd 0.x's v0 (the AIGES
/// files) or envd 1.x's v1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    #[default]
    V0,
    V1,
}

impl Syntax {
    /// The syntax line 1 asks for: v1 when it contains `# syntax=v1`, as
    /// envd 1.x reads it, or when a `# syntax=` directive names a frontend
    /// and then `v1` (`# syntax=aiges/envd-frontend v1`: BuildKit runs the
    /// first word and passes the rest on); v0 otherwise, as envd 0.x read
    /// files without the line. A byte-order mark before it is no part of
    /// the line.
    pub fn of(text: &str) -> Syntax {
        Syntax::declared(text).unwrap_or(Syntax::V0)
    }

    /// The syntax line 1 names, if it names one (`# syntax=v0` too); a
    /// file without (AIGES' `# syntax=aiges/envd-frontend` names none)
    /// is read as the syntax that accepts it.
    pub fn declared(text: &str) -> Option<Syntax> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let first = text.lines().next().unwrap_or_default();
        for syntax in [Syntax::V1, Syntax::V0] {
            if first.contains(&format!("# syntax={}", syntax.name())) {
                return Some(syntax);
            }
        }
        let directive = first
            .trim_start()
            .strip_prefix('#')
            .map(str::trim_start)
            .and_then(|rest| rest.strip_prefix("syntax="))?;
        let words: Vec<&str> = directive.split_whitespace().skip(1).collect();
        [Syntax::V1, Syntax::V0]
            .into_iter()
            .find(|syntax| words.contains(&syntax.name()))
    }

    pub fn name(self) -> &'static str {
        match self {
            Syntax::V0 => "v0",
            Syntax::V1 => "v1",
        }
    }
}

/// What `base()` asked for, before the image table resolves it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BaseRequest {
    /// OS name, alias or image reference from `os=` or `image=`.
    pub image: String,
    /// Requested Python, if `language=` was given.
    pub python: Option<PythonRequest>,
    /// R or Julia, when `language=` names one: the base must have it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub other_language: Option<OtherLanguage>,
    /// The CUDA variant `install.cuda()` asks for, located at that call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cuda: Option<Located<CudaRequest>>,
    /// envd v1's `base(dev=True)`: the image gets envd's user and folder.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dev: bool,
    /// envd v1's `config.owner(uid, gid)`: the ids of that user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<(u32, u32)>,
}

/// The languages besides Python envd v0 knew. envd swapped in its own R
/// or Julia image; here the base image must bring the language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OtherLanguage {
    R,
    Julia,
}

impl OtherLanguage {
    /// `r`, `r4.2`, `julia`, `julia1.8` (the version is the base's).
    pub fn parse(language: &str) -> Option<OtherLanguage> {
        let (language, version) = if let Some(v) = language.strip_prefix("julia") {
            (OtherLanguage::Julia, v)
        } else {
            (OtherLanguage::R, language.strip_prefix('r')?)
        };
        version
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.')
            .then_some(language)
    }

    /// As people write it.
    pub fn name(self) -> &'static str {
        match self {
            OtherLanguage::R => "R",
            OtherLanguage::Julia => "Julia",
        }
    }

    /// The program a base with the language has on PATH.
    pub fn program(self) -> &'static str {
        match self {
            OtherLanguage::R => "Rscript",
            OtherLanguage::Julia => "julia",
        }
    }
}

/// What `install.cuda(version, cudnn)` asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CudaRequest {
    pub version: String,
    pub cudnn: String,
    /// envd v1's: NVIDIA's image named after the base image, not the
    /// base table's variant.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub v1: bool,
}

/// `python`, `python3`, `python3.8`, `python3.8.10`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonRequest {
    pub major: u32,
    pub minor: Option<u32>,
    pub patch: Option<u32>,
}

/// Why a `language=` value is refused, with a hint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LanguageError {
    pub message: String,
    pub help: String,
}

impl PythonRequest {
    /// `python`, `python3`, `python3.8`, `python3.8.10` (`python` means
    /// Python 3, as in envd).
    pub fn parse(language: &str) -> Result<PythonRequest, LanguageError> {
        let unsupported = || {
            LanguageError {
            message: format!("unsupported language {language:?}"),
            help: "use \"python\", \"python3\" or \"python3.X\" (or \"r\", \"julia\"), e.g. language=\"python3.8\""
                .to_string(),
        }
        };
        let Some(version) = language.strip_prefix("python") else {
            return Err(unsupported());
        };
        if version.is_empty() {
            return Ok(PythonRequest {
                major: 3,
                minor: None,
                patch: None,
            });
        }
        let parts: Vec<&str> = version.split('.').collect();
        if parts.len() > 3
            || parts
                .iter()
                .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 4)
        {
            return Err(unsupported());
        }
        let num = |i: usize| parts.get(i).and_then(|p| p.parse::<u32>().ok());
        let major = num(0).ok_or_else(unsupported)?;
        if major != 3 {
            return Err(LanguageError {
                message: format!("Python {major} is not supported"),
                help: "use Python 3, e.g. language=\"python3.8\"".to_string(),
            });
        }
        Ok(PythonRequest {
            major,
            minor: num(1),
            patch: num(2),
        })
    }

    /// The version as conda and `python -V` spell it (`3`, `3.8`, `3.8.10`).
    pub fn version(&self) -> String {
        let mut out = self.major.to_string();
        if let Some(minor) = self.minor {
            out.push_str(&format!(".{minor}"));
            if let Some(patch) = self.patch {
                out.push_str(&format!(".{patch}"));
            }
        }
        out
    }
}

/// A step with the place that made it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Located<T> {
    #[serde(flatten)]
    pub value: T,
    pub span: Span,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_syntax_is_read_from_line_one() {
        assert_eq!(Syntax::of("# syntax=v1\ndef build(): pass\n"), Syntax::V1);
        assert_eq!(Syntax::of("\u{feff}# syntax=v1\n"), Syntax::V1);
        assert_eq!(Syntax::of("# syntax=aiges/envd-frontend v1\n"), Syntax::V1);
        assert_eq!(Syntax::of("#syntax=aiges/envd-frontend:1 v1\n"), Syntax::V1);
        assert_eq!(Syntax::of("# syntax=aiges/envd-frontend\n"), Syntax::V0);
        assert_eq!(
            Syntax::of("def build():\n    pass # syntax=v1\n"),
            Syntax::V0
        );
        assert_eq!(Syntax::of(""), Syntax::V0);
        assert_eq!(Syntax::declared("# syntax=aiges/envd-frontend\n"), None);
        assert_eq!(Syntax::declared("# syntax=v0\n"), Some(Syntax::V0));
        assert_eq!(Syntax::declared("def build():\n"), None);
    }

    #[test]
    fn languages() {
        let v = |s: &str| PythonRequest::parse(s).map(|p| p.version());
        assert_eq!(v("python").unwrap(), "3");
        assert_eq!(v("python3").unwrap(), "3");
        assert_eq!(v("python3.8").unwrap(), "3.8");
        assert_eq!(v("python3.10.4").unwrap(), "3.10.4");
        for bad in [
            "r",
            "julia",
            "python3.",
            "python3.x",
            "python 3",
            "python3.8.1.2",
            "Python3",
        ] {
            assert!(PythonRequest::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(OtherLanguage::parse("r"), Some(OtherLanguage::R));
        assert_eq!(OtherLanguage::parse("r4.2"), Some(OtherLanguage::R));
        assert_eq!(OtherLanguage::parse("julia1.8"), Some(OtherLanguage::Julia));
        assert_eq!(OtherLanguage::parse("ruby"), None);
        assert_eq!(
            PythonRequest::parse("python2.7").unwrap_err().message,
            "Python 2 is not supported"
        );
    }
}

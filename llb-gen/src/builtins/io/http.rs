//! `io.http(url, checksum, filename)`: a file BuildKit downloads (an HTTP
//! source, checked against `checksum`), placed where envd placed it:
//! `/home/envd/extra_source/<filename>`. The download does not depend on
//! the base, so variants share it.

use serde::Serialize;

use crate::builtins::{
    Args, BOTH, BuiltinError, Kind, Lower, Param, Params, Recording, Spec, http_url,
};
use crate::diagnostics::Diagnostic;
use crate::ir::Span;
use crate::llb::{Copy, Http as HttpSource, WithOpOptions};
use crate::lower::Lowering;

/// envd's folder for downloaded files.
pub const EXTRA_SOURCE_DIR: &str = "/home/envd/extra_source";

pub static SPEC: Spec = Spec {
    name: "io.http",
    summary: "a download checked by its checksum, into /home/envd/extra_source/",
    params: Params::Declared(&[
        Param::positional("url", Kind::Str, "an http:// or https:// URL").required(),
        Param::positional(
            "checksum",
            Kind::Str,
            "`sha256:<hex>`: BuildKit fails the build if the download differs",
        ),
        Param::positional(
            "filename",
            Kind::Str,
            "the file's name; else the server's or the URL's",
        ),
    ]),
    once: false,
    tools: &[],
    syntaxes: BOTH,
    record,
};

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Http {
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

fn record(args: &Args, recording: &mut dyn Recording) -> Result<(), BuiltinError> {
    let func = SPEC.name;
    let url = http_url(&SPEC, "url", &args.required_str("url")?)?;
    let checksum = args.str("checksum").filter(|c| !c.is_empty());
    if let Some(checksum) = &checksum {
        let hex = checksum.strip_prefix("sha256:").unwrap_or("");
        if hex.len() != 64
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            let mut error = BuiltinError::new(format!(
                "{func}(): `checksum` {checksum:?} is not a sha256 digest"
            ));
            error.span = recording.locate_in_argument(checksum, 0);
            return Err(error.help("write checksum=\"sha256:\" followed by 64 lowercase hex digits (BuildKit checks sha256 only)"));
        }
    } else {
        recording.warn(
            &crate::lint::DOWNLOAD_UNVERIFIED,
            format!("{func}(): no `checksum`: the download is not verified"),
            "BuildKit then trusts whatever the server sends (and asks it again on each build); add checksum=\"sha256:...\" to pin the content",
        );
    }
    let filename = args.str("filename").filter(|f| !f.is_empty());
    if let Some(name) = &filename
        && (name.contains('/') || name == "." || name == "..")
    {
        return Err(BuiltinError::new(format!(
            "{func}(): `filename` {name:?} must be a plain file name"
        )));
    }
    recording.step(
        Http {
            url,
            checksum,
            filename,
        }
        .into(),
    )?;
    Ok(())
}

impl Lower for Http {
    fn lower(&self, lowering: &mut Lowering<'_>, span: &Span) -> Result<(), Diagnostic> {
        let title = format!("{} {}", SPEC.name, self.url);
        let mut source = HttpSource::new(self.url.clone())
            .perm(0o644)
            // No platform: every platform's graph shares this download.
            .custom_name(&title)
            .location(lowering.location(span));
        if let Some(checksum) = &self.checksum {
            source = source.checksum(checksum.clone());
        }
        if let Some(filename) = &self.filename {
            source = source.filename(filename.clone());
        }
        let download = source.build().map_err(|e| lowering.llb_error(span, e))?;
        lowering.add_layer(span, &title, |op| {
            op.copy(
                Copy::new(&download, "/", format!("{EXTRA_SOURCE_DIR}/"))
                    .contents_only(true)
                    .create_dest_path(true),
            )
        })
    }

    fn context_paths(&self) -> Vec<&str> {
        vec![]
    }
}

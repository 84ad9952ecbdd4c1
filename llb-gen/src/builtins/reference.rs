//! Documentation generated from the builtin specs: the reference page
//! (`docs/build-envd-reference.md`) and the README's builtin table. Tests
//! compare both with the files and fail when they are stale.

use super::{Params, Spec, of_syntax};
use crate::ir::Syntax;

/// Marks around the generated table in README.md.
pub const README_TABLE_START: &str =
    "<!-- builtin table: generated from llb-gen/src/builtins; do not edit -->";
pub const README_TABLE_END: &str = "<!-- end of builtin table -->";

/// The README's table: a row per builtin of envd v0 (the AIGES files'
/// syntax), its parameters and effect.
pub fn readme_table() -> String {
    let mut out = String::from("| builtin | parameters (aliases) | effect |\n|---|---|---|\n");
    for spec in of_syntax(Syntax::V0) {
        out.push_str(&format!(
            "| `{}` | {} | {} |\n",
            spec.name,
            parameter_list(spec),
            spec.summary
        ));
    }
    out
}

fn parameter_list(spec: &Spec) -> String {
    match spec.params {
        Params::Any => "any (not read)".to_string(),
        Params::Declared(params) => params
            .iter()
            .map(|p| {
                if p.aliases.is_empty() {
                    format!("`{}`", p.name)
                } else {
                    let aliases: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
                    format!("`{}` ({})", p.name, aliases.join(", "))
                }
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The reference page: every builtin with its parameters, their types,
/// defaults, aliases and meaning.
pub fn reference_page() -> String {
    let mut out = String::from(
        "# build.envd reference\n\n\
         Generated from the builtin specs in `llb-gen/src/builtins` (a test fails when this page is\n\
         stale; `ENVD_UPDATE_DOCS=1 cargo test -p llb-gen --test docs` rewrites it).\n\n\
         Arguments may be given by position where the table says so, or by name (or by an alias\n\
         envd also accepted). `None` for any argument means \"not given\". A call that gives an\n\
         unknown parameter, a parameter twice, or a value of the wrong type is an error at its line.\n",
    );
    for spec in of_syntax(Syntax::V0) {
        out.push_str(&format!("\n## `{}`\n", spec.name));
        if spec.syntaxes.contains(&Syntax::V1) {
            out.push_str("\nThe same in envd v1 (`# syntax=v1`).\n");
        }
        out.push_str(&spec_section(spec));
    }
    out.push_str(V1_INTRO);
    for spec in of_syntax(Syntax::V1).filter(|spec| !spec.syntaxes.contains(&Syntax::V0)) {
        out.push_str(&format!("\n## `{}` (envd v1)\n", spec.name));
        out.push_str(&spec_section(spec));
    }
    out.push_str(LANGUAGE_GLOBALS);
    out.push('\n');
    out.push_str(&crate::lint::reference_section());
    out
}

/// One builtin's part of the reference page, without its heading: what it
/// does and its parameters (also the editor's hover text).
pub fn spec_section(spec: &Spec) -> String {
    let mut out = format!("\n{}.\n", capitalize(spec.summary));
    {
        if spec.once {
            out.push_str("\nIt sets the image's configuration: a build calls it at most once.\n");
        }
        match spec.params {
            Params::Any => {
                out.push_str("\nIt takes any arguments and reads none of them.\n");
            }
            Params::Declared(params) => {
                out.push_str(
                    "\n| parameter | also accepted as | positional | type | default | meaning |\n\
                     |---|---|---|---|---|---|\n",
                );
                for p in params {
                    let aliases: Vec<String> = p.aliases.iter().map(|a| format!("`{a}`")).collect();
                    out.push_str(&format!(
                        "| `{}` | {} | {} | {} | {} | {} |\n",
                        p.name,
                        aliases.join(", "),
                        if p.positional { "yes" } else { "no" },
                        p.kind.describe(),
                        if p.required {
                            "required".to_string()
                        } else {
                            format!("`{}`", p.kind.default_shown())
                        },
                        p.doc
                    ));
                }
            }
        }
    }
    out
}

/// The heading of the v1 builtins, after the v0 ones.
const V1_INTRO: &str = "\n## envd v1's own builtins\n\n\
A file whose first line says `# syntax=v1` (or `# syntax=aiges/envd-frontend v1`) is envd v1's:\n\
it has the builtins above that say so, and these. `docs/envd-v1.md` says what each does here.\n";

/// The names build.envd has besides the builtins, which the language
/// itself defines (`crate::lang`).
const LANGUAGE_GLOBALS: &str = "\n## Besides the builtins\n\n\
- `include(git=URL)`: a repository of `.envd` files, evaluated as one module (its names\n  \
  without a leading `_`), as envd did. The URL must be a string literal: it is fetched\n  \
  before build.envd is evaluated, by BuildKit in the frontend (a site's mirror or a\n  \
  folder of the context with `ENVD_INCLUDE_MIRRORS=\"URL=MIRROR URL=context:FOLDER\"`)\n  \
  and from a folder in `llb-gen`\n  \
  (`--include URL=FOLDER`). Calls and errors in its files are located at the build.envd\n  \
  line that led to them.\n\
- `build_args`: a read-only dict of the build's `--build-arg` values.\n\
- `_build_context_dir`: the build context, `\".\"` (build.envd's paths are relative to it).\n\
- `data.path.huggingface`, `data.path.dgl`: envd's dataset folders, `\"~/.cache/huggingface\"`\n  \
  and `\"~/.dgl\"`.\n";

fn capitalize(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::ALL;

    #[test]
    fn every_builtin_is_in_the_table_and_the_page() {
        let table = readme_table();
        let page = reference_page();
        for spec in of_syntax(Syntax::V0) {
            assert!(
                table.contains(&format!("| `{}` |", spec.name)),
                "{}",
                spec.name
            );
        }
        for spec in ALL {
            assert!(
                page.contains(&format!("## `{}`", spec.name)),
                "{}",
                spec.name
            );
        }
        for spec in of_syntax(Syntax::V1).filter(|spec| !spec.syntaxes.contains(&Syntax::V0)) {
            assert!(
                page.contains(&format!("## `{}` (envd v1)", spec.name)),
                "{}",
                spec.name
            );
        }
        assert!(table.contains(
            "| `io.copy` | `host_path` (`src`, `source`), `envd_path` (`dest`, `target`) |"
        ));
    }
}

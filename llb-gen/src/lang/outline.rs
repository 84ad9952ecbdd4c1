//! What a build file offers without running it: the functions a build can
//! name as its target (with their docstrings), and the build args it reads
//! (`build_args.get("X", default)`, `build_args["X"]`), for the `targets`
//! and `outline` subrequests.

use std::ops::Range;

use starlark::codemap::Span;
use starlark::syntax::AstModule;
use starlark::syntax::ast::{ArgumentP, AstExpr, AstLiteral, AstStmt, ExprP, ParameterP, StmtP};

use super::{BUILD_ARGS_GLOBAL, DEFAULT_TARGET, dialect, nesting, parse_error, too_large};
use crate::diagnostics::{Diagnostic, SourceText};

/// A top-level function that takes no required arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    /// The docstring's first paragraph on one line, when it has one.
    pub description: Option<String>,
    /// Whether a build without a target runs it.
    pub default: bool,
    /// The function, from its `def` line.
    pub span: Range<usize>,
}

/// One place the file reads a build arg.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildArgRead {
    pub name: String,
    /// The default given to `.get`, when it is a literal.
    pub default: Option<String>,
    /// The comment on the lines just above the statement, if any.
    pub description: Option<String>,
    pub span: Range<usize>,
}

/// The targets and build args of a file, from its syntax alone.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileOutline {
    pub targets: Vec<Target>,
    /// In file order; a name read twice is listed once, at its first read.
    pub build_args: Vec<BuildArgRead>,
}

/// Parses `source` (after the whitespace expansion evaluation uses) and
/// lists its targets and build args. A syntax error is the diagnostic a
/// build would give.
pub fn outline(source: &SourceText) -> Result<FileOutline, Diagnostic> {
    // The bounds evaluation has: the parser and the walk below recurse.
    if let Some(error) = too_large(source) {
        return Err(error);
    }
    nesting::check(source.text())
        .map_err(|too_deep| Diagnostic::error(source, Some(too_deep.span), too_deep.message))?;
    let ast = AstModule::parse(source.name(), source.text().to_string(), &dialect())
        .map_err(|e| parse_error(source, e))?;
    let mut outline = FileOutline::default();
    for statement in top_level(ast.statement()) {
        if let StmtP::Def(def) = &statement.node {
            let callable_bare = def.params.iter().all(|p| match &p.node {
                ParameterP::Normal(_, _, default) => default.is_some(),
                _ => true,
            });
            let name = def.name.node.ident.clone();
            if callable_bare && !name.starts_with('_') {
                outline.targets.push(Target {
                    default: name == DEFAULT_TARGET,
                    description: docstring(&def.body),
                    span: range(statement.span),
                    name,
                });
            }
        }
    }
    ast.statement()
        .visit_expr(|expr| collect_reads(source, expr, &mut outline.build_args));
    Ok(outline)
}

/// The module's statements, flattening the top-level block.
fn top_level(statement: &AstStmt) -> Vec<&AstStmt> {
    match &statement.node {
        StmtP::Statements(statements) => statements.iter().collect(),
        _ => vec![statement],
    }
}

/// The first paragraph of a function's docstring, on one line.
fn docstring(body: &AstStmt) -> Option<String> {
    let first = top_level(body).into_iter().next()?;
    let StmtP::Expression(expr) = &first.node else {
        return None;
    };
    let ExprP::Literal(AstLiteral::String(text)) = &expr.node else {
        return None;
    };
    let paragraph: Vec<&str> = text
        .node
        .trim()
        .lines()
        .map(str::trim)
        .take_while(|line| !line.is_empty())
        .collect();
    Some(paragraph.join(" ")).filter(|d| !d.is_empty())
}

/// Every `build_args.get("X"...)` and `build_args["X"]` in `expr` and the
/// expressions inside it.
fn collect_reads(source: &SourceText, expr: &AstExpr, reads: &mut Vec<BuildArgRead>) {
    let read = match &expr.node {
        ExprP::Call(callee, args) => match &callee.node {
            ExprP::Dot(object, method) if is_build_args(object) && method.node == "get" => {
                let mut values = args.args.iter().filter_map(|arg| match &arg.node {
                    ArgumentP::Positional(value) => Some(value),
                    _ => None,
                });
                values
                    .next()
                    .and_then(string_literal)
                    .map(|name| (name, values.next().and_then(literal_text)))
            }
            _ => None,
        },
        ExprP::Index(pair) if is_build_args(&pair.0) => {
            string_literal(&pair.1).map(|name| (name, None))
        }
        _ => None,
    };
    if let Some((name, default)) = read
        && !reads.iter().any(|r| r.name == name)
    {
        let span = range(expr.span);
        reads.push(BuildArgRead {
            description: comment_above(source, span.start),
            name,
            default,
            span,
        });
    }
    expr.visit_expr(|inner| collect_reads(source, inner, reads));
}

fn is_build_args(expr: &AstExpr) -> bool {
    matches!(&expr.node, ExprP::Identifier(ident) if ident.node.ident == BUILD_ARGS_GLOBAL)
}

fn string_literal(expr: &AstExpr) -> Option<String> {
    match &expr.node {
        ExprP::Literal(AstLiteral::String(text)) => Some(text.node.clone()),
        _ => None,
    }
}

/// A literal default as the outline shows it: strings as they are, numbers
/// as written.
fn literal_text(expr: &AstExpr) -> Option<String> {
    match &expr.node {
        ExprP::Literal(AstLiteral::String(text)) => Some(text.node.clone()),
        ExprP::Literal(AstLiteral::Int(n)) => Some(n.node.to_string()),
        ExprP::Literal(AstLiteral::Float(x)) => Some(x.node.to_string()),
        ExprP::Identifier(ident) if matches!(ident.node.ident.as_str(), "True" | "False") => {
            Some(ident.node.ident.clone())
        }
        _ => None,
    }
}

/// The `#` comment lines right above the line of `offset`, joined; a
/// `# syntax=` directive is not a description.
fn comment_above(source: &SourceText, offset: usize) -> Option<String> {
    let text = source.text();
    let line_start = text[..offset].rfind('\n').map_or(0, |i| i + 1);
    let mut lines: Vec<&str> = text[..line_start]
        .lines()
        .rev()
        .map(str::trim)
        .take_while(|line| {
            line.starts_with('#')
                && !line
                    .trim_start_matches('#')
                    .trim_start()
                    .starts_with("syntax=")
        })
        .map(|line| line.trim_start_matches('#').trim())
        .collect();
    lines.reverse();
    Some(lines.join(" ")).filter(|c| !c.is_empty())
}

fn range(span: Span) -> Range<usize> {
    span.begin().get() as usize..span.end().get() as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outline_of(text: &str) -> FileOutline {
        outline(&SourceText::new("build.envd", text)).unwrap()
    }

    #[test]
    fn targets_are_top_level_functions_a_build_can_call() {
        let file = outline_of(
            "def build():\n    \"\"\"The CPU image.\n\n    More text.\n    \"\"\"\n    base(os=\"aiges_cpu\")\n\
             def build_gpu(cuda=\"11.8\"):\n    base(os=\"aiges_gpu\")\n\
             def helper(x):\n    pass\n\
             def _private():\n    pass\n",
        );
        let names: Vec<(&str, bool, Option<&str>)> = file
            .targets
            .iter()
            .map(|t| (t.name.as_str(), t.default, t.description.as_deref()))
            .collect();
        assert_eq!(
            names,
            vec![
                ("build", true, Some("The CPU image.")),
                ("build_gpu", false, None)
            ]
        );
    }

    #[test]
    fn build_args_read_with_defaults_and_comments() {
        let text = "# syntax=aiges/envd-frontend\n# The Python of the image.\nPY = build_args.get(\"PY\", \"3.9\")\n\
                    def build():\n    base(os=build_args[\"OS\"], language=\"python\" + PY)\n    \
                    n = build_args.get(\"WORKERS\", 4)\n    build_args.get(\"PY\")\n    build_args.get(name)\n";
        let reads = outline_of(text).build_args;
        let got: Vec<(&str, Option<&str>, Option<&str>)> = reads
            .iter()
            .map(|r| {
                (
                    r.name.as_str(),
                    r.default.as_deref(),
                    r.description.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                ("PY", Some("3.9"), Some("The Python of the image.")),
                ("OS", None, None),
                ("WORKERS", Some("4"), None),
            ]
        );
        assert_eq!(&text[reads[1].span.clone()], "build_args[\"OS\"]");
    }

    #[test]
    fn a_syntax_error_is_located() {
        let err = outline(&SourceText::new("build.envd", "def build(:\n")).unwrap_err();
        assert_eq!(err.line(), Some(1));
    }
}

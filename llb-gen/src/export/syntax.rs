//! Dockerfile syntax: quoted values, paths, JSON arrays, here-documents and
//! `--mount` fields, written so no builder expands or splits them.

/// A value for `ENV`, `ARG` or `LABEL`: double-quoted, with the characters
/// the Dockerfile's word parser treats specially escaped (`$` too: a value
/// is taken as it is, never expanded).
pub fn quoted(value: &str) -> Result<String, String> {
    if value.contains('\n') || value.contains('\r') {
        return Err(format!(
            "the value {value:?} spans lines, which a Dockerfile instruction cannot hold"
        ));
    }
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        if matches!(c, '"' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    Ok(out)
}

/// A name for `ENV`, `ARG` or `LABEL` keys: letters, digits, `_`, `.`, `-`,
/// `/` (labels are dotted), or quoted.
pub fn key(name: &str) -> Result<String, String> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-' | '/'));
    if plain {
        Ok(name.to_string())
    } else {
        quoted(name)
    }
}

/// A `COPY`/`ADD` source or destination, with `$` escaped; `None` when it
/// needs the JSON form (white space or quotes in it).
fn plain_path(path: &str) -> Option<String> {
    if path.is_empty()
        || path
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '\\'))
    {
        return None;
    }
    Some(path.replace('$', "\\$"))
}

/// `COPY`/`ADD` arguments: plain words, or the JSON form where a path
/// needs it.
pub fn paths(items: &[&str]) -> Result<String, String> {
    if let Some(words) = items
        .iter()
        .map(|p| plain_path(p))
        .collect::<Option<Vec<_>>>()
    {
        return Ok(words.join(" "));
    }
    if items.iter().any(|p| p.contains('\n')) {
        return Err("a path spans lines, which a Dockerfile cannot hold".to_string());
    }
    let escaped: Vec<String> = items.iter().map(|p| p.replace('$', "\\$")).collect();
    Ok(json_array(&escaped))
}

/// A JSON array of strings (`ENTRYPOINT`, `CMD`, `RUN`'s exec form).
pub fn json_array(items: &[String]) -> String {
    serde_json::to_string(items).unwrap_or_else(|_| "[]".to_string())
}

/// A here-document's delimiter that no line of `body` equals, and the body
/// with its closing line. Only a body that ends with a newline is written
/// exactly (a here-document's content always ends with one).
pub fn heredoc(body: &str) -> Result<(String, String), String> {
    if !body.is_empty() && !body.ends_with('\n') {
        return Err(
            "its content does not end with a newline, which a Dockerfile here-document always adds"
                .to_string(),
        );
    }
    if body.contains('\r') {
        return Err(
            "its content holds carriage returns, which a Dockerfile here-document does not keep"
                .to_string(),
        );
    }
    let taken = |word: &str| body.lines().any(|line| line == word);
    let delimiter = std::iter::once("ENVD".to_string())
        .chain((1..).map(|n| format!("ENVD_{n}")))
        .find(|word| !taken(word))
        .unwrap_or_else(|| "ENVD".to_string());
    Ok((delimiter.clone(), format!("{body}{delimiter}")))
}

/// A `--mount` option field `key=value`, quoted as a CSV field where the
/// value holds a comma or a quote.
pub fn mount_field(key: &str, value: &str) -> String {
    let field = format!("{key}={value}");
    if value.contains(',') || value.contains('"') {
        format!("\"{}\"", field.replace('"', "\"\""))
    } else {
        field
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_never_expanded() {
        assert_eq!(quoted("a b").unwrap(), "\"a b\"");
        assert_eq!(
            quoted("$HOME \"x\" \\").unwrap(),
            "\"\\$HOME \\\"x\\\" \\\\\""
        );
        assert!(quoted("a\nb").is_err());
        assert_eq!(key("io.github.x/y").unwrap(), "io.github.x/y");
        assert_eq!(key("a b").unwrap(), "\"a b\"");
    }

    #[test]
    fn paths_use_the_json_form_only_where_needed() {
        assert_eq!(paths(&["a/b", "/c"]).unwrap(), "a/b /c");
        assert_eq!(paths(&["my file", "/c"]).unwrap(), "[\"my file\",\"/c\"]");
        assert_eq!(paths(&["$x", "/c"]).unwrap(), "\\$x /c");
    }

    #[test]
    fn heredoc_delimiters_avoid_the_body() {
        assert_eq!(heredoc("a\n").unwrap(), ("ENVD".into(), "a\nENVD".into()));
        assert_eq!(
            heredoc("ENVD\n").unwrap(),
            ("ENVD_1".into(), "ENVD\nENVD_1".into())
        );
        assert!(heredoc("no newline").is_err());
        assert_eq!(heredoc("").unwrap(), ("ENVD".into(), "ENVD".into()));
    }

    #[test]
    fn mount_fields_with_commas_are_quoted() {
        assert_eq!(mount_field("target", "/a"), "target=/a");
        assert_eq!(mount_field("target", "/a,b"), "\"target=/a,b\"");
    }
}

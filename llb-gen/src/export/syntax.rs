//! Dockerfile syntax: values, paths, JSON arrays, here-documents and
//! `--mount` fields, written so that no builder expands, splits or drops
//! any of their characters; what cannot be written so is an error.

/// The longest line a Dockerfile parser reads (BuildKit's is 64 KiB),
/// less a margin.
const MAX_LINE: usize = 64_000;

/// `text` with the characters the Dockerfile's word lexer treats
/// specially (`\`, `$` and quotes) escaped, so it is read as it is.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '"' | '\'' | '\\' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn one_line(what: &str, text: &str) -> Result<(), String> {
    if text.contains(['\n', '\r']) {
        return Err(format!(
            "{what} {text:?} spans lines, which a Dockerfile instruction cannot hold"
        ));
    }
    if text.len() > MAX_LINE {
        return Err(format!(
            "{what} is {} bytes long, more than a Dockerfile line holds",
            text.len()
        ));
    }
    Ok(())
}

/// A value for `ENV`, `ARG` or `LABEL`: double-quoted, with `\`, `"` and
/// `$` escaped, so it is never expanded.
pub fn quoted(value: &str) -> Result<String, String> {
    one_line("the value", value)?;
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

/// An `ENV` value that is `new`: where `new` is `old` with more appended
/// (`PATH` extended), it is written as `${KEY}` and what was appended, so
/// the image's own value at build time is extended rather than replaced.
pub fn env_value(key: &str, old: Option<&str>, new: &str) -> Result<String, String> {
    let identifier = !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    match old {
        Some(old) if identifier && !old.is_empty() && new.starts_with(&format!("{old}:")) => {
            let added = quoted(&new[old.len()..])?;
            Ok(format!("\"${{{key}}}{}", &added[1..]))
        }
        _ => quoted(new),
    }
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

/// A path that is the rest of its line (`WORKDIR`), read as one word.
pub fn line_word(path: &str) -> Result<String, String> {
    one_line("the path", path)?;
    Ok(escaped(path))
}

/// A path that must be one plain word (a here-document's destination,
/// `USER`): no white space, which such a word cannot hold.
pub fn word(what: &str, text: &str) -> Result<String, String> {
    one_line(what, text)?;
    if text.is_empty() || text.chars().any(char::is_whitespace) {
        return Err(format!(
            "{what} {text:?} is empty or holds white space, which this Dockerfile instruction cannot say"
        ));
    }
    Ok(escaped(text))
}

/// `COPY`/`ADD` arguments: plain words, or the JSON form where a path
/// holds white space (each element still escaped: builders expand both).
pub fn paths(items: &[&str]) -> Result<String, String> {
    for item in items {
        one_line("the path", item)?;
    }
    if items
        .iter()
        .all(|p| !p.is_empty() && !p.chars().any(char::is_whitespace))
    {
        return Ok(items
            .iter()
            .map(|p| escaped(p))
            .collect::<Vec<_>>()
            .join(" "));
    }
    let escaped: Vec<String> = items.iter().map(|p| escaped(p)).collect();
    json_array(&escaped)
}

/// A JSON array of strings (`ENTRYPOINT`, `CMD`, `RUN`'s exec form).
pub fn json_array(items: &[String]) -> Result<String, String> {
    let text = serde_json::to_string(items).map_err(|e| e.to_string())?;
    one_line("the list", &text)?;
    Ok(text)
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
    if let Some(long) = body.lines().find(|line| line.len() > MAX_LINE) {
        return Err(format!(
            "it has a line of {} bytes, more than a Dockerfile line holds",
            long.len()
        ));
    }
    let taken = |word: &str| body.lines().any(|line| line == word);
    let delimiter = std::iter::once("ENVD".to_string())
        .chain((1..).map(|n| format!("ENVD_{n}")))
        .find(|word| !taken(word))
        .unwrap_or_else(|| "ENVD".to_string());
    Ok((delimiter.clone(), format!("{body}{delimiter}")))
}

/// A `--mount` option field `key=value`. Builders strip quotes from flags
/// before they split them at commas, so a value with a comma, a quote or
/// white space cannot be written: it is an error.
pub fn mount_field(key: &str, value: &str) -> Result<String, String> {
    if value.is_empty()
        || value.contains([',', '"', '\'', '\\'])
        || value.chars().any(char::is_whitespace)
    {
        return Err(format!(
            "the mount's {key} {value:?} is empty or holds a comma, a quote or white space, which a Dockerfile's --mount cannot say"
        ));
    }
    Ok(format!("{key}={value}"))
}

/// Options written before an instruction's arguments, each followed by a
/// space.
pub fn flags(options: &[String]) -> String {
    options.iter().map(|o| format!("{o} ")).collect()
}

/// A build file name as a comment may hold it (one line).
pub fn comment_text(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_quoted_and_never_expanded() {
        assert_eq!(quoted("a b").unwrap(), "\"a b\"");
        assert_eq!(
            quoted("$HOME \"x\" \\ 'y'").unwrap(),
            "\"\\$HOME \\\"x\\\" \\\\ 'y'\""
        );
        assert!(quoted("a\nb").is_err());
        assert_eq!(key("io.github.x/y").unwrap(), "io.github.x/y");
        assert_eq!(key("a b").unwrap(), "\"a b\"");
    }

    #[test]
    fn an_extended_value_extends_the_images_own() {
        assert_eq!(
            env_value("PATH", Some("/usr/bin"), "/usr/bin:/opt/x/bin").unwrap(),
            "\"${PATH}:/opt/x/bin\""
        );
        assert_eq!(
            env_value("PATH", Some("/usr/bin"), "/opt/x/bin").unwrap(),
            "\"/opt/x/bin\""
        );
        assert_eq!(env_value("LANG", None, "C").unwrap(), "\"C\"");
    }

    #[test]
    fn paths_are_escaped_and_use_the_json_form_only_for_white_space() {
        assert_eq!(paths(&["a/b", "/c"]).unwrap(), "a/b /c");
        assert_eq!(paths(&["my file", "/c"]).unwrap(), "[\"my file\",\"/c\"]");
        assert_eq!(paths(&["$x'y", "/c"]).unwrap(), "\\$x\\'y /c");
        assert_eq!(
            paths(&["a \"b\"", "/c"]).unwrap(),
            "[\"a \\\\\\\"b\\\\\\\"\",\"/c\"]"
        );
        assert!(word("the file", "/a b").is_err());
        assert_eq!(line_word("/my dir/$x").unwrap(), "/my dir/\\$x");
    }

    #[test]
    fn heredoc_delimiters_avoid_the_body() {
        assert_eq!(heredoc("a\n").unwrap(), ("ENVD".into(), "a\nENVD".into()));
        assert_eq!(
            heredoc("ENVD\n").unwrap(),
            ("ENVD_1".into(), "ENVD\nENVD_1".into())
        );
        assert!(heredoc("no newline").is_err());
        assert!(heredoc(&format!("{}\n", "x".repeat(70_000))).is_err());
        assert_eq!(heredoc("").unwrap(), ("ENVD".into(), "ENVD".into()));
    }

    #[test]
    fn mount_fields_that_builders_would_split_are_errors() {
        assert_eq!(mount_field("target", "/a").unwrap(), "target=/a");
        assert!(mount_field("target", "/a,b").is_err());
        assert!(mount_field("target", "/my dir").is_err());
        assert!(mount_field("target", "/a\"b").is_err());
    }
}

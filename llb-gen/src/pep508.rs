//! Python requirement specifiers (PEP 508), checked loosely but enough to
//! reject what pip would reject late, in the middle of a build: a name,
//! optional extras and version clauses, an optional `; marker`, or a URL.

const MARKER_VARIABLES: &[&str] = &[
    "python_version",
    "python_full_version",
    "os_name",
    "sys_platform",
    "platform_release",
    "platform_system",
    "platform_version",
    "platform_machine",
    "platform_python_implementation",
    "implementation_name",
    "implementation_version",
    "extra",
];

/// Checks one requirement (without `--hash` options); the error says what is wrong.
pub fn check(spec: &str) -> Result<(), String> {
    let spec = spec.trim();
    if is_url(spec) {
        return Ok(());
    }
    let (requirement, marker) = match spec.split_once(';') {
        Some((r, m)) => (r.trim(), Some(m.trim())),
        None => (spec, None),
    };
    let name_end = requirement
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .unwrap_or(requirement.len());
    let name = &requirement[..name_end];
    let rest = requirement[name_end..].trim_start();
    if let Some(url) = rest.strip_prefix('@') {
        return if !name.is_empty() && is_url(url.trim()) {
            check_marker(spec, marker)
        } else {
            Err(format!("{spec:?}: expected `name @ URL`"))
        };
    }
    if spec.starts_with(['.', '/', '~']) || spec.ends_with(".whl") || spec.ends_with(".tar.gz") {
        return Err(format!(
            "{spec:?}: local paths are not supported here; list wheel files in local_wheels=[...]"
        ));
    }
    let name_ok = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    let rest = match rest.strip_prefix('[') {
        Some(extras) => match extras.split_once(']') {
            Some((list, after)) if list.split(',').all(|e| is_identifier(e.trim())) => {
                after.trim_start()
            }
            _ => return Err(format!("{spec:?}: malformed extras")),
        },
        None => rest,
    };
    let versions_ok = rest.is_empty()
        || (rest.starts_with(['=', '<', '>', '!', '~', '('])
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " .*+!=<>~,()_-".contains(c)));
    if !name_ok || !versions_ok {
        return Err(format!(
            "{spec:?} is not a requirement (expected e.g. `numpy==1.21` or `torch>=1.10`)"
        ));
    }
    check_marker(spec, marker)
}

fn check_marker(spec: &str, marker: Option<&str>) -> Result<(), String> {
    let Some(marker) = marker else { return Ok(()) };
    let charset_ok = marker
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || " .'\"<>=!~()_-,*".contains(c));
    let has_variable = MARKER_VARIABLES.iter().any(|v| marker.contains(v));
    if marker.is_empty() || !charset_ok || !has_variable {
        return Err(format!(
            "{spec:?}: invalid environment marker {marker:?} (expected e.g. `; python_version >= \"3.8\"`)"
        ));
    }
    Ok(())
}

fn is_identifier(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// `scheme://...` with a scheme such as `https` or `git+https`.
pub fn is_url(text: &str) -> bool {
    let scheme_end = text.find("://").unwrap_or(0);
    scheme_end > 0
        && text[..scheme_end]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_requirements() {
        for ok in [
            "numpy",
            "torch==1.10",
            "torch==1.10.0+cu113",
            "mmcv-full>=1.3,<2",
            "requests[socks,security]>=2",
            "numpy>=1.21; python_version >= '3.8'",
            "pkg @ https://example.invalid/pkg-1.0.whl",
            "git+https://example.invalid/repo.git#egg=x",
            "a.b_c",
            "name (>=1.0)",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
    }

    #[test]
    fn rejects_what_pip_would() {
        for bad in [
            "",
            "-r x",
            "numpy; rm -rf /",
            "numpy;",
            "$(id)",
            "x`y`",
            "./pkg.whl",
            "pkg @ ./x",
            "requests[so cks]",
            "numpy ==1 | true",
            "numpy-",
        ] {
            assert!(check(bad).is_err(), "{bad}");
        }
    }
}

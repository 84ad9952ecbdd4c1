//! Logins for private mirrors, kept out of everything a build keeps: the
//! client's `netrc` secret is mounted into each step that may download
//! (pip and conda read it through `NETRC`, apt through `auth.conf.d`) and
//! is in no layer, no op and no cache key. A URL that carries a login is
//! refused, since it would be kept; build args that look like secrets get
//! a warning, since BuildKit keeps build args in the build's history.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::lint::SECRET_IN_BUILD_ARG;
use crate::llb::{Mount, SecretMount};
use crate::validate::{conda_url_login, masked_login, url_login};

use super::shell;

/// The BuildKit secret with the mirrors' logins, in netrc form:
/// `docker buildx build --secret id=netrc,src=$HOME/.netrc`.
pub const NETRC_SECRET_ID: &str = "netrc";
/// Where steps find it; `NETRC` names it for pip's and conda's requests.
pub(crate) const NETRC_PATH: &str = "/run/secrets/netrc";
/// apt reads logins from files in `auth.conf.d` written as netrc is.
pub(crate) const APT_AUTH_PATH: &str = "/etc/apt/auth.conf.d/envd-frontend-netrc.conf";

/// How to give a login instead, for messages.
pub const LOGIN_HELP: &str = "give the URL without its login, and the login as a BuildKit secret: a netrc file (`machine HOST login USER password PASSWORD`) passed with `docker buildx build --secret id=netrc,src=$HOME/.netrc` (`envd build --secret ...` passes it on); pip, conda and apt steps read it, and it is stored nowhere";

/// What to do about a build arg named like a secret.
const NAMED_SECRET_HELP: &str = "pass mirrors' logins in the netrc secret (`--secret id=netrc,src=$HOME/.netrc`), which pip, conda and apt steps read and nothing stores; a value that build.envd itself reads cannot be kept out of the build's records";

/// The message for `what` (a parameter, a setting) whose URL carries a
/// login, quoting the URL with the login masked.
pub fn login_in_url(what: &str, url: &str) -> Option<String> {
    url_login(url).map(|login| refusal(what, url, login))
}

/// [`login_in_url`] for a conda channel, where a token path is a login too.
pub fn conda_login_in_url(what: &str, url: &str) -> Option<String> {
    conda_url_login(url).map(|login| refusal(what, url, login))
}

fn refusal(what: &str, url: &str, login: &str) -> String {
    format!(
        "{what} {:?} carries a login ({login}): a URL is kept in the build's definition, cache keys and history, and in the image's config files, and so would the login",
        masked_login(url)
    )
}

/// A text whose whole content a build keeps (build.envd is in every
/// definition's source map, an env file is written into an op), refused
/// when a URL in it carries a login. The error shows the text with every
/// login masked.
pub fn check_kept_text(source: &SourceText, kept_as: &str) -> Result<(), Diagnostic> {
    let text = source.text();
    let Some((at, url, login)) = crate::validate::urls_in(text)
        .into_iter()
        .find_map(|(at, url)| url_login(url).map(|login| (at, url, login)))
    else {
        return Ok(());
    };
    let masked = crate::validate::mask_logins(text);
    let shown = SourceText::new(source.name(), masked);
    let end = at + masked_login(url).len();
    Err(Diagnostic::error(
        &shown,
        Some(at..end),
        format!(
            "{:?} carries a login ({login}): {kept_as}, and so would the login",
            masked_login(url)
        ),
    )
    .with_help(LOGIN_HELP))
}

/// The netrc secret for a step, where pip and conda look (`NETRC`).
pub(crate) fn netrc_mount() -> Mount {
    SecretMount::new(NETRC_PATH, NETRC_SECRET_ID).into()
}

/// The netrc secret where apt looks.
pub(crate) fn apt_auth_mount() -> Mount {
    SecretMount::new(APT_AUTH_PATH, NETRC_SECRET_ID).into()
}

/// `command`, and when it fails while the build has no netrc secret, a
/// line (`failure`, which names the build.envd line) saying how to give
/// one; the command's status is kept.
pub(crate) fn with_login_hint(
    command: &str,
    tool: &str,
    failure: impl Fn(&str) -> String,
) -> String {
    let hint = failure(&format!(
        "{tool} failed, and the build has no netrc secret: if the mirror needs a login, build with --secret id={NETRC_SECRET_ID},src=$HOME/.netrc (a netrc file: machine HOST login USER password PASSWORD)"
    ));
    format!(
        // -s: BuildKit 0.11 mounts an empty file for a missing optional secret.
        "{command} || {{ status=$?; [ -s \"$NETRC\" ] || echo {} >&2; exit $status; }}",
        shell::quote(&hint)
    )
}

/// Words of build arg names that say the value is a secret (as BuildKit's
/// Dockerfile check `SecretsUsedInArgOrEnv` reads names).
const SECRET_WORDS: &[&str] = &[
    "password",
    "passwd",
    "pword",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "auth",
    "key",
];

/// A warning for each build arg whose name says it is a secret or whose
/// value holds a URL with a login. Values are never quoted.
pub fn build_arg_warnings(build_args: &BTreeMap<String, String>) -> Vec<Diagnostic> {
    let mut warnings = vec![];
    for (key, value) in build_args {
        let looks_secret = words(key)
            .iter()
            .any(|w| SECRET_WORDS.contains(&w.as_str()));
        let url_with_login = crate::validate::urls_in(value)
            .into_iter()
            .find_map(|(_, url)| url_login(url));
        let (why, help) = match (looks_secret, url_with_login) {
            (_, Some(login)) => (
                format!("its value holds a URL with a login ({login})"),
                LOGIN_HELP,
            ),
            (true, None) => (
                "its name says it holds a secret".to_string(),
                NAMED_SECRET_HELP,
            ),
            (false, None) => continue,
        };
        let source = SourceText::new(format!("--build-arg {key}"), "");
        warnings.push(
            Diagnostic::warning(
                &SECRET_IN_BUILD_ARG,
                &source,
                None,
                format!("{why}: BuildKit keeps build args in the build's history and provenance"),
            )
            .with_help(help),
        );
    }
    warnings
}

/// The lowercase words of a name: split at `_`, `-`, `.` and where a
/// lowercase letter meets an uppercase one (`apiToken`).
fn words(name: &str) -> Vec<String> {
    let mut words = vec![];
    let mut word = String::new();
    let mut previous_lower = false;
    for c in name.chars() {
        let boundary = matches!(c, '_' | '-' | '.') || (c.is_uppercase() && previous_lower);
        if boundary && !word.is_empty() {
            words.push(std::mem::take(&mut word));
        }
        if c.is_alphanumeric() {
            word.push(c.to_ascii_lowercase());
        }
        previous_lower = c.is_lowercase();
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    fn warned(pairs: &[(&str, &str)]) -> Vec<String> {
        let args = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        build_arg_warnings(&args)
            .iter()
            .map(Diagnostic::headline)
            .collect()
    }

    #[test]
    fn secret_looking_build_args_are_named_and_never_quoted() {
        let found = warned(&[
            ("HF_TOKEN", "hf_abc"),
            ("apiKey", "xyz"),
            ("DB_PASSWORD", "pw"),
            ("MIRROR", "see http://alice:s3cret@m/simple"),
            ("ENVD_PYTHON_VERSION", "3.11"),
            ("KEYBOARD", "us"),
            ("BUILDKIT_SYNTAX", "aiges/envd-frontend"),
        ]);
        assert_eq!(found.len(), 4, "{found:?}");
        assert!(
            found
                .iter()
                .any(|w| w.starts_with("--build-arg HF_TOKEN: its name says it holds a secret"))
        );
        assert!(
            found
                .iter()
                .any(|w| w.starts_with("--build-arg MIRROR: its value holds a URL with a login"))
        );
        assert!(
            found
                .iter()
                .all(|w| !w.contains("s3cret") && !w.contains("hf_abc"))
        );
    }

    #[test]
    fn name_words() {
        assert_eq!(words("HF_TOKEN"), ["hf", "token"]);
        assert_eq!(words("apiToken"), ["api", "token"]);
        assert_eq!(words("pip.index-url"), ["pip", "index", "url"]);
    }

    #[test]
    fn the_hint_keeps_the_status_and_names_the_secret() {
        let script = with_login_hint("pip install x", "pip", |m| {
            format!("envd-frontend: build.envd:3: {m}")
        });
        assert!(script.starts_with("pip install x || { status=$?; [ -s \"$NETRC\" ] || echo 'envd-frontend: build.envd:3: pip failed"));
        assert!(script.contains("--secret id=netrc,src=$HOME/.netrc"));
        assert!(script.ends_with(">&2; exit $status; }"));
    }

    #[test]
    fn logins_in_urls_are_refused_with_the_login_masked() {
        let message = login_in_url("ENVD_PIP_INDEX", "http://alice:s3cret@m/simple").unwrap();
        assert!(message.contains("\"http://***@m/simple\""), "{message}");
        assert!(!message.contains("s3cret"));
        assert_eq!(login_in_url("x", "https://m/simple"), None);
    }
}

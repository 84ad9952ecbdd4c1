//! Docker image references: parsing and the normalized form BuildKit's
//! `docker-image://` identifiers use (`ubuntu` -> `docker.io/library/ubuntu:latest`).

use std::fmt;

use super::error::LlbError;

const DEFAULT_DOMAIN: &str = "docker.io";
const OFFICIAL_REPO_PREFIX: &str = "library/";
const MAX_NAME_LEN: usize = 255;

/// A parsed, normalized image reference.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ImageRef {
    domain: String,
    path: String,
    tag: Option<String>,
    digest: Option<String>,
}

impl ImageRef {
    /// Parses a reference as `docker pull` accepts it and normalizes it.
    pub fn parse(reference: &str) -> Result<ImageRef, LlbError> {
        if reference.is_empty() {
            return Err(LlbError::EmptyImageRef);
        }
        let invalid = |reason: &str| LlbError::InvalidImageRef {
            reference: reference.to_string(),
            reason: reason.to_string(),
        };

        let (rest, digest) = match reference.split_once('@') {
            Some((rest, digest)) => {
                validate_digest(digest).map_err(|_| invalid("invalid digest"))?;
                (rest, Some(digest.to_string()))
            }
            None => (reference, None),
        };
        // A ':' after the last '/' starts the tag; one before it is a port.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].find(':') {
            Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
            None => (rest, None),
        };
        if let Some(tag) = tag
            && !is_valid_tag(tag)
        {
            return Err(invalid("invalid tag"));
        }
        if name.is_empty() {
            return Err(invalid("missing repository name"));
        }
        if name.len() > MAX_NAME_LEN {
            return Err(invalid("repository name longer than 255 characters"));
        }

        let (domain, path) = match name.split_once('/') {
            Some((first, rest)) if first.contains(['.', ':']) || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DEFAULT_DOMAIN.to_string(), name.to_string()),
        };
        if !is_valid_domain(&domain) {
            return Err(invalid("invalid registry host"));
        }
        if path.is_empty() || !path.split('/').all(is_valid_path_component) {
            return Err(invalid(
                "repository name must be lowercase letters, digits and separators",
            ));
        }
        let path = if domain == DEFAULT_DOMAIN && !path.contains('/') {
            format!("{OFFICIAL_REPO_PREFIX}{path}")
        } else {
            path
        };
        Ok(ImageRef {
            domain,
            path,
            tag: tag.map(str::to_string),
            digest,
        })
    }

    /// Pins the reference to a digest, keeping its tag (as `docker buildx` does).
    pub fn with_digest(mut self, digest: &str) -> Result<ImageRef, LlbError> {
        validate_digest(digest)?;
        match &self.digest {
            Some(existing) if existing != digest => Err(LlbError::ConflictingDigest {
                reference: self.to_string(),
                existing: existing.clone(),
                requested: digest.to_string(),
            }),
            _ => {
                self.digest = Some(digest.to_string());
                Ok(self)
            }
        }
    }
}

impl fmt::Display for ImageRef {
    /// The normalized form: `:latest` is implied only when neither tag nor digest is given.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.domain, self.path)?;
        match (&self.tag, &self.digest) {
            (Some(tag), _) => write!(f, ":{tag}")?,
            (None, None) => write!(f, ":latest")?,
            (None, Some(_)) => {}
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Accepts `sha256:` plus 64 lowercase hex digits, the only algorithm BuildKit pins.
pub(crate) fn validate_digest(digest: &str) -> Result<(), LlbError> {
    match digest.strip_prefix("sha256:") {
        Some(hex)
            if hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) =>
        {
            Ok(())
        }
        _ => Err(LlbError::InvalidDigest(digest.to_string())),
    }
}

fn is_valid_tag(tag: &str) -> bool {
    let mut bytes = tag.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric() || b == b'_')
        && tag.len() <= 128
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn is_valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty()
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

/// `[a-z0-9]+` joined by `.`, `_`, `__` or runs of `-`.
fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn norm(reference: &str) -> String {
        ImageRef::parse(reference).unwrap().to_string()
    }

    #[test]
    fn normalizes_like_docker() {
        assert_eq!(norm("ubuntu"), "docker.io/library/ubuntu:latest");
        assert_eq!(norm("ubuntu:20.04"), "docker.io/library/ubuntu:20.04");
        assert_eq!(
            norm("aiges/envd-frontend"),
            "docker.io/aiges/envd-frontend:latest"
        );
        assert_eq!(
            norm("localhost:5000/aiges_cpu:1.0"),
            "localhost:5000/aiges_cpu:1.0"
        );
        assert_eq!(norm("localhost/x"), "localhost/x:latest");
        assert_eq!(
            norm("registry.example.com/a/b/c:v1.2-rc_3"),
            "registry.example.com/a/b/c:v1.2-rc_3"
        );
        assert_eq!(
            norm(&format!("ubuntu@{DIGEST}")),
            format!("docker.io/library/ubuntu@{DIGEST}")
        );
        assert_eq!(
            norm(&format!("ubuntu:22.04@{DIGEST}")),
            format!("docker.io/library/ubuntu:22.04@{DIGEST}")
        );
        assert_eq!(
            norm("a__b.c-d---e"),
            "docker.io/library/a__b.c-d---e:latest"
        );
    }

    #[test]
    fn rejects_invalid_references() {
        assert_eq!(ImageRef::parse(""), Err(LlbError::EmptyImageRef));
        for bad in [
            "Ubuntu",
            "ubuntu:",
            "ubuntu:-x",
            ":tag",
            "a//b",
            "a/",
            "ubuntu@sha256:abc",
            "ubuntu@md5:0123",
            "ex ample",
            "a___b",
            "host:port/x",
            "-a",
            "a-",
        ] {
            assert!(
                matches!(ImageRef::parse(bad), Err(LlbError::InvalidImageRef { .. })),
                "{bad} should be rejected"
            );
        }
        let long = "a".repeat(256);
        assert!(ImageRef::parse(&long).is_err());
    }

    #[test]
    fn pins_digests_keeping_the_tag() {
        let pinned = ImageRef::parse("ubuntu:20.04")
            .unwrap()
            .with_digest(DIGEST)
            .unwrap();
        assert_eq!(
            pinned.to_string(),
            format!("docker.io/library/ubuntu:20.04@{DIGEST}")
        );
        assert!(matches!(
            ImageRef::parse("ubuntu").unwrap().with_digest("sha256:00"),
            Err(LlbError::InvalidDigest(_))
        ));
        let other = DIGEST.replace('0', "1");
        assert!(matches!(
            pinned.with_digest(&other),
            Err(LlbError::ConflictingDigest { .. })
        ));
    }
}

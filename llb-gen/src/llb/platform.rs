//! Target platforms (`os/arch[/variant]`) as ops and image configs carry them.

use std::fmt;

use envd_proto::pb;

use super::error::LlbError;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    pub os: String,
    pub architecture: String,
    pub variant: Option<String>,
}

impl Platform {
    pub fn new(os: &str, architecture: &str) -> Platform {
        Platform {
            os: os.to_string(),
            architecture: architecture.to_string(),
            variant: None,
        }
    }

    /// `linux/amd64`, `linux/arm64/v8`; lowercase letters, digits, `_` and `-`.
    pub fn parse(text: &str) -> Result<Platform, LlbError> {
        let valid = |part: &str| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
        };
        let parts: Vec<&str> = text.split('/').collect();
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Platform::new(os, arch)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => Ok(Platform {
                variant: Some(variant.to_string()),
                ..Platform::new(os, arch)
            }),
            _ => Err(LlbError::InvalidPlatform(text.to_string())),
        }
    }

    pub fn to_pb(&self) -> pb::Platform {
        pb::Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().unwrap_or_default(),
            ..Default::default()
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(variant) = &self.variant {
            write!(f, "/{variant}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints() {
        assert_eq!(
            Platform::parse("linux/amd64").unwrap(),
            Platform::new("linux", "amd64")
        );
        let arm = Platform::parse("linux/arm64/v8").unwrap();
        assert_eq!(arm.variant.as_deref(), Some("v8"));
        assert_eq!(arm.to_string(), "linux/arm64/v8");
        assert_eq!(arm.to_pb().variant, "v8");
        for bad in [
            "",
            "linux",
            "linux/",
            "Linux/amd64",
            "a/b/c/d",
            "linux/amd 64",
        ] {
            assert_eq!(
                Platform::parse(bad),
                Err(LlbError::InvalidPlatform(bad.to_string()))
            );
        }
    }
}

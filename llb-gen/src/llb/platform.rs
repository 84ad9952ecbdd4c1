//! Target platforms (`os/arch[/variant]`) as ops and image configs carry
//! them, and which platforms run which images' programs.

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

    /// The platform in containerd's normal form (`platforms.Normalize`):
    /// architecture aliases (`x86_64`, `aarch64`, `armhf`) by their OCI
    /// names, and the variants that are the default written as none
    /// (`amd64/v1`, `arm64/v8`) or as the default (`arm` is `arm/v7`).
    pub fn normalized(&self) -> Platform {
        let os = self.os.to_ascii_lowercase();
        let architecture = self.architecture.to_ascii_lowercase();
        let variant = self.variant.as_deref().map(str::to_ascii_lowercase);
        let (architecture, variant) = match (architecture.as_str(), variant.as_deref()) {
            ("i386" | "i486" | "i586" | "i686" | "386", _) => ("386", None),
            ("x86_64" | "x86-64" | "amd64", Some("v1")) | ("x86_64" | "x86-64" | "amd64", None) => {
                ("amd64", None)
            }
            ("x86_64" | "x86-64" | "amd64", Some(v)) => ("amd64", Some(v.to_string())),
            ("aarch64" | "arm64", None | Some("8" | "v8" | "v8.0")) => ("arm64", None),
            ("aarch64" | "arm64", Some("9" | "9.0" | "v9.0")) => ("arm64", Some("v9".to_string())),
            ("aarch64" | "arm64", Some(v)) => ("arm64", Some(with_v(v))),
            ("armhf", _) => ("arm", Some("v7".to_string())),
            ("armel", _) => ("arm", Some("v6".to_string())),
            ("arm", None | Some("7" | "v7")) => ("arm", Some("v7".to_string())),
            ("arm", Some(v)) => ("arm", Some(with_v(v))),
            (other, v) => (other, v.map(str::to_string)),
        };
        Platform {
            os,
            architecture: architecture.to_string(),
            variant,
        }
    }

    /// Whether a machine of this platform runs programs built for `image`
    /// natively, as containerd's `platforms.Only` matches: the same
    /// architecture at an equal or older variant, `386` on `amd64`, and
    /// 32-bit `arm` on `arm64`. Emulation does not count: under it a
    /// program still is what it was built for.
    pub fn runs(&self, image: &Platform) -> bool {
        let (target, image) = (self.normalized(), image.normalized());
        if target.os != image.os {
            return false;
        }
        let level = |p: &Platform, default: f64| {
            p.variant
                .as_deref()
                .and_then(|v| v.trim_start_matches('v').parse::<f64>().ok())
                .unwrap_or(default)
        };
        match (target.architecture.as_str(), image.architecture.as_str()) {
            ("amd64", "amd64") => level(&image, 1.0) <= level(&target, 1.0),
            ("arm64", "arm64") => level(&image, 8.0) <= level(&target, 8.0),
            ("arm", "arm") => level(&image, 7.0) <= level(&target, 7.0),
            ("amd64", "386") => true,
            ("arm64", "arm") => level(&image, 7.0) <= 8.0,
            (t, i) => t == i && target.variant == image.variant,
        }
    }

    /// An op's platform as this type holds it (an empty variant: none).
    pub fn from_pb(platform: &pb::Platform) -> Platform {
        Platform {
            os: platform.os.clone(),
            architecture: platform.architecture.clone(),
            variant: Some(platform.variant.clone()).filter(|v| !v.is_empty()),
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

/// A variant written with its `v` (`8.2` -> `v8.2`), as containerd writes them.
fn with_v(variant: &str) -> String {
    if variant.starts_with('v') {
        variant.to_string()
    } else {
        format!("v{variant}")
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

    fn p(text: &str) -> Platform {
        Platform::parse(text).unwrap()
    }

    #[test]
    fn normal_forms() {
        for (given, normal) in [
            ("linux/x86_64", "linux/amd64"),
            ("linux/amd64/v1", "linux/amd64"),
            ("linux/amd64/v3", "linux/amd64/v3"),
            ("linux/aarch64", "linux/arm64"),
            ("linux/arm64/v8", "linux/arm64"),
            ("linux/arm64/8", "linux/arm64"),
            ("linux/arm64/9", "linux/arm64/v9"),
            ("linux/arm", "linux/arm/v7"),
            ("linux/armhf", "linux/arm/v7"),
            ("linux/armel", "linux/arm/v6"),
            ("linux/arm/6", "linux/arm/v6"),
            ("linux/i686", "linux/386"),
            ("linux/riscv64", "linux/riscv64"),
        ] {
            assert_eq!(p(given).normalized().to_string(), normal, "{given}");
        }
    }

    #[test]
    fn which_platforms_run_which_programs() {
        let runs = |target: &str, image: &str| p(target).runs(&p(image));
        assert!(runs("linux/amd64", "linux/amd64"));
        assert!(runs("linux/amd64", "linux/x86_64"));
        assert!(runs("linux/arm64/v8", "linux/arm64"));
        assert!(runs("linux/amd64", "linux/386"));
        assert!(runs("linux/amd64/v3", "linux/amd64/v2"));
        assert!(runs("linux/arm64", "linux/arm/v7"));
        assert!(runs("linux/arm/v7", "linux/arm/v6"));
        assert!(!runs("linux/arm64", "linux/amd64"));
        assert!(!runs("linux/amd64", "linux/arm64"));
        assert!(!runs("linux/386", "linux/amd64"));
        assert!(!runs("linux/amd64", "linux/amd64/v3"));
        assert!(!runs("linux/arm/v6", "linux/arm/v7"));
        assert!(!runs("linux/amd64", "windows/amd64"));
        assert!(!runs("linux/riscv64", "linux/s390x"));
    }

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
        assert_eq!(Platform::from_pb(&arm.to_pb()), arm);
        let amd64 = Platform::new("linux", "amd64");
        assert_eq!(Platform::from_pb(&amd64.to_pb()).to_string(), "linux/amd64");
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

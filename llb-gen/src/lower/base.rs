//! Base images: the table of OS names and AIGES aliases, its per-build
//! overrides (build args), and the step that makes the image's `python`
//! the version build.envd asks for.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, SourceText};
use crate::ir::{BaseRequest, CudaRequest, Located, PythonRequest};
use crate::lint;
use crate::llb::ImageRef;
use crate::validate::{closest, quoted};

use super::shell::quote;

/// Build arg that replaces whatever base build.envd chooses.
pub const OVERRIDE_ANY: &str = "ENVD_BASE_IMAGE";
/// Prefix of build args that replace one table entry: `ENVD_BASE_IMAGE_AIGES_CPU=...`.
pub const OVERRIDE_PREFIX: &str = "ENVD_BASE_IMAGE_";

/// Names `base(os=...)` accepts, with the image each stands for. Sites
/// without registry access point them at their own images with build args.
pub const DEFAULT_BASES: &[(&str, &str)] = &[
    // The AIGES project publishes its GPU base under this name. No CPU base
    // is published; sites set ENVD_BASE_IMAGE_AIGES_CPU to theirs.
    (
        "aiges_cpu",
        "iflyopensource/aiges-cpu:1.17-3.9.13-ubuntu1804-v3.4.4",
    ),
    (
        "aiges_gpu",
        "iflyopensource/aiges-gpu:11.2-1.17-3.9.13-ubuntu1804-v3.4.4",
    ),
    ("ubuntu18.04", "ubuntu:18.04"),
    ("ubuntu20.04", "ubuntu:20.04"),
    ("ubuntu22.04", "ubuntu:22.04"),
    ("ubuntu24.04", "ubuntu:24.04"),
    ("debian11", "debian:11"),
    ("debian12", "debian:12"),
    // `install.cuda` variants (`<os>-cuda<version>-cudnn<cudnn>`): NVIDIA's
    // development images, as envd used. NVIDIA removes tags of CUDA
    // versions past their support; sites point these at their own copies.
    // envd's own files pair these with 22.04, for which NVIDIA publishes no
    // image: a site names its own.
    (
        "ubuntu22.04-cuda11.2.2-cudnn8",
        "nvidia/cuda:11.2.2-cudnn8-devel-ubuntu22.04",
    ),
    (
        "ubuntu22.04-cuda11.3.1-cudnn8",
        "nvidia/cuda:11.3.1-cudnn8-devel-ubuntu22.04",
    ),
    (
        "ubuntu22.04-cuda11.6.2-cudnn8",
        "nvidia/cuda:11.6.2-cudnn8-devel-ubuntu22.04",
    ),
    (
        "ubuntu20.04-cuda12.3.2-cudnn9",
        "nvidia/cuda:12.3.2-cudnn9-devel-ubuntu20.04",
    ),
    (
        "ubuntu20.04-cuda11.2.2-cudnn8",
        "nvidia/cuda:11.2.2-cudnn8-devel-ubuntu20.04",
    ),
    (
        "ubuntu20.04-cuda11.3.1-cudnn8",
        "nvidia/cuda:11.3.1-cudnn8-devel-ubuntu20.04",
    ),
    (
        "ubuntu20.04-cuda11.6.2-cudnn8",
        "nvidia/cuda:11.6.2-cudnn8-devel-ubuntu20.04",
    ),
    (
        "ubuntu20.04-cuda11.8.0-cudnn8",
        "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu20.04",
    ),
    (
        "ubuntu22.04-cuda11.8.0-cudnn8",
        "nvidia/cuda:11.8.0-cudnn8-devel-ubuntu22.04",
    ),
    (
        "ubuntu22.04-cuda12.1.1-cudnn8",
        "nvidia/cuda:12.1.1-cudnn8-devel-ubuntu22.04",
    ),
    (
        "ubuntu22.04-cuda12.3.2-cudnn9",
        "nvidia/cuda:12.3.2-cudnn9-devel-ubuntu22.04",
    ),
];

/// Spellings users write for table names (the seed example's `ubuntu20.4`).
const ALIASES: &[(&str, &str)] = &[
    ("ubuntu18.4", "ubuntu18.04"),
    ("ubuntu20.4", "ubuntu20.04"),
    ("ubuntu22.4", "ubuntu22.04"),
    ("ubuntu24.4", "ubuntu24.04"),
];

/// The build arg that overrides table entry `name`: `ubuntu20.04` -> `ENVD_BASE_IMAGE_UBUNTU20_04`.
pub fn override_arg(name: &str) -> String {
    let key: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("{OVERRIDE_PREFIX}{key}")
}

/// Checks the override build args: each names a table entry and an image.
pub fn check_overrides(build_args: &BTreeMap<String, String>) -> Result<(), Diagnostic> {
    let known: Vec<String> = DEFAULT_BASES
        .iter()
        .map(|(name, _)| override_arg(name))
        .collect();
    for (key, value) in build_args {
        if key != OVERRIDE_ANY && !key.starts_with(OVERRIDE_PREFIX) {
            continue;
        }
        let source = SourceText::new(format!("--build-arg {key}"), value.clone());
        if key != OVERRIDE_ANY && !known.contains(key) {
            let mut d = Diagnostic::error(
                &source,
                Some(0..value.len()),
                format!("build arg {key} overrides no base image"),
            );
            if let Some(close) = closest(key, known.iter().map(String::as_str)) {
                d = d.with_help(format!("did you mean {close}?"));
            }
            return Err(d.with_help(format!("known: {OVERRIDE_ANY}, {}", known.join(", "))));
        }
        if let Err(e) = ImageRef::parse(value) {
            return Err(Diagnostic::error(
                &source,
                Some(0..value.len()),
                e.to_string(),
            ));
        }
    }
    Ok(())
}

/// The image reference the request stands for, after overrides.
pub fn resolve_reference(
    source: &SourceText,
    base: &Located<BaseRequest>,
    build_args: &BTreeMap<String, String>,
) -> Result<String, Diagnostic> {
    if let Some(image) = build_args.get(OVERRIDE_ANY) {
        return Ok(image.clone());
    }
    if let Some(cuda) = &base.value.cuda {
        if cuda.value.v1 {
            let image = v1_cuda_image(&base.value.image, &cuda.value, base.value.dev);
            return match ImageRef::parse(&image) {
                Ok(_) => Ok(image),
                Err(e) => Err(Diagnostic::error(
                    source,
                    Some(cuda.span.range()),
                    format!(
                        "install.cuda(): envd v1 names NVIDIA's image after the base image, and {:?} gives no image reference ({image}: {e})",
                        base.value.image
                    ),
                )
                .with_help(format!(
                    "use base(image=\"ubuntu:22.04\") (NVIDIA's tags name ubuntu22.04), or name the image with --build-arg {OVERRIDE_ANY}=IMAGE"
                ))),
            };
        }
        return cuda_variant(source, &base.value.image, cuda, build_args);
    }
    let requested = base.value.image.as_str();
    if let Some(image) = table_image(requested, build_args) {
        return Ok(image);
    }
    // Not a table name: AIGES documents full image references in `os=`.
    if is_image_reference(requested) {
        return Ok(requested.to_string());
    }
    let names = DEFAULT_BASES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| !n.contains(CUDA_INFIX));
    let mut d = Diagnostic::error(
        source,
        Some(base.span.range()),
        format!("base(): unknown OS or image {}", quoted(requested)),
    );
    if let Some(close) = closest(requested, names.clone()) {
        d = d.with_help(format!("did you mean {close:?}?"));
    }
    Err(d.with_help(format!(
        "known names: {}; or give an image reference such as \"ubuntu:20.04\"",
        names.collect::<Vec<_>>().join(", ")
    )))
}

/// The build arg that chose the base image in place of what build.envd
/// names, if a site setting did.
pub fn chosen_by_build_arg(
    base: &Located<BaseRequest>,
    build_args: &BTreeMap<String, String>,
) -> Option<String> {
    if build_args.contains_key(OVERRIDE_ANY) {
        return Some(OVERRIDE_ANY.to_string());
    }
    let name = table_name(&base.value.image)?;
    let entry = match &base.value.cuda {
        Some(cuda) => {
            let CudaRequest { version, cudnn, .. } = &cuda.value;
            let version = table_cuda_version(name, version, cudnn, build_args)
                .unwrap_or_else(|| version.clone());
            format!("{name}{CUDA_INFIX}{version}-cudnn{cudnn}")
        }
        None => name.to_string(),
    };
    let key = override_arg(&entry);
    build_args.contains_key(&key).then_some(key)
}

/// envd v1's CUDA image: NVIDIA's, its tag naming the CUDA and cuDNN
/// versions, `devel` for a dev image (`runtime` else), and the base image
/// without its first `:` (`ubuntu:22.04` gives `ubuntu22.04`).
fn v1_cuda_image(image: &str, cuda: &CudaRequest, dev: bool) -> String {
    let flavour = if dev { "devel" } else { "runtime" };
    format!(
        "docker.io/nvidia/cuda:{}-cudnn{}-{flavour}-{}",
        cuda.version,
        cuda.cudnn,
        image.replacen(':', "", 1)
    )
}

/// Separates a table name from its CUDA variant's suffix.
const CUDA_INFIX: &str = "-cuda";

/// The table name of a base's CUDA variant, after its override; an error
/// at the `install.cuda()` call when the table has no such variant.
fn cuda_variant(
    source: &SourceText,
    requested: &str,
    cuda: &Located<CudaRequest>,
    build_args: &BTreeMap<String, String>,
) -> Result<String, Diagnostic> {
    let at = Some(cuda.span.range());
    let Some(os) = table_name(requested) else {
        return Err(Diagnostic::error(
            source,
            at,
            format!("install.cuda() selects the CUDA variant of a base table name, and base() names the image {requested:?}"),
        )
        .with_help("name a CUDA image in base() and remove install.cuda(), or use a table name such as \"ubuntu22.04\""));
    };
    let CudaRequest { version, cudnn, .. } = &cuda.value;
    if let Some(table_version) = table_cuda_version(os, version, cudnn, build_args) {
        let variant = format!("{os}{CUDA_INFIX}{table_version}-cudnn{cudnn}");
        if let Some(image) = table_image(&variant, build_args) {
            return Ok(image);
        }
    }
    let prefix = format!("{os}{CUDA_INFIX}");
    let known: Vec<&str> = DEFAULT_BASES
        .iter()
        .filter_map(|(name, _)| name.strip_prefix(&prefix))
        .collect();
    let mut d = Diagnostic::error(
        source,
        at,
        format!("the base table has no CUDA {version} with cuDNN {cudnn} image for {os}"),
    );
    d = if known.is_empty() {
        d.with_help(format!("the table has no CUDA images for {os}"))
    } else {
        d.with_help(format!("{os} has: cuda{}", known.join(", cuda")))
    };
    Err(d.with_help(format!(
        "or name your image with --build-arg {OVERRIDE_ANY}=IMAGE"
    )))
}

/// The version of the table's CUDA variant for `install.cuda(version)`:
/// the version itself when the table (or a site's override) has it; for a
/// major.minor version without one, the newest patch release of that
/// minor the table has, as envd's users wrote `version="11.2"` for it.
fn table_cuda_version(
    os: &str,
    version: &str,
    cudnn: &str,
    build_args: &BTreeMap<String, String>,
) -> Option<String> {
    let variant = |v: &str| format!("{os}{CUDA_INFIX}{v}-cudnn{cudnn}");
    if table_image(&variant(version), build_args).is_some() {
        return Some(version.to_string());
    }
    if version.split('.').count() != 2 {
        return None;
    }
    let prefix = format!("{os}{CUDA_INFIX}{version}.");
    let suffix = format!("-cudnn{cudnn}");
    DEFAULT_BASES
        .iter()
        .filter_map(|(name, _)| name.strip_prefix(&prefix)?.strip_suffix(&suffix))
        .filter_map(|patch| Some((patch.parse::<u32>().ok()?, patch)))
        .max()
        .map(|(_, patch)| format!("{version}.{patch}"))
}

/// A warning at `install.cuda()` when its major.minor version stands for
/// the table's newest patch release of it, naming that release.
pub fn cuda_version_warning(
    source: &SourceText,
    base: &Located<BaseRequest>,
    build_args: &BTreeMap<String, String>,
) -> Option<Diagnostic> {
    let cuda = base.value.cuda.as_ref()?;
    if build_args.contains_key(OVERRIDE_ANY) || cuda.value.v1 {
        return None;
    }
    let os = table_name(&base.value.image)?;
    let CudaRequest { version, cudnn, .. } = &cuda.value;
    let chosen = table_cuda_version(os, version, cudnn, build_args)?;
    (chosen != *version).then(|| {
        Diagnostic::warning(
            &lint::CUDA_VERSION_CHOSEN,
            source,
            Some(cuda.span.range()),
            format!(
                "install.cuda(version=\"{version}\") uses CUDA {chosen}, the newest {version} release in the base table"
            ),
        )
        .with_help(format!(
            "write version=\"{chosen}\" to say so; a site points {} at its own image",
            override_arg(&format!("{os}{CUDA_INFIX}{chosen}-cudnn{cudnn}"))
        ))
    })
}

/// What is unpinned about the image reference build.envd gives in
/// `base()` (not a table name, and not replaced by a site setting): no
/// tag, or `latest`. `None` when it has a version tag or a digest.
pub fn unpinned_in_file(
    base: &Located<BaseRequest>,
    build_args: &BTreeMap<String, String>,
) -> Option<&'static str> {
    let requested = base.value.image.as_str();
    if build_args.contains_key(OVERRIDE_ANY)
        || base.value.cuda.is_some()
        || table_image(requested, build_args).is_some()
        || !is_image_reference(requested)
        || requested.contains('@')
    {
        return None;
    }
    let last = requested.rsplit('/').next().unwrap_or(requested);
    match last.split_once(':') {
        None => Some("has no tag, so it means `latest`"),
        Some((_, "latest")) => Some("is tagged `latest`"),
        Some(_) => None,
    }
}

/// An image reference without its tag (`repo/name:1` -> `repo/name`).
pub fn without_tag(reference: &str) -> &str {
    let name_start = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[name_start..].find(':') {
        Some(colon) => &reference[..name_start + colon],
        None => reference,
    }
}

/// The spellings users write for table names, with the name each stands for.
pub fn base_aliases() -> &'static [(&'static str, &'static str)] {
    ALIASES
}

/// The table name `requested` stands for (itself, or the name of its alias).
pub fn table_name(requested: &str) -> Option<&'static str> {
    let name = ALIASES
        .iter()
        .find(|(alias, _)| *alias == requested)
        .map_or(requested, |(_, name)| *name);
    DEFAULT_BASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, _)| *n)
}

/// Whether a value that is not a table name is an image reference: it
/// parses as one and has a registry, tag or digest (`centos` is neither a
/// name we know nor clearly an image).
pub fn is_image_reference(value: &str) -> bool {
    value.contains(['/', ':', '@']) && ImageRef::parse(value).is_ok()
}

/// The image a table name (or its alias) stands for, after its override.
pub fn table_image(requested: &str, build_args: &BTreeMap<String, String>) -> Option<String> {
    let name = table_name(requested)?;
    let (name, image) = DEFAULT_BASES.iter().find(|(n, _)| *n == name)?;
    Some(
        build_args
            .get(&override_arg(name))
            .cloned()
            .unwrap_or_else(|| image.to_string()),
    )
}

/// A script that leaves `python` on PATH at the requested version: it is
/// used as is, linked from `python3`/`python3.X`, or installed with conda.
/// It fails with a message naming the build.envd line when none works.
pub fn ensure_python_script(request: &PythonRequest, line: usize, filename: &str) -> String {
    let want = request.version();
    let want_q = quote(&want);
    let exact = match request.minor {
        Some(minor) => format!("python{}.{minor}", request.major),
        None => format!("python{}", request.major),
    };
    format!(
        r#"set -eu
want={want_q}
have() {{ "$1" -c 'import sys; print(".".join(map(str, sys.version_info[:3])))' 2>/dev/null; }}
matches() {{ case "$1" in "$want"|"$want".*) return 0;; *) return 1;; esac; }}
if command -v python >/dev/null 2>&1 && matches "$(have python)"; then exit 0; fi
for candidate in {exact} python3; do
  if command -v "$candidate" >/dev/null 2>&1 && matches "$(have "$candidate")"; then
    if ! command -v python >/dev/null 2>&1; then ln -s "$(command -v "$candidate")" /usr/local/bin/python; exit 0; fi
  fi
done
if command -v conda >/dev/null 2>&1; then
  prefix="${{CONDA_PREFIX:-$(conda info --base)}}"
  conda install --yes --prefix "$prefix" "python=$want"
  if matches "$(have python)"; then exit 0; fi
fi
found="$(have python || true)"
echo "envd-frontend: {filename}:{line}: base() asks for Python $want, but the base image's python is ${{found:-missing}} and it has no conda to install Python $want" >&2
exit 1
"#
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_cuda_images_are_named_after_the_base() {
        let cuda = CudaRequest {
            version: "11.8.0".into(),
            cudnn: "8".into(),
            v1: true,
        };
        assert_eq!(
            v1_cuda_image("ubuntu:22.04", &cuda, false),
            "docker.io/nvidia/cuda:11.8.0-cudnn8-runtime-ubuntu22.04"
        );
        assert_eq!(
            v1_cuda_image("ubuntu:20.04", &cuda, true),
            "docker.io/nvidia/cuda:11.8.0-cudnn8-devel-ubuntu20.04"
        );
        // A reference with a registry gives none: an error at the call.
        let registry = v1_cuda_image("docker.io/library/ubuntu:22.04", &cuda, false);
        assert!(ImageRef::parse(&registry).is_err(), "{registry}");
    }

    #[test]
    fn a_cuda_minor_version_is_the_tables_newest_patch_release_and_an_exact_one_wins() {
        let none = BTreeMap::new();
        let version = |os, v, cudnn| table_cuda_version(os, v, cudnn, &none);
        assert_eq!(
            version("ubuntu22.04", "11.2", "8").as_deref(),
            Some("11.2.2")
        );
        assert_eq!(
            version("ubuntu20.04", "12.3", "9").as_deref(),
            Some("12.3.2")
        );
        assert_eq!(
            version("ubuntu22.04", "11.6.2", "8").as_deref(),
            Some("11.6.2")
        );
        // No such minor, or a cuDNN the minor lacks, or a bare major.
        assert_eq!(version("ubuntu22.04", "10.2", "7"), None);
        assert_eq!(version("ubuntu22.04", "12.3", "8"), None);
        assert_eq!(version("ubuntu22.04", "11", "8"), None);
    }
    use crate::ir::Span;

    fn request(image: &str) -> Located<BaseRequest> {
        Located {
            value: BaseRequest {
                image: image.to_string(),
                python: None,
                other_language: None,
                cuda: None,
                dev: false,
                owner: None,
            },
            span: Span {
                start: 0,
                end: 4,
                line: 1,
                called_from: vec![],
            },
        }
    }

    fn resolve(image: &str, args: &[(&str, &str)]) -> Result<String, Diagnostic> {
        let source = SourceText::new("build.envd", "base()");
        let args = args
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        resolve_reference(&source, &request(image), &args)
    }

    #[test]
    fn table_aliases_references_and_overrides() {
        assert_eq!(resolve("ubuntu20.04", &[]).unwrap(), "ubuntu:20.04");
        assert_eq!(resolve("ubuntu20.4", &[]).unwrap(), "ubuntu:20.04");
        assert_eq!(
            resolve("registry.local/aiges/base:1", &[]).unwrap(),
            "registry.local/aiges/base:1"
        );
        assert_eq!(
            resolve(
                "aiges_gpu",
                &[("ENVD_BASE_IMAGE_AIGES_GPU", "local/gpu:test")]
            )
            .unwrap(),
            "local/gpu:test"
        );
        assert_eq!(
            resolve(
                "ubuntu20.4",
                &[("ENVD_BASE_IMAGE_UBUNTU20_04", "local/u:1")]
            )
            .unwrap(),
            "local/u:1"
        );
        assert_eq!(
            resolve("aiges_cpu", &[("ENVD_BASE_IMAGE", "local/any:1")]).unwrap(),
            "local/any:1"
        );
        let err = resolve("ubunt20.04", &[]).unwrap_err();
        assert!(
            err.render().contains("did you mean \"ubuntu20.04\"?"),
            "{}",
            err.render()
        );
        assert!(resolve("centos", &[]).is_err());
    }

    #[test]
    fn the_build_arg_that_chose_the_base() {
        let args = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>()
        };
        let chosen = |image: &str, pairs: &[(&str, &str)]| {
            chosen_by_build_arg(&request(image), &args(pairs))
        };
        assert_eq!(chosen("aiges_cpu", &[]), None);
        assert_eq!(
            chosen("aiges_cpu", &[("ENVD_BASE_IMAGE_AIGES_CPU", "x/y:1")]).as_deref(),
            Some("ENVD_BASE_IMAGE_AIGES_CPU")
        );
        assert_eq!(
            chosen("ubuntu20.4", &[("ENVD_BASE_IMAGE_UBUNTU20_04", "x/y:1")]).as_deref(),
            Some("ENVD_BASE_IMAGE_UBUNTU20_04")
        );
        assert_eq!(
            chosen("x/y:1", &[("ENVD_BASE_IMAGE", "x/z:1")]).as_deref(),
            Some("ENVD_BASE_IMAGE")
        );
        assert_eq!(
            chosen("aiges_gpu", &[("ENVD_BASE_IMAGE_AIGES_CPU", "x/y:1")]),
            None
        );
    }

    #[test]
    fn override_args_are_checked() {
        let args = |k: &str, v: &str| BTreeMap::from([(k.to_string(), v.to_string())]);
        assert!(check_overrides(&args("ENVD_BASE_IMAGE_AIGES_CPU", "local/cpu:1")).is_ok());
        assert!(check_overrides(&args("OTHER", "x y")).is_ok());
        let typo = check_overrides(&args("ENVD_BASE_IMAGE_AIGES_CUP", "local/cpu:1")).unwrap_err();
        assert!(
            typo.render()
                .contains("did you mean ENVD_BASE_IMAGE_AIGES_CPU?"),
            "{}",
            typo.render()
        );
        assert!(check_overrides(&args("ENVD_BASE_IMAGE", "Not A Ref")).is_err());
        assert_eq!(override_arg("ubuntu20.04"), "ENVD_BASE_IMAGE_UBUNTU20_04");
    }

    #[test]
    fn python_script_names_the_line_and_version() {
        let script = ensure_python_script(
            &PythonRequest {
                major: 3,
                minor: Some(8),
                patch: None,
            },
            3,
            "build.envd",
        );
        assert!(script.contains("want=3.8\n"));
        assert!(script.contains("for candidate in python3.8 python3;"));
        assert!(script.contains("build.envd:3: base() asks for Python $want"));
    }

    #[test]
    fn unpinned_references_in_the_file() {
        let none = BTreeMap::new();
        let unpinned = |image: &str| unpinned_in_file(&request(image), &none);
        assert!(unpinned("registry.local/aiges").is_some());
        assert!(unpinned("registry.local:5000/aiges:latest").is_some());
        assert_eq!(unpinned("registry.local:5000/aiges:1.2"), None);
        assert_eq!(unpinned("registry.local/aiges@sha256:0123"), None);
        // Table names and site overrides are not the file's references.
        assert_eq!(unpinned("ubuntu20.04"), None);
        let site = BTreeMap::from([(OVERRIDE_ANY.to_string(), "x/y".to_string())]);
        assert_eq!(
            unpinned_in_file(&request("registry.local/aiges"), &site),
            None
        );
        assert_eq!(
            without_tag("registry.local:5000/aiges:latest"),
            "registry.local:5000/aiges"
        );
    }
}

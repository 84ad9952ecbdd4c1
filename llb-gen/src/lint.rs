//! The lint rules: every warning a build gives belongs to one, with a name
//! (as BuildKit's Dockerfile checks name theirs), a description, and its
//! section of the reference page. `--call check` lists the same findings a
//! build warns about.

/// One kind of finding.
#[derive(Debug, PartialEq, Eq)]
pub struct Rule {
    /// CamelCase, as buildx users know from the Dockerfile checks.
    pub name: &'static str,
    /// One sentence: what the rule finds.
    pub description: &'static str,
    /// Why it matters and what to write instead, for the reference page.
    pub explanation: &'static str,
}

/// The page that documents the rules, relative to the project's root.
pub const REFERENCE_PAGE: &str = "docs/build-envd-reference.md";

impl Rule {
    /// The rule's heading anchor in the reference page (the heading is the
    /// name; Markdown renderers lowercase it).
    pub fn anchor(&self) -> String {
        self.name.to_ascii_lowercase()
    }

    /// Where the rule is documented, as BuildKit's lint results carry it.
    pub fn url(&self) -> String {
        format!("{REFERENCE_PAGE}#{}", self.anchor())
    }
}

pub static BASE_IMAGE_UNPINNED: Rule = Rule {
    name: "BaseImageUnpinned",
    description: "A base image named by reference without a tag, or with `latest`",
    explanation: "The image behind `latest` changes, so the same build.envd builds a different image next month, and a cache filled on one machine does not match another. Name a version tag (`ubuntu:22.04`) or a digest.",
};

pub static RUN_INSTEAD_OF_BUILTIN: Rule = Rule {
    name: "RunInsteadOfBuiltin",
    description: "A run() command installs packages that an install builtin installs with a cache",
    explanation: "`pip install`, `apt-get install` and `conda install` in run() download everything again whenever the step reruns, and the site mirrors (`ENVD_PIP_INDEX`, `config.apt_source`, `config.conda_channel`) may not apply. `install.python_packages`, `install.system_packages` and `install.conda_packages` keep their downloads in cache mounts that variants share.",
};

pub static PIP_INDEX_INSECURE: Rule = Rule {
    name: "PipIndexInsecure",
    description: "A pip index over plain http without `trust=True`",
    explanation: "pip refuses an index over plain http unless its host is trusted, so every pip step fails with a message about the host. Give `trust=True` for a mirror you trust, or use https.",
};

pub static COPY_WHOLE_CONTEXT: Rule = Rule {
    name: "CopyWholeContext",
    description: "io.copy() copies the whole build context, and .dockerignore does not leave out .git",
    explanation: "The whole context includes the repository's history (`.git`), editor files and local data: the image grows, secrets can ship, and any change to them reruns the copy. Add a `.dockerignore` that lists `.git`, or copy the folders the service needs.",
};

pub static NO_EFFECT_IN_IMAGE: Rule = Rule {
    name: "NoEffectInImage",
    description: "A call that configures envd's interactive environment and puts nothing in an image",
    explanation: "envd used these calls for `envd up` (shells, Jupyter, mounts, GPUs of the development container). An image built from build.envd does not have them; the call is accepted so files written for envd build unchanged.",
};

pub static IGNORED_PARAMETER: Rule = Rule {
    name: "IgnoredParameter",
    description: "A parameter envd accepted that has no effect",
    explanation: "envd accepted these parameters and never implemented them, or they configure the host rather than the image (`runtime.expose`'s host port). They are accepted so files build unchanged; remove them to say what the image does.",
};

pub static DEPRECATED_ALIAS: Rule = Rule {
    name: "DeprecatedAlias",
    description: "A parameter given by a name envd 0.4 does not read",
    explanation: "`io.copy`'s parameters had other names in other envd versions: `src` and `dest` before envd 0.2 (AIGES' documents use them), `source` and `target` in envd's v1 syntax. envd 0.4's v0 syntax reads only `host_path` and `envd_path`; the other names work here, and the warning names the one to write.",
};

pub static BASE_NOT_CALLED: Rule = Rule {
    name: "BaseNotCalled",
    description: "The build function never calls base()",
    explanation: "envd then builds on its default, Ubuntu 22.04 with Python 3, which is rarely the AIGES base a service needs. Call `base(os=..., language=...)`.",
};

pub static DOWNLOAD_UNVERIFIED: Rule = Rule {
    name: "DownloadUnverified",
    description: "io.http() without a checksum",
    explanation: "Without `checksum=\"sha256:...\"` BuildKit trusts whatever the server sends and asks it again on every build. With one, a changed file fails the build and the download is cached by its content.",
};

pub static CONDA_EXPORT_PLATFORM: Rule = Rule {
    name: "CondaExportPlatform",
    description: "A conda environment file exported on Windows or macOS",
    explanation: "Build strings and some packages of such an export exist only for the platform it came from. The frontend drops the build strings and leaves out Windows-only packages, and names them; export on Linux, or with `--no-builds`, to say exactly what the image gets.",
};

pub static INVALID_BASE_IMAGE_PLATFORM: Rule = Rule {
    name: "InvalidBaseImagePlatform",
    description: "The base image is not built for the platform being built",
    explanation: "BuildKit takes a single-platform image whatever platform is asked for, so a base built for another platform gives an image labelled with the build's platform and holding the base's programs. Where the build's platform runs those programs natively (`linux/386` on `linux/amd64`, `linux/arm/v7` on `linux/arm64`, an older variant) the build goes on with this warning, as BuildKit's Dockerfile frontend warns under the same name. Where it does not (`linux/amd64` for `linux/arm64`), the build stops at `base()`: emulation would run the steps, but as the base's platform, and the result would be a mislabelled image. Use a multi-platform base, or point the base name at an image for the platform (`ENVD_BASE_IMAGE_<NAME>`). A base whose config names no platform cannot be checked, and gets this warning too.",
};

pub static SECRET_IN_BUILD_ARG: Rule = Rule {
    name: "SecretInBuildArg",
    description: "A build arg that looks like a secret: named like one, or holding a URL with a login",
    explanation: "BuildKit keeps a build's args in its history and in provenance attestations, where anyone who can read the build's records reads them. Logins for package mirrors go in the `netrc` secret (`--secret id=netrc,src=$HOME/.netrc`), which pip, conda and apt steps read and nothing stores. As BuildKit's Dockerfile check `SecretsUsedInArgOrEnv`, the rule reads names by their words (`HF_TOKEN`, `apiKey`, `DB_PASSWORD`).",
};

pub static UNKNOWN_SETTING: Rule = Rule {
    name: "UnknownSetting",
    description: "An `ENVD_*` build arg that is not one of the frontend's settings",
    explanation: "Site settings (`ENVD_PIP_INDEX`, `ENVD_CONDA_CHANNEL`, ...) are build args, and BuildKit passes any build arg on: a misspelt one would change nothing without a word, and the build would go to the file's own mirrors. The warning names the nearest setting.",
};

pub static CONDARC_KEY_IGNORED: Rule = Rule {
    name: "CondarcKeyIgnored",
    description: "A key of a `config.conda_channel` text that is no conda setting",
    explanation: "conda drops keys it does not know without a word. The AIGES process document's `.condarc` writes its `custom_channels` entries unindented, so they are top-level keys that conda ignores, and those channels come from conda's default host instead of the mirror. Indent them under `custom_channels:`.",
};

pub static EMPTY_INSTALL: Rule = Rule {
    name: "EmptyInstall",
    description: "An install call with nothing to install",
    explanation: "envd 0.4 accepted an install call with an empty list (or no arguments) and skipped it, so files that generate their package lists can end up with one. The call adds nothing to the image; remove it, or check that the list was meant to be empty.",
};

pub static CUDA_VERSION_CHOSEN: Rule = Rule {
    name: "CudaVersionChosen",
    description: "install.cuda() names a CUDA major.minor version, and the base table's newest patch release of it is used",
    explanation: "envd wrote the version into an image tag as given; NVIDIA's images are tagged with full versions (11.2.2), so envd files often say `version=\"11.2\"` for the table's 11.2 image. The build uses the newest 11.2 release the table has and says which; write the full version to choose it yourself.",
};

pub static EDITABLE_INSTALL: Rule = Rule {
    name: "EditableInstall",
    description: "A requirements file installs a folder of the build context in editable mode (`-e .`)",
    explanation: "envd ran `pip install -r` with the build context mounted for the step, so `-e .` installed the project editable, pointing at a mount the image does not keep. The image gets the folder installed as a plain package instead, which works the same until someone edits its files. To edit them in the container, copy the folder with `io.copy` and run `pip install -e` on that copy.",
};

pub static SYNTAX_HEADER_MISSING: Rule = Rule {
    name: "SyntaxHeaderMissing",
    description: "A file without `# syntax=v1` that only envd v1 accepts",
    explanation: "envd 1.x reads every file as v1; envd-frontend reads a file without the line as v0 first, as AIGES' files are, and as v1 only when v0 refuses it. Say which the file is with `# syntax=v1` on its first line (or `# syntax=aiges/envd-frontend v1`, which envd 1.x reads as v1 too), so it never depends on that guess.",
};

pub static EXPORT_DIFFERS: Rule = Rule {
    name: "ExportDiffers",
    description: "The exported Dockerfile does a step in a way that can give a different image",
    explanation: "A Dockerfile cannot say everything a BuildKit graph can. Where the export writes the nearest instruction, the warning names the step: an envd v1 `io.copy` whose source may be a folder (from an image, or a folder of the context) is a `COPY`, which puts a folder's contents at the destination, where envd v1 put the folder inside a destination that is a folder on the image. Check that step's result, or build with envd-frontend.",
};

/// Every rule, in the order the reference page lists them.
pub static RULES: &[&Rule] = &[
    &BASE_IMAGE_UNPINNED,
    &INVALID_BASE_IMAGE_PLATFORM,
    &BASE_NOT_CALLED,
    &RUN_INSTEAD_OF_BUILTIN,
    &PIP_INDEX_INSECURE,
    &SECRET_IN_BUILD_ARG,
    &UNKNOWN_SETTING,
    &COPY_WHOLE_CONTEXT,
    &DOWNLOAD_UNVERIFIED,
    &NO_EFFECT_IN_IMAGE,
    &IGNORED_PARAMETER,
    &DEPRECATED_ALIAS,
    &CONDA_EXPORT_PLATFORM,
    &CONDARC_KEY_IGNORED,
    &EMPTY_INSTALL,
    &CUDA_VERSION_CHOSEN,
    &EDITABLE_INSTALL,
    &EXPORT_DIFFERS,
    &SYNTAX_HEADER_MISSING,
];

/// The reference page's section on the rules.
pub fn reference_section() -> String {
    let mut out = String::from(
        "## Lint rules\n\n\
         Each warning a build gives belongs to one of these rules. `docker buildx build --call check`\n\
         (or, with buildx 0.13, `BUILDX_EXPERIMENTAL=1 docker buildx build --print=lint`) lists them\n\
         without building; a build shows the same findings as warnings.\n",
    );
    for rule in RULES {
        out.push_str(&format!(
            "\n### {}\n\n{}.\n\n{}\n",
            rule.name, rule.description, rule.explanation
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_camel_case() {
        let mut names: Vec<&str> = RULES.iter().map(|r| r.name).collect();
        assert!(
            names
                .iter()
                .all(|n| n.chars().all(|c| c.is_ascii_alphanumeric())
                    && n.starts_with(|c: char| c.is_ascii_uppercase()))
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), RULES.len());
    }

    #[test]
    fn url_points_at_the_heading() {
        assert_eq!(
            COPY_WHOLE_CONTEXT.url(),
            "docs/build-envd-reference.md#copywholecontext"
        );
        assert!(reference_section().contains("\n### CopyWholeContext\n"));
    }
}

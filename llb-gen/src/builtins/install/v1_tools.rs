//! envd v1's install builtins that download a language or tool
//! (`install.python`, `install.uv`, `install.go`, ...) and those that need
//! one (`install.conda_packages` needs `install.conda()`): names of the v1
//! syntax that envd-frontend does not build yet. Each fails at its call
//! saying what envd 1.x would have fetched, never silently.

not_built_in_v1!(
    SPEC,
    "install.python",
    "envd 1.x installs Python with micromamba from conda's channels"
);
not_built_in_v1!(
    CONDA,
    "install.conda",
    "envd 1.x downloads Miniconda (or micromamba with use_mamba=True)"
);
not_built_in_v1!(
    UV,
    "install.uv",
    "envd 1.x downloads uv and installs Python with it"
);
not_built_in_v1!(PIXI, "install.pixi", "envd 1.x downloads pixi");
not_built_in_v1!(
    R_LANG,
    "install.r_lang",
    "envd 1.x installs R from its apt repository"
);
not_built_in_v1!(JULIA, "install.julia", "envd 1.x downloads Julia");
not_built_in_v1!(
    RUST,
    "install.rust",
    "envd 1.x downloads rustup and installs Rust"
);
not_built_in_v1!(GO, "install.go", "envd 1.x downloads Go");
not_built_in_v1!(NODEJS, "install.nodejs", "envd 1.x downloads Node.js");
not_built_in_v1!(CODEX, "install.codex", "envd 1.x downloads OpenAI's codex");
not_built_in_v1!(
    CONDA_PACKAGES,
    "install.conda_packages",
    "envd 1.x installs them into the conda that install.conda() downloads"
);
not_built_in_v1!(
    R_PACKAGES,
    "install.r_packages",
    "envd 1.x installs them into the R of install.r_lang()"
);
not_built_in_v1!(
    JULIA_PACKAGES,
    "install.julia_packages",
    "envd 1.x installs them into the Julia of install.julia()"
);

//! envd v1's install builtins that envd-frontend does not build yet: R
//! (envd added CRAN's apt repository with a key fetched by `wget` inside
//! the step), Rust (rustup's unversioned installer script) and the package
//! installers of those languages. Each fails at its call saying what envd
//! 1.x did, never silently.

not_built_in_v1!(
    SPEC,
    "install.r_lang",
    "envd 1.x installs R from its apt repository"
);
not_built_in_v1!(
    RUST,
    "install.rust",
    "envd 1.x downloads rustup and installs Rust"
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

//! envd v1's config builtins that envd-frontend does not build yet: each
//! fails at its call saying what envd 1.x did with it, never silently.

not_built_in_v1!(
    SPEC,
    "config.owner",
    "envd 1.x owns the image's files and user by this uid and gid"
);
not_built_in_v1!(
    JUPYTER,
    "config.jupyter",
    "envd 1.x installs Jupyter into the image with pip"
);
not_built_in_v1!(
    CRAN_MIRROR,
    "config.cran_mirror",
    "envd 1.x uses it for install.r_packages, which needs install.r_lang()"
);
not_built_in_v1!(
    JULIA_PKG_SERVER,
    "config.julia_pkg_server",
    "envd 1.x stores it for Julia, which needs install.julia()"
);

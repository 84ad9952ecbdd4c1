# build.envd's names for Python editors (Pyright, Pylance): put this file in the
# folder of build.envd (or the project's root) and open build.envd as Python.
# Generated from the builtin specs of envd-frontend's llb-gen; do not edit.
from typing import Any, Dict, List, Optional

build_args: Dict[str, str]
"""The build's --build-arg values (read-only)."""
_build_context_dir: str
"""The build context, "."."""

def include(git: str) -> Any:
    """A repository of .envd files, evaluated as one module."""

def base(image: Optional[str] = ..., dev: Optional[bool] = ...) -> None:
    """
    Base image (envd v1).

    | parameter | also accepted as | positional | type | default | meaning |
    |---|---|---|---|---|---|
    | `image` |  | yes | a string | `None` | an image reference (default `ubuntu:22.04`) |
    | `dev` |  | yes | True or False | `False` | envd's development image: its user `envd` and folder, without its interactive tools |
    """

def run(commands: Optional[List[str]] = ..., mount_host: Optional[bool] = ...) -> None:
    """
    The commands of a call as one bash script (`set -euo pipefail`), a step per call.

    | parameter | also accepted as | positional | type | default | meaning |
    |---|---|---|---|---|---|
    | `commands` |  | yes | a list of strings | `[]` | shell commands, each run as its own step |
    | `mount_host` |  | yes | True or False | `False` | mount the build context at the working directory while they run |
    """

def shell(*args: Any, **kwargs: Any) -> None:
    """
    Nothing in the image (accepted with a warning): sets the shell of envd's development environment.

    It takes any arguments and reads none of them.
    """

def git_config(*args: Any, **kwargs: Any) -> None:
    """
    Nothing in the image (accepted with a warning): sets git's identity in envd's development environment.

    It takes any arguments and reads none of them.
    """

class _Install:
    def python_packages(self, name: Optional[List[str]] = ..., *, requirements: Optional[str] = ..., local_wheels: Optional[List[str]] = ...) -> None:
        """
        One `pip install` with the pip cache.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `name` |  | yes | a list of strings | `[]` | requirement specifiers (`torch==1.10`) |
        | `requirements` |  | no | a string | `None` | a requirements file in the context; nested `-r`/`-c` files are read too |
        | `local_wheels` |  | no | a list of strings | `[]` | `.whl` files in the context |
        """
    def conda_packages(self, name: Optional[List[str]] = ..., *, channel: Optional[List[str]] = ..., env_file: Optional[str] = ...) -> None:
        """
        `conda install` into install.python()'s environment, with install.conda()'s conda (envd v1).

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `name` |  | yes | a list of strings | `[]` | conda specs (`numpy=1.21`) |
        | `channel` |  | no | a list of strings | `[]` | channels, before those of the environment file |
        | `env_file` |  | no | a string | `None` | an environment file in the context (`conda env export > env.yaml`) |
        """
    def apt_packages(self, name: Optional[List[str]] = ...) -> None:
        """
        `apt-get install` with the apt caches (envd's other name).

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `name` |  | yes | a list of strings | `[]` | Debian package names, optionally `=version` or `/release` |
        """
    def r_packages(self, name: List[str]) -> None:
        """
        R packages from CRAN, with `Rscript` and a download cache.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `name` |  | yes | a list of strings | required | CRAN package names |
        """
    def julia_packages(self, name: List[str]) -> None:
        """
        Julia packages with `Pkg.add`, into the depot /opt/julia/user_packages (envd v1).

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `name` |  | yes | a list of strings | required | Julia package names |
        """
    def cuda(self, version: str, cudnn: Optional[str] = ...) -> None:
        """
        NVIDIA's CUDA image for the base image (envd v1).

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | required | CUDA version, e.g. `11.8.0` |
        | `cudnn` |  | yes | a string | `None` | cuDNN major version; `8` when not given |
        """
    def vscode_extensions(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): installs VS Code extensions for envd's development environment.

        It takes any arguments and reads none of them.
        """
    def python(self, version: Optional[str] = ...) -> None:
        """
        Python in the conda environment /opt/conda/envs/envd, by micromamba or install.conda()'s conda (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | `None` | `3.x` or `3.x.y`; `3.11` when not given |
        """
    def conda(self, use_mamba: Optional[bool] = ...) -> None:
        """
        Miniconda (or micromamba) at /opt/conda, for install.python()'s environment (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `use_mamba` |  | yes | True or False | `False` | micromamba from its image instead of Miniconda's installer |
        """
    def uv(self, python_version: Optional[str] = ...) -> None:
        """
        Uv's release into /usr/bin, and the Python `uv python install` fetches (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `python_version` |  | yes | a string | `None` | the Python uv installs; `3.11` when not given |
        """
    def pixi(self, use_pixi_mirror: Optional[bool] = ..., pypi_index: Optional[str] = ...) -> None:
        """
        Pixi's release at /usr/bin/pixi, and its mirror settings (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `use_pixi_mirror` |  | yes | True or False | `False` | take conda-forge from prefix.dev's mirror |
        | `pypi_index` |  | yes | a string | `None` | the PyPI index pixi uses |
        """
    def go(self, version: Optional[str] = ...) -> None:
        """
        Go's release at /usr/local/go, on PATH (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | `None` | the Go version; envd's 1.25.3 when not given |
        """
    def nodejs(self, version: Optional[str] = ...) -> None:
        """
        Node.js's release at /opt/nodejs, on PATH (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | `None` | the Node.js version; envd's 25.1.0 when not given |
        """
    def julia(self) -> None:
        """
        Julia 1.10.10's release at /opt/julia, on PATH (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        """
    def codex(self, version: Optional[str] = ...) -> None:
        """
        OpenAI's codex release at /usr/bin/codex (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | `None` | a release tag of openai/codex; rust-v0.98.0 when not given |
        """
    def rust(self, version: Optional[str] = ...) -> None:
        """
        Rust by rustup, CARGO_HOME /opt/rust on PATH (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `version` |  | yes | a string | `None` | the toolchain, e.g. `1.72.0`; the newest stable when not given |
        """
    def r_lang(self) -> None:
        """
        R (r-base) from CRAN's apt repository for Ubuntu (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        """

install: _Install

class _Io:
    def copy(self, source: str, target: str, *, image: Optional[str] = ...) -> None:
        """
        Copy from the build context or an image (envd v1).

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `source` |  | yes | a string | required | a file or folder in the build context, or in `image` |
        | `target` |  | yes | a string | required | an absolute path in the image |
        | `image` |  | no | a string | `None` | an image to copy from, instead of the context |
        """
    def http(self, url: str, checksum: Optional[str] = ..., filename: Optional[str] = ...) -> None:
        """
        A download checked by its checksum, into /home/envd/extra_source/.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `url` |  | yes | a string | required | an http:// or https:// URL |
        | `checksum` |  | yes | a string | `None` | `sha256:<hex>`: BuildKit fails the build if the download differs |
        | `filename` |  | yes | a string | `None` | the file's name; else the server's or the URL's |
        """

io: _Io

class _Config:
    def pip_index(self, url: str, *, extra_url: Optional[str] = ..., trust: Optional[bool] = ..., mode: Optional[str] = ...) -> None:
        """
        `/etc/pip.conf`.

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `url` |  | yes | a string | required | the index URL |
        | `extra_url` |  | no | a string | `None` | an extra index URL |
        | `trust` |  | no | True or False | `False` | trust the indexes' hosts (plain http) |
        | `mode` |  | no | a string | `None` | accepted with a warning: envd never implemented it |
        """
    def conda_channel(self, channel: str) -> None:
        """
        `/opt/conda/envs/envd/.condarc`, the environment's (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `channel` |  | yes | a string | required | the text of a .condarc (YAML) |
        """
    def apt_source(self, source: str, *, mode: Optional[str] = ...) -> None:
        """
        `/etc/apt/sources.list`.

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `source` |  | yes | a string | required | the text of sources.list |
        | `mode` |  | no | a string | `None` | accepted with a warning: envd never implemented it |
        """
    def entrypoint(self, args: Optional[List[str]] = ...) -> None:
        """
        Image Entrypoint (clears Cmd); each call adds its args.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `args` |  | yes | a list of strings | `[]` | the program and its arguments |
        """
    def repo(self, url: str, description: Optional[str] = ...) -> None:
        """
        Image labels org.opencontainers.image.source and .description.

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `url` |  | yes | a string | required | the repository's URL |
        | `description` |  | yes | a string | `None` | what the environment is for |
        """
    def cran_mirror(self, url: str) -> None:
        """
        The CRAN mirror `install.r_packages` uses.

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `url` |  | yes | a string | required | an http(s) URL |
        """
    def julia_pkg_server(self, url: str) -> None:
        """
        The Julia package server `install.julia_packages` uses.

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `url` |  | yes | a string | required | an http(s) URL |
        """
    def jupyter(self, token: Optional[str] = ..., port: Optional[int] = ...) -> None:
        """
        `pip install jupyter` (envd v1); the notebook server is envd's development environment's.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `token` |  | yes | a string | `None` | the server's token (envd's server only) |
        | `port` |  | yes | an integer | `None` | the server's port (envd's server only) |
        """
    def gpu(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): asks envd for GPUs when it runs the environment.

        It takes any arguments and reads none of them.
        """
    def shm_size(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): sets the shared memory size when envd runs the environment.

        It takes any arguments and reads none of them.
        """
    def rstudio_server(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): starts RStudio Server in envd's development environment.

        It takes any arguments and reads none of them.
        """
    def owner(self, uid: int, gid: int) -> None:
        """
        The uid and gid of base(dev=True)'s user envd (envd v1).

        It sets the image's configuration: a build calls it at most once.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `uid` |  | yes | an integer | required | the user's id |
        | `gid` |  | yes | an integer | required | the user's group id |
        """

config: _Config

class _Runtime:
    def environ(self, env: Optional[Dict[str, str]] = ..., *, extra_path: Optional[List[str]] = ...) -> None:
        """
        Image Env and PATH.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `env` |  | yes | a dict of strings | `{}` | variables to set |
        | `extra_path` |  | no | a list of strings | `[]` | absolute folders appended to PATH |
        """
    def expose(self, envd_port: int, host_port: Optional[int] = ..., service: Optional[str] = ..., listen_addr: Optional[str] = ...) -> None:
        """
        Image ExposedPorts.

        | parameter | also accepted as | positional | type | default | meaning |
        |---|---|---|---|---|---|
        | `envd_port` |  | yes | an integer | required | the TCP port the service listens on, 1 to 65535 |
        | `host_port` |  | yes | an integer | `None` | no effect on an image: the host port envd published it on |
        | `service` |  | yes | a string | `None` | no effect on an image: a name envd showed |
        | `listen_addr` |  | yes | a string | `None` | no effect on an image: the host address envd published it on |
        """
    def daemon(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): starts background commands when envd runs the environment.

        It takes any arguments and reads none of them.
        """
    def command(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): names commands for `envd exec` to run in the environment.

        It takes any arguments and reads none of them.
        """
    def mount(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): mounts a host folder when envd runs the environment.

        It takes any arguments and reads none of them.
        """
    def init(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): runs commands when envd starts the environment.

        It takes any arguments and reads none of them.
        """

runtime: _Runtime

class _Data:
    class _Path:
        huggingface: str
        dgl: str
    path: _Path
    def envd(self, *args: Any, **kwargs: Any) -> None:
        """
        Nothing in the image (accepted with a warning): an envd-managed data folder on the host, for `runtime.mount`.

        It takes any arguments and reads none of them.
        """

data: _Data

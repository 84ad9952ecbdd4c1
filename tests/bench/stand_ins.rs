//! The benchmark's stand-in frontend images (crate `envd-bench-frontends`,
//! never shipped): the floor, and the replay of envd-frontend's own graph,
//! computed here ahead of time with llb-gen and the daemon's image configs.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use envd_e2e::{Project, repo_root};
use envd_proto::prost::Message;
use llb_gen::disk::DiskContext;
use llb_gen::llb::{NetworkMode, Platform};
use llb_gen::lower::{BaseResolver, ImageConfig, ResolvedBase};
use llb_gen::{CompileOptions, compile};

pub const FLOOR_IMAGE: &str = "envd-frontend-floor:bench";
pub const REPLAY_IMAGE: &str = "envd-frontend-replay:bench";

/// Base image configs as the daemon's image store has them, in the shape
/// `ResolveImageConfig` returns them to envd-frontend.
struct DaemonImages;

impl BaseResolver for DaemonImages {
    fn resolve(&self, reference: &str, _platform: &Platform) -> Result<ResolvedBase, String> {
        let out = Command::new("docker")
            .args(["image", "inspect", reference])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).into_owned());
        }
        let inspected: serde_json::Value =
            serde_json::from_slice(&out.stdout).map_err(|e| e.to_string())?;
        let image = &inspected[0];
        let config = serde_json::json!({
            "architecture": image["Architecture"],
            "os": image["Os"],
            "config": image["Config"],
            "rootfs": {"type": "layers", "diff_ids": image["RootFS"]["Layers"]},
        });
        Ok(ResolvedBase {
            // The containerd image store's id is the digest BuildKit resolves.
            digest: image["Id"].as_str().map(str::to_string),
            config: serde_json::from_value::<ImageConfig>(config).map_err(|e| e.to_string())?,
        })
    }
}

/// Builds the replay image for `project` built with `build_args`, the way
/// the benchmark builds it through envd-frontend (`--network=host`, the
/// context sent as `context`, a daemon with merge ops).
pub fn build_replay_image(project: &Project, build_args: &[(&str, &str)]) {
    let text = std::fs::read_to_string(project.dir.join("build.envd")).unwrap();
    // The replay's definition is computed ahead (no probe); only its bytes
    // matter.
    let options = CompileOptions::default()
        .network(NetworkMode::Host)
        .build_args(
            build_args
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        );
    let files = DiskContext::new(&project.dir).unwrap();
    let compiled = compile(&text, &options, &files, &DaemonImages)
        .unwrap_or_else(|d| panic!("{}", d.render()));
    let context = Project::new("replay-image");
    std::fs::create_dir_all(context.dir.join("replay")).unwrap();
    std::fs::write(
        context.dir.join("replay/definition.pb"),
        compiled.definition.encode_to_vec(),
    )
    .unwrap();
    std::fs::write(
        context.dir.join("replay/config.json"),
        serde_json::to_vec(&compiled.lowered.config).unwrap(),
    )
    .unwrap();
    let binary = build_binary("replay-frontend");
    std::fs::copy(binary, context.dir.join("envd-frontend")).unwrap();
    context.write(
        "Dockerfile",
        "FROM scratch\n\
         LABEL moby.buildkit.frontend.network.none=\"true\"\n\
         COPY envd-frontend /bin/envd-frontend\n\
         COPY replay /replay\n\
         ENTRYPOINT [\"/bin/envd-frontend\"]\n",
    );
    docker_build(
        &context.dir.join("Dockerfile"),
        &context.dir,
        None,
        REPLAY_IMAGE,
    );
}

/// Builds the floor frontend into its image.
pub fn build_floor_image() {
    let context = Project::new("floor-image");
    std::fs::copy(
        build_binary("floor-frontend"),
        context.dir.join("envd-frontend"),
    )
    .unwrap();
    let dockerfile = repo_root().join("Dockerfile.frontend");
    docker_build(&dockerfile, &context.dir, Some("prebuilt"), FLOOR_IMAGE);
}

/// Builds a stand-in as envd-frontend's image binary is built (static,
/// the `image` profile); returns its path.
fn build_binary(bin: &str) -> std::path::PathBuf {
    let root = repo_root();
    let status = Command::new("cargo")
        .current_dir(&root)
        .env(
            "RUSTFLAGS",
            "-C target-feature=+crt-static -C relocation-model=static",
        )
        .args([
            "build",
            "--profile",
            "image",
            "-q",
            "-p",
            "envd-bench-frontends",
        ])
        .args(["--bin", bin, "--target", "x86_64-unknown-linux-gnu"])
        .status()
        .unwrap();
    assert!(status.success(), "building {bin} failed");
    root.join("target/x86_64-unknown-linux-gnu/image").join(bin)
}

fn docker_build(dockerfile: &Path, context: &Path, target: Option<&str>, tag: &str) {
    let mut cmd = Command::new("docker");
    cmd.args(["buildx", "build", "-q", "--load", "-t", tag, "-f"])
        .arg(dockerfile);
    if let Some(target) = target {
        cmd.args(["--target", target]);
    }
    // `-q` prints the image id on stdout, where the tables go.
    let status = cmd
        .arg(context)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "building {tag} failed");
}

//! Debian's `docker-registry`, serving a fresh folder on a free loopback
//! port: where a second machine or a container builder takes the frontend
//! image, the bases and a build cache from (dockerd pushes to loopback
//! registries over plain HTTP). Stopped and removed on drop.

use std::fs;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::docker;

pub struct Registry {
    child: Child,
    root: PathBuf,
    /// `127.0.0.1:PORT`.
    pub address: String,
}

impl Registry {
    pub fn start() -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let root =
            std::env::temp_dir().join(format!("envd-e2e-registry-{}-{port}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("storage")).expect("registry folder");
        let config = root.join("config.yml");
        fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
                root.join("storage").display()
            ),
        )
        .expect("registry config");
        let log = fs::File::create(root.join("registry.log")).expect("registry log");
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("docker-registry runs (scripts/e2e-setup.sh installs it)");
        // Made before the wait, so a registry that never listens is
        // stopped when the wait fails.
        let registry = Registry {
            child,
            root,
            address: format!("127.0.0.1:{port}"),
        };
        let start = Instant::now();
        while std::net::TcpStream::connect(&registry.address).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(30),
                "the registry did not listen within 30 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
        registry
    }

    /// `REGISTRY/name`.
    pub fn reference(&self, name: &str) -> String {
        format!("{}/{name}", self.address)
    }

    /// Pushes the local image `image` as `REGISTRY/image`.
    pub fn push(&self, image: &str) {
        self.push_as(image, image);
    }

    /// Pushes the local image `image` as `REGISTRY/name`.
    pub fn push_as(&self, image: &str, name: &str) -> String {
        let remote = self.reference(name);
        docker(&["tag", image, &remote]);
        docker(&["push", "-q", &remote]);
        docker(&["rmi", &remote]);
        remote
    }

    /// A multi-platform image `REGISTRY/name` (an index) of images pushed
    /// before, one per platform.
    pub fn index(&self, name: &str, manifests: &[&str]) -> String {
        let remote = self.reference(name);
        let mut create = vec!["manifest", "create", "--insecure", &remote];
        create.extend_from_slice(manifests);
        docker(&create);
        docker(&["manifest", "push", "--purge", "--insecure", &remote]);
        remote
    }

    /// The digests of the layers of the single-platform image `name`.
    pub fn layers(&self, name: &str) -> Vec<String> {
        let manifest: serde_json::Value = serde_json::from_str(&docker(&[
            "manifest",
            "inspect",
            "--insecure",
            &self.reference(name),
        ]))
        .expect("a manifest");
        manifest["layers"]
            .as_array()
            .expect("a single-platform manifest lists its layers")
            .iter()
            .map(|l| l["digest"].as_str().unwrap_or_default().to_string())
            .collect()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

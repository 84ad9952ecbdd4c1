//! A cache that travels: a build on the usual daemon exports its cache to a
//! registry, and a second, empty machine (dockerd started again on a fresh
//! data root, never beside the first, see shared ENVIRONMENT.md) builds the
//! same file from that cache without running a build.envd step; after an
//! edit, only what changed runs. Both machines share one local registry
//! (Debian's `docker-registry` on 127.0.0.1).
//!
//! The test stops the usual dockerd, so it runs alone, after the
//! end-to-end suite (scripts/test.sh), and puts that daemon back however
//! it ends.

use std::path::Path;

use envd_e2e::daemons::{OtherDaemon, docker_answers};
use envd_e2e::registry::Registry;
use envd_e2e::*;

const SYNTAX: &str = "# syntax=aiges/envd-frontend\n";
const BASE: &str = "envd-test/cpu:latest";

/// Pulls `REGISTRY/image` and names it `image`, as the first machine had it.
fn pull(registry: &Registry, image: &str) {
    let remote = format!("{}/{image}", registry.address);
    docker(&["pull", "-q", &remote]);
    docker(&["tag", &remote, image]);
}

fn build_file(extra: &str) -> String {
    format!(
        "{SYNTAX}def build():\n    base(os=\"aiges_cpu\", language=\"python3\")\n    install.python_packages(name=[\"envd-test-alpha==1.0\"])\n    io.copy(host_path=\"./service\", envd_path=\"/srv/\")\n    run(commands=[\"python /srv/service/main.py > /srv/out.txt\"])\n{extra}"
    )
}

#[test]
#[ignore = "stops the usual dockerd: run scripts/test.sh, which runs it after the end-to-end suite"]
fn the_cache_travels_to_an_empty_machine_through_a_registry() {
    require_setup();
    let registry = Registry::start();
    let index = PackageIndex::start("second-machine");
    let project = Project::new("second-machine");
    // New to every daemon, so the first machine runs its steps too.
    let nonce = nonce();
    project
        .write("build.envd", &build_file(""))
        .write("service/main.py", &format!("print('{nonce}')\n"));
    let site = [
        ("ENVD_BASE_IMAGE_AIGES_CPU", BASE),
        ("ENVD_PIP_INDEX", index.url.as_str()),
    ];
    let cache = format!("type=registry,ref={}/cache/wrapper", registry.address);
    let cache_to = format!("--cache-to={cache},mode=max");
    let cache_from = format!("--cache-from={cache}");

    let first = build(
        &project,
        "build.envd",
        "envd-e2e/travel:1",
        &site,
        &[&cache_to],
    );
    assert!(first.success, "{}", first.error_text());
    registry.push(FRONTEND_IMAGE);
    registry.push(BASE);

    // The same image store as the usual daemon (containerd's, with merge
    // and diff ops).
    let machine = OtherDaemon::start(
        Path::new("dockerd"),
        Path::new("/var/tmp/envd-e2e-second-machine"),
        r#"{"features": {"containerd-snapshotter": true}}"#,
        None,
    );
    assert!(
        docker(&["image", "ls", "-q"]).trim().is_empty(),
        "the second machine starts empty"
    );
    pull(&registry, FRONTEND_IMAGE);
    pull(&registry, BASE);

    let second = build(
        &project,
        "build.envd",
        "envd-e2e/travel:1",
        &site,
        &[&cache_from],
    );
    assert!(second.success, "{}", second.error_text());
    assert_eq!(
        second.executed(),
        Vec::<&str>::new(),
        "every build.envd step comes from the registry's cache"
    );
    assert!(
        second
            .cached()
            .contains(&"install.python_packages envd-test-alpha==1.0"),
        "{:?}",
        second.cached()
    );
    assert_eq!(
        run_in("envd-e2e/travel:1", "cat /srv/out.txt").trim(),
        nonce
    );

    // An edit: one step more. Only it runs.
    project.write(
        "build.envd",
        &build_file("    run(commands=[\"echo edited > /srv/edited.txt\"])\n"),
    );
    let edited = build(
        &project,
        "build.envd",
        "envd-e2e/travel:2",
        &site,
        &[&cache_from],
    );
    assert!(edited.success, "{}", edited.error_text());
    assert_eq!(
        edited.executed(),
        vec!["run echo edited > /srv/edited.txt"],
        "only the new step runs"
    );
    drop(machine);
    assert!(docker_answers(), "the usual dockerd is back");
}

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

use std::fs;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use envd_e2e::*;

const SYNTAX: &str = "# syntax=aiges/envd-frontend\n";
const BASE: &str = "envd-test/cpu:latest";

/// Debian's registry, serving a fresh folder on a free loopback port.
struct Registry {
    child: Child,
    root: PathBuf,
    address: String,
}

impl Registry {
    fn start() -> Registry {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let root = std::env::temp_dir().join(format!("envd-e2e-registry-{}", std::process::id()));
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
        let address = format!("127.0.0.1:{port}");
        wait_for("the registry", Duration::from_secs(30), || {
            std::net::TcpStream::connect(&address).is_ok()
        });
        Registry {
            child,
            root,
            address,
        }
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.root);
    }
}

fn wait_for(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn docker(args: &[&str]) -> String {
    let output = Command::new("docker")
        .args(args)
        .output()
        .expect("docker runs");
    assert!(
        output.status.success(),
        "docker {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn docker_answers() -> bool {
    Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The running dockerd's pid and command line.
fn running_dockerd() -> (u32, Vec<String>) {
    let pids = Command::new("pidof")
        .arg("dockerd")
        .output()
        .expect("pidof runs");
    let pids = String::from_utf8_lossy(&pids.stdout);
    let mut pids = pids.split_whitespace();
    let pid: u32 = pids
        .next()
        .and_then(|p| p.parse().ok())
        .expect("a dockerd runs");
    assert!(pids.next().is_none(), "one dockerd runs, not several");
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).expect("dockerd's command line");
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    (pid, argv)
}

fn stop_dockerd(pid: u32) {
    let status = Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill runs");
    assert!(status.success(), "cannot stop dockerd {pid}");
    wait_for("dockerd's exit", Duration::from_secs(60), || {
        !is_running(pid)
    });
}

/// Whether `pid` runs: a process that exited but was not reaped yet (its
/// parent may be gone, and init reaps when it will) is a zombie, `Z`.
fn is_running(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        // The state follows the command name, which is in parentheses.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X")
    })
}

fn start_dockerd(argv: &[String], log: &Path) {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .expect("dockerd log");
    let err = log.try_clone().expect("dockerd log");
    // `setsid -f` forks the daemon off and returns: it outlives the test,
    // as the usual daemon must.
    let started = Command::new("setsid")
        .arg("-f")
        .args(argv)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .expect("setsid runs");
    assert!(started.success(), "cannot start {}", argv.join(" "));
    wait_for("dockerd", Duration::from_secs(60), docker_answers);
}

/// The second machine: the usual dockerd stopped, another on a fresh data
/// root in its place (same socket, so `docker` talks to it). Dropping it
/// stops it, removes its data and starts the usual daemon again.
struct SecondMachine {
    usual: Vec<String>,
    root: PathBuf,
}

impl SecondMachine {
    fn start() -> SecondMachine {
        let (pid, usual) = running_dockerd();
        let root = PathBuf::from("/var/tmp/envd-e2e-second-machine");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).expect("second machine's folder");
        // The same image store as the usual daemon (containerd's, with
        // merge and diff ops).
        let config = root.join("daemon.json");
        fs::write(&config, r#"{"features": {"containerd-snapshotter": true}}"#)
            .expect("daemon.json");
        // From here on, a failure (dropping the guard) restores the usual
        // daemon.
        let machine = SecondMachine { usual, root };
        stop_dockerd(pid);
        let argv: Vec<String> = [
            "dockerd",
            "--data-root",
            &machine.root.join("data").display().to_string(),
            "--exec-root",
            &machine.root.join("exec").display().to_string(),
            "--pidfile",
            &machine.root.join("dockerd.pid").display().to_string(),
            "--config-file",
            &config.display().to_string(),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        start_dockerd(&argv, &machine.root.join("dockerd.log"));
        machine
    }
}

impl Drop for SecondMachine {
    fn drop(&mut self) {
        if let Some(pid) = fs::read_to_string(self.root.join("dockerd.pid"))
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
        {
            stop_dockerd(pid);
        }
        let _ = fs::remove_dir_all(&self.root);
        if !docker_answers() {
            start_dockerd(&self.usual, Path::new("/tmp/dockerd.log"));
        }
    }
}

/// Pushes `image` to the registry as `REGISTRY/image`.
fn push(registry: &Registry, image: &str) {
    let remote = format!("{}/{image}", registry.address);
    docker(&["tag", image, &remote]);
    docker(&["push", "-q", &remote]);
    docker(&["rmi", &remote]);
}

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
    assert!(
        is_root(),
        "this test starts and stops dockerd: run it as root"
    );
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
    push(&registry, FRONTEND_IMAGE);
    push(&registry, BASE);

    let machine = SecondMachine::start();
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

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

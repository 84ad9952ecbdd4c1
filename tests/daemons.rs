//! Another dockerd in place of the usual one, on the same socket: a second,
//! empty machine, or an older Docker. Never beside the usual daemon (a
//! second dockerd in the same network namespace deletes the first one's
//! bridge; see shared ENVIRONMENT.md). Dropping the guard stops the other
//! daemon and starts the usual one again, however the test ended; it never
//! panics, so a failing test still restores the machine.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How the usual dockerd runs, to start it again as it was.
enum Usual {
    /// Managed by systemd: `systemctl start docker`.
    Systemd,
    /// Started by hand (as scripts/e2e-setup.sh does): its command line
    /// and environment.
    Process {
        argv: Vec<String>,
        env: Vec<(OsString, OsString)>,
    },
}

/// The other daemon; see the module doc.
pub struct OtherDaemon {
    usual: Usual,
    root: PathBuf,
}

impl OtherDaemon {
    /// Stops the usual dockerd and starts `dockerd` (a program path) with
    /// its data, exec root and pidfile under `root` (emptied first), the
    /// image store `daemon_json` configures, and `PATH` as given (an older
    /// Docker's helper programs first).
    pub fn start(
        dockerd: &Path,
        root: &Path,
        daemon_json: &str,
        path: Option<&str>,
    ) -> OtherDaemon {
        assert!(is_root(), "starting and stopping dockerd needs root");
        assert!(
            !answering_root().starts_with("/var/tmp/envd-e2e-"),
            "the daemon that answers is a test's other dockerd, left running: stop it and run scripts/e2e-setup.sh docker"
        );
        let usual = usual_daemon();
        let _ = fs::remove_dir_all(root);
        fs::create_dir_all(root).expect("the other daemon's folder");
        let config = root.join("daemon.json");
        fs::write(&config, daemon_json).expect("daemon.json");
        // From here on, a failure (dropping the guard) restores the usual
        // daemon.
        let daemon = OtherDaemon {
            usual,
            root: root.to_path_buf(),
        };
        daemon.stop_usual();
        let mut argv = vec![dockerd.display().to_string()];
        for (flag, dir) in [
            ("--data-root", "data"),
            ("--exec-root", "exec"),
            ("--pidfile", "dockerd.pid"),
        ] {
            argv.push(flag.to_string());
            argv.push(root.join(dir).display().to_string());
        }
        argv.push("--config-file".to_string());
        argv.push(config.display().to_string());
        let mut env = without_test_variables(std::env::vars_os().collect());
        if let Some(path) = path {
            env.retain(|(k, _)| k != "PATH");
            env.push(("PATH".into(), path.into()));
        }
        if let Err(e) = start_detached(&argv, &env, &root.join("dockerd.log")) {
            panic!("{e}; see {}", root.join("dockerd.log").display());
        }
        daemon
    }

    /// The other daemon's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.root.join("dockerd.log")).unwrap_or_default()
    }

    fn stop_usual(&self) {
        match &self.usual {
            Usual::Systemd => {
                let stopped = Command::new("systemctl")
                    .args(["stop", "docker.socket", "docker.service"])
                    .status();
                assert!(
                    stopped.is_ok_and(|s| s.success()),
                    "systemctl stop docker failed"
                );
            }
            Usual::Process { .. } => {
                let (pid, _) = running_dockerd().expect("the usual dockerd runs");
                if let Err(e) = stop(pid) {
                    panic!("{e}");
                }
            }
        }
    }
}

impl Drop for OtherDaemon {
    fn drop(&mut self) {
        let pidfile = self.root.join("dockerd.pid");
        if let Some(pid) = fs::read_to_string(&pidfile)
            .ok()
            .and_then(|p| p.trim().parse::<u32>().ok())
            .filter(|pid| is_running(*pid))
            && let Err(e) = stop(pid)
        {
            eprintln!("the other dockerd: {e}; killing it");
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            let _ = wait_for(Duration::from_secs(30), || !is_running(pid));
        }
        // Its data are the images and cache it pulled and built: large.
        let _ = fs::remove_dir_all(&self.root);
        // The daemon that answers must be the usual one, not this one.
        if docker_answers() && !answering_root().starts_with(&self.root) {
            return;
        }
        let restarted = match &self.usual {
            Usual::Systemd => Command::new("systemctl")
                .args(["start", "docker.service"])
                .status()
                .map_err(|e| e.to_string())
                .and_then(|s| {
                    if s.success() {
                        wait_for(Duration::from_secs(60), docker_answers)
                            .map_err(|_| "docker did not answer after systemctl start".to_string())
                    } else {
                        Err("systemctl start docker failed".to_string())
                    }
                }),
            Usual::Process { argv, env } => start_detached(
                argv,
                &without_test_variables(env.clone()),
                Path::new("/tmp/dockerd.log"),
            ),
        };
        if let Err(e) = restarted {
            eprintln!(
                "could not start the usual dockerd again ({e}): run scripts/e2e-setup.sh docker"
            );
        }
    }
}

/// An environment without what `cargo test` sets (`CARGO_*`, `RUST_*`,
/// `LD_LIBRARY_PATH` into the target folder, ...), which a daemon would
/// pass on to everything it runs.
fn without_test_variables(env: Vec<(OsString, OsString)>) -> Vec<(OsString, OsString)> {
    env.into_iter()
        .filter(|(key, _)| {
            let key = key.to_string_lossy();
            !["CARGO", "RUST", "LD_", "INSTA_", "OUT_DIR"]
                .iter()
                .any(|prefix| key.starts_with(prefix))
        })
        .collect()
}

fn usual_daemon() -> Usual {
    let systemd = Command::new("systemctl")
        .args(["is-active", "--quiet", "docker.service"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if systemd {
        return Usual::Systemd;
    }
    let (pid, argv) = running_dockerd().expect("the usual dockerd runs");
    let env = fs::read(format!("/proc/{pid}/environ"))
        .unwrap_or_default()
        .split(|b| *b == 0)
        .filter_map(|entry| {
            let entry = String::from_utf8_lossy(entry);
            let (k, v) = entry.split_once('=')?;
            Some((OsString::from(k), OsString::from(v)))
        })
        .collect();
    Usual::Process { argv, env }
}

/// The running dockerd's pid and command line.
fn running_dockerd() -> Result<(u32, Vec<String>), String> {
    let pids = Command::new("pidof")
        .arg("dockerd")
        .output()
        .map_err(|e| format!("pidof: {e}"))?;
    let pids: Vec<u32> = String::from_utf8_lossy(&pids.stdout)
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .filter(|pid| is_running(*pid))
        .collect();
    let [pid] = pids.as_slice() else {
        return Err(format!("expected one running dockerd, found {pids:?}"));
    };
    let cmdline = fs::read(format!("/proc/{pid}/cmdline"))
        .map_err(|e| format!("dockerd's command line: {e}"))?;
    let argv = cmdline
        .split(|b| *b == 0)
        .filter(|a| !a.is_empty())
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    Ok((*pid, argv))
}

/// Stops a daemon and waits for it to exit.
fn stop(pid: u32) -> Result<(), String> {
    let killed = Command::new("kill")
        .arg(pid.to_string())
        .status()
        .map_err(|e| format!("kill: {e}"))?;
    if !killed.success() && is_running(pid) {
        return Err(format!("cannot stop dockerd {pid}"));
    }
    wait_for(Duration::from_secs(60), || !is_running(pid))
        .map_err(|_| format!("dockerd {pid} did not exit within 60 s"))
}

/// Starts a daemon in its own session, outliving this process (`setsid
/// -f` forks it off and returns), and waits until `docker` answers.
fn start_detached(argv: &[String], env: &[(OsString, OsString)], log: &Path) -> Result<(), String> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let err = log.try_clone().map_err(|e| e.to_string())?;
    // In `/`: a daemon keeps its working directory, and what it runs
    // (BuildKit's git) fails once that folder is deleted, as a test's
    // checkout is.
    let started = Command::new("setsid")
        .arg("-f")
        .args(argv)
        .current_dir("/")
        .env_clear()
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        .status()
        .map_err(|e| format!("setsid: {e}"))?;
    if !started.success() {
        return Err(format!("cannot start {}", argv.join(" ")));
    }
    wait_for(Duration::from_secs(60), docker_answers)
        .map_err(|_| format!("{} did not answer within 60 s", argv.join(" ")))
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

/// The data root of the daemon that answers (empty when none does).
fn answering_root() -> PathBuf {
    Command::new("docker")
        .args(["info", "--format", "{{.DockerRootDir}}"])
        .output()
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()))
        .unwrap_or_default()
}

pub fn docker_answers() -> bool {
    Command::new("docker")
        .arg("info")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn wait_for(limit: Duration, mut ready: impl FnMut() -> bool) -> Result<(), ()> {
    let start = Instant::now();
    while !ready() {
        if start.elapsed() > limit {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

//! `llb-gen lsp` driven through a scripted JSON-RPC session, as an editor
//! drives it: initialize, open a file with a misspelt builtin, complete,
//! hover, fix the file, shut down.

// Test helpers panic on failures; that is how they report them.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{Value, json};

struct Session {
    child: Child,
    stdin: ChildStdin,
    messages: mpsc::Receiver<Value>,
    next_id: u64,
}

/// Reads LSP frames (`Content-Length: N` then N bytes of JSON).
fn read_frames(stdout: ChildStdout, sender: mpsc::Sender<Value>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).unwrap_or(0) == 0 {
                return;
            }
            let header = header.trim();
            if header.is_empty() {
                break;
            }
            if let Some(n) = header.strip_prefix("Content-Length: ") {
                length = n.parse::<usize>().ok();
            }
        }
        let mut body = vec![0; length.unwrap()];
        reader.read_exact(&mut body).unwrap();
        if sender.send(serde_json::from_slice(&body).unwrap()).is_err() {
            return;
        }
    }
}

impl Session {
    fn start() -> Session {
        let mut child = Command::new(env!("CARGO_BIN_EXE_llb-gen"))
            .arg("lsp")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, messages) = mpsc::channel();
        std::thread::spawn(move || read_frames(stdout, sender));
        Session {
            child,
            stdin,
            messages,
            next_id: 1,
        }
    }

    fn send(&mut self, message: Value) {
        let body = message.to_string();
        write!(self.stdin, "Content-Length: {}\r\n\r\n{body}", body.len()).unwrap();
        self.stdin.flush().unwrap();
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and returns its result.
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        self.send(json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        loop {
            let message = self.receive();
            if message["id"] == json!(id) {
                assert!(message.get("error").is_none(), "{message}");
                return message["result"].clone();
            }
        }
    }

    fn receive(&self) -> Value {
        self.messages
            .recv_timeout(Duration::from_secs(10))
            .expect("the server answers within 10 s")
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics_for(&self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.receive();
            if message["method"] == "textDocument/publishDiagnostics"
                && message["params"]["uri"] == uri
            {
                return message["params"]["diagnostics"].as_array().unwrap().clone();
            }
        }
    }
}

fn project(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("lsp-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn an_editor_session() {
    let dir = project("session");
    let path = dir.join("build.envd");
    let uri = format!("file://{}", path.display());
    let misspelt = "def build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    install.pyton_packages(name=[\"six\"])\n";
    std::fs::write(&path, misspelt).unwrap();

    let mut session = Session::start();
    let init = session.request(
        "initialize",
        json!({"processId": null, "rootUri": null, "capabilities": {}}),
    );
    assert_eq!(init["capabilities"]["hoverProvider"], true);
    session.notify("initialized", json!({}));

    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "starlark", "version": 1, "text": misspelt}}),
    );
    let diagnostics = session.diagnostics_for(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    let d = &diagnostics[0];
    assert_eq!(d["severity"], 1);
    assert_eq!(d["range"]["start"]["line"], 2, "{d}");
    let message = d["message"].as_str().unwrap();
    assert!(
        message.contains("install.pyton_packages") && message.contains("install.python_packages"),
        "the same message as the build, with the suggestion: {message}"
    );

    // Completion after `install.` lists every install builtin of v0.
    let items = session.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 12}}),
    );
    let labels: Vec<&str> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["label"].as_str().unwrap())
        .collect();
    let install: Vec<&str> = llb_gen::builtins::of_syntax(llb_gen::ir::Syntax::V0)
        .filter_map(|s| s.name.strip_prefix("install."))
        .collect();
    assert_eq!(labels, install);

    // A valid file: io.copy to hover on, and the diagnostics clear.
    let valid = "def build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    io.copy(host_path=\"build.envd\", envd_path=\"/srv/\")\n";
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": valid}]}),
    );
    assert_eq!(session.diagnostics_for(&uri), Vec::<Value>::new());
    let hover = session.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 2, "character": 8}}),
    );
    let shown = hover["contents"]["value"].as_str().unwrap();
    assert!(
        shown.contains("io.copy(host_path, envd_path)") && shown.contains("| `envd_path` |"),
        "{shown}"
    );

    assert_eq!(session.request("shutdown", Value::Null), Value::Null);
    session.notify("exit", Value::Null);
    let status = session.child.wait().unwrap();
    assert!(status.success());
}

#[test]
fn files_the_build_reads_are_read_beside_it() {
    let dir = project("beside");
    let path = dir.join("build.envd");
    let uri = format!("file://{}", path.display());
    let text = "def build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    install.python_packages(requirements=\"requirements.txt\")\n";
    std::fs::write(&path, text).unwrap();
    let mut session = Session::start();
    session.request("initialize", json!({"capabilities": {}}));
    session.notify("initialized", json!({}));
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "starlark", "version": 1, "text": text}}),
    );
    // Missing: reported at the call, as a build reports it.
    let missing = session.diagnostics_for(&uri);
    assert_eq!(missing.len(), 1, "{missing:?}");
    assert_eq!(missing[0]["range"]["start"]["line"], 2);

    // A bad line in the file itself is reported in that file.
    std::fs::write(dir.join("requirements.txt"), "six\nnot a requirement !!\n").unwrap();
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": text}]}),
    );
    let requirements = format!("file://{}", dir.join("requirements.txt").display());
    let in_file = session.diagnostics_for(&requirements);
    assert_eq!(in_file.len(), 1, "{in_file:?}");
    assert_eq!(in_file[0]["range"]["start"]["line"], 1);

    // Fixing that file and saving it clears its diagnostics.
    std::fs::write(
        dir.join("requirements.txt"),
        "six
",
    )
    .unwrap();
    session.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": requirements}}),
    );
    assert_eq!(session.diagnostics_for(&requirements), Vec::<Value>::new());
    session.request("shutdown", Value::Null);
    session.notify("exit", Value::Null);
    session.child.wait().unwrap();
}

impl Session {
    /// The next message with `method`, skipping others.
    fn next(&self, method: &str) -> Value {
        loop {
            let message = self.receive();
            if message["method"] == method {
                return message;
            }
        }
    }

    /// The next diagnostics published for `uri`: the whole params (with
    /// the version they are for).
    fn published_for(&self, uri: &str) -> Value {
        loop {
            let message = self.next("textDocument/publishDiagnostics");
            if message["params"]["uri"] == uri {
                return message["params"].clone();
            }
        }
    }

    fn stop(mut self) {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        assert!(self.child.wait().unwrap().success());
    }
}

#[test]
fn changes_are_edits_at_versions_and_late_ones_are_dropped() {
    let dir = project("versions");
    let path = dir.join("build.envd");
    let uri = format!("file://{}", path.display());
    let misspelt = "def build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    install.pyton_packages(name=[\"six\"])\n";
    let mut session = Session::start();
    let init = session.request("initialize", json!({"capabilities": {}}));
    assert_eq!(init["capabilities"]["textDocumentSync"], 2);
    session.notify("initialized", json!({}));
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "starlark", "version": 1, "text": misspelt}}),
    );
    let opened = session.published_for(&uri);
    assert_eq!(opened["version"], 1);
    assert_eq!(opened["diagnostics"].as_array().unwrap().len(), 1);

    // Version 3 inserts the missing `h` (line 2, after `install.pyt`).
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [
            {"range": {"start": {"line": 2, "character": 15}, "end": {"line": 2, "character": 15}}, "text": "h"}
        ]}),
    );
    let fixed = session.published_for(&uri);
    assert_eq!(fixed["version"], 3);
    assert_eq!(fixed["diagnostics"], json!([]), "{fixed}");

    // Version 2 arrives late, as Helix sent it: dropped, so the save
    // after it checks version 3's text.
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": misspelt}]}),
    );
    session.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let saved = session.published_for(&uri);
    assert_eq!(saved["version"], 3);
    assert_eq!(saved["diagnostics"], json!([]), "{saved}");

    // A range past the end of the document is an error the editor shows;
    // the text stays as it was.
    session.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 4}, "contentChanges": [
            {"range": {"start": {"line": 40, "character": 0}, "end": {"line": 40, "character": 0}}, "text": "x"}
        ]}),
    );
    let shown = session.next("window/showMessage");
    assert_eq!(shown["params"]["type"], 1);
    let message = shown["params"]["message"].as_str().unwrap();
    assert!(message.contains("outside the document"), "{message}");
    session.notify(
        "textDocument/didSave",
        json!({"textDocument": {"uri": uri}}),
    );
    let after = session.published_for(&uri);
    assert_eq!(after["version"], 3);
    assert_eq!(after["diagnostics"], json!([]), "{after}");
    session.stop();
}

#[test]
fn files_the_build_reads_are_watched_and_a_fix_there_clears_them() {
    let dir = project("watched");
    let path = dir.join("build.envd");
    let uri = format!("file://{}", path.display());
    let requirements = dir.join("requirements.txt");
    let requirements_uri = format!("file://{}", requirements.display());
    let text = "def build():\n    base(os=\"aiges_cpu\", language=\"python3.8\")\n    install.python_packages(requirements=\"requirements.txt\")\n";
    std::fs::write(&path, text).unwrap();
    std::fs::write(&requirements, "six\nnot a requirement !!\n").unwrap();
    let mut session = Session::start();
    session.request(
        "initialize",
        json!({"capabilities": {"workspace": {"didChangeWatchedFiles": {"dynamicRegistration": true}}}}),
    );
    session.notify("initialized", json!({}));
    session.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "starlark", "version": 1, "text": text}}),
    );
    let in_file = session.published_for(&requirements_uri);
    assert_eq!(in_file["diagnostics"].as_array().unwrap().len(), 1);
    // The file is not open in the editor: no version.
    assert!(in_file.get("version").is_none(), "{in_file}");
    let register = session.next("client/registerCapability");
    let watchers = &register["params"]["registrations"][0]["registerOptions"]["watchers"];
    let patterns: Vec<&str> = watchers
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["globPattern"].as_str().unwrap())
        .collect();
    assert!(
        patterns.contains(&requirements.to_str().unwrap()),
        "{patterns:?}"
    );
    // The editor acknowledges the registration.
    let id = register["id"].clone();
    session.send(json!({"jsonrpc": "2.0", "id": id, "result": null}));

    // Fixed and saved in another program: the editor reports the change.
    std::fs::write(&requirements, "six\n").unwrap();
    session.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": requirements_uri, "type": 2}]}),
    );
    let cleared = session.published_for(&requirements_uri);
    assert_eq!(cleared["diagnostics"], json!([]), "{cleared}");
    session.stop();
}

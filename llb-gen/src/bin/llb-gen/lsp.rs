//! `llb-gen lsp`: a language server over stdio (lsp-server's transport)
//! for build.envd. The answers are `llb_gen::language_server`'s; this file keeps
//! the open documents and routes requests and notifications.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, Response};
use serde_json::{Value, json};

use llb_gen::language_server;

/// Serves one editor until it shuts the server down.
pub fn serve() -> anyhow::Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = json!({
        // Whole documents on every change.
        "textDocumentSync": 1,
        "completionProvider": {"triggerCharacters": [".", "(", ",", "\""]},
        "hoverProvider": true,
        "signatureHelpProvider": {"triggerCharacters": ["(", ","]},
        "definitionProvider": true,
    });
    connection.initialize(capabilities)?;
    let probe = std::env::current_exe().ok();
    let mut server = Server {
        documents: BTreeMap::new(),
        published: BTreeMap::new(),
        probe,
    };
    for message in &connection.receiver {
        match message {
            Message::Request(request) => {
                if connection.handle_shutdown(&request)? {
                    break;
                }
                let response = server.answer(request);
                connection.sender.send(Message::Response(response))?;
            }
            Message::Notification(notification) => {
                for publish in server.notified(notification) {
                    connection.sender.send(Message::Notification(publish))?;
                }
            }
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join()?;
    Ok(())
}

struct Server {
    /// Open documents by URI.
    documents: BTreeMap<String, String>,
    /// Files each document's diagnostics were published for, so fixed
    /// ones are cleared.
    published: BTreeMap<String, Vec<String>>,
    probe: Option<PathBuf>,
}

impl Server {
    fn answer(&self, request: Request) -> Response {
        let at = |params: &Value| -> Option<(&String, usize)> {
            let uri = params["textDocument"]["uri"].as_str()?;
            let text = self.documents.get(uri)?;
            let line = params["position"]["line"].as_u64()?;
            let character = params["position"]["character"].as_u64()?;
            let offset = language_server::offset_of(
                text,
                usize::try_from(line).ok()?,
                usize::try_from(character).ok()?,
            );
            Some((text, offset))
        };
        let result = match (request.method.as_str(), at(&request.params)) {
            ("textDocument/completion", Some((text, offset))) => {
                json!(language_server::completion(text, offset))
            }
            ("textDocument/hover", Some((text, offset))) => {
                json!(language_server::hover(text, offset))
            }
            ("textDocument/signatureHelp", Some((text, offset))) => {
                json!(language_server::signature_help(text, offset))
            }
            ("textDocument/definition", Some((text, offset))) => {
                let uri = &request.params["textDocument"]["uri"];
                json!(
                    language_server::definition(text, offset)
                        .map(|range| json!({"uri": uri, "range": range}))
                )
            }
            (
                "textDocument/completion"
                | "textDocument/hover"
                | "textDocument/signatureHelp"
                | "textDocument/definition",
                None,
            ) => Value::Null,
            (method, _) => {
                return Response::new_err(
                    request.id,
                    lsp_server::ErrorCode::MethodNotFound as i32,
                    format!("llb-gen lsp does not answer {method}"),
                );
            }
        };
        Response::new_ok(request.id, result)
    }

    /// Keeps documents current; returns the diagnostics to publish.
    fn notified(&mut self, notification: Notification) -> Vec<Notification> {
        let params = &notification.params;
        let Some(uri) = params["textDocument"]["uri"].as_str().map(str::to_string) else {
            return vec![];
        };
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                self.documents.insert(uri.clone(), text.to_string());
            }
            "textDocument/didChange" => {
                // Full sync: the last change is the whole text.
                let changes = params["contentChanges"].as_array();
                if let Some(text) = changes
                    .and_then(|c| c.last())
                    .and_then(|c| c["text"].as_str())
                {
                    self.documents.insert(uri.clone(), text.to_string());
                }
            }
            "textDocument/didClose" => {
                self.documents.remove(&uri);
                let cleared = self.published.remove(&uri).unwrap_or_default();
                return cleared
                    .into_iter()
                    .map(|file| publish(&file, vec![]))
                    .collect();
            }
            "textDocument/didSave" => {}
            _ => return vec![],
        }
        if build_file(&uri).is_some() {
            return self.check(uri);
        }
        // Another file (a requirements file, env.yaml): the build files open
        // in its folder read it from disk, so check them again.
        let folder = path_of(&uri).and_then(|p| p.parent().map(Path::to_path_buf));
        let affected: Vec<String> = self
            .documents
            .keys()
            .filter(|open| {
                build_file(open).is_some_and(|p| p.parent().map(Path::to_path_buf) == folder)
            })
            .cloned()
            .collect();
        affected
            .into_iter()
            .flat_map(|open| self.check(open))
            .collect()
    }

    /// Compiles open build file `uri`; returns its diagnostics to publish,
    /// and empty lists for files whose problems are gone.
    fn check(&mut self, uri: String) -> Vec<Notification> {
        let Some(path) = build_file(&uri) else {
            return vec![];
        };
        let text = self.documents.get(&uri).cloned().unwrap_or_default();
        let found = language_server::diagnostics(&path, &text, self.probe.clone());
        let files: Vec<String> = found.keys().map(|p| uri_of(p)).collect();
        let mut out: Vec<Notification> = self
            .published
            .insert(uri, files.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|old| !files.contains(old))
            .map(|old| publish(&old, vec![]))
            .collect();
        out.extend(
            found
                .into_iter()
                .map(|(file, diagnostics)| publish(&uri_of(&file), diagnostics)),
        );
        out
    }
}

/// The path of a build file's URI (`.envd`); `None` for other files, which
/// are not compiled.
fn build_file(uri: &str) -> Option<PathBuf> {
    path_of(uri).filter(|p| p.extension().is_some_and(|e| e == "envd"))
}

fn publish(uri: &str, diagnostics: Vec<Value>) -> Notification {
    Notification::new(
        "textDocument/publishDiagnostics".to_string(),
        json!({"uri": uri, "diagnostics": diagnostics}),
    )
}

/// The file a `file://` URI names (percent-escapes decoded).
fn path_of(uri: &str) -> Option<PathBuf> {
    let path = uri.strip_prefix("file://")?;
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1..i + 3)) {
            (b'%', Some(hex)) => {
                let byte = std::str::from_utf8(hex)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())?;
                decoded.push(byte);
                i += 3;
            }
            (b, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    Some(PathBuf::from(String::from_utf8(decoded).ok()?))
}

/// The `file://` URI of a path, escaping what URIs cannot hold.
fn uri_of(path: &Path) -> String {
    let mut uri = String::from("file://");
    for b in path.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_paths_round_trip() {
        let path = Path::new("/work/My Service/build.envd");
        let uri = uri_of(path);
        assert_eq!(uri, "file:///work/My%20Service/build.envd");
        assert_eq!(path_of(&uri).as_deref(), Some(path));
        assert_eq!(path_of("untitled:1"), None);
    }
}

//! `llb-gen lsp`: a language server over stdio (lsp-server's transport)
//! for build.envd. The answers are `llb_gen::language_server`'s; this file
//! keeps the open documents at their versions, routes requests and
//! notifications, and asks the editor to watch the files each build reads.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use lsp_server::{Connection, Message, Notification, Request, RequestId, Response};
use serde_json::{Value, json};

use llb_gen::language_server;

/// Serves one editor until it shuts the server down.
pub fn serve() -> anyhow::Result<()> {
    let (connection, io_threads) = Connection::stdio();
    let capabilities = json!({
        // Changes as edits of ranges (or whole texts).
        "textDocumentSync": 2,
        "completionProvider": {"triggerCharacters": [".", "(", ",", "\""]},
        "hoverProvider": true,
        "signatureHelpProvider": {"triggerCharacters": ["(", ","]},
        "definitionProvider": true,
    });
    let initialize = connection.initialize(capabilities)?;
    let watches = initialize["capabilities"]["workspace"]["didChangeWatchedFiles"]["dynamicRegistration"]
        == json!(true);
    let probe = std::env::current_exe().ok();
    let mut server = Server {
        documents: BTreeMap::new(),
        published: BTreeMap::new(),
        watched: BTreeMap::new(),
        watches,
        next_request: 0,
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
                for message in server.notified(notification) {
                    connection.sender.send(message)?;
                }
            }
            // The editor's answers to our registrations.
            Message::Response(_) => {}
        }
    }
    drop(connection);
    io_threads.join()?;
    Ok(())
}

struct Server {
    /// Open documents by URI.
    documents: BTreeMap<String, Document>,
    /// Files each document's diagnostics were published for, so fixed
    /// ones are cleared.
    published: BTreeMap<String, Vec<String>>,
    /// The files each open build file's last compile read, watched.
    watched: BTreeMap<String, Vec<PathBuf>>,
    /// The editor watches files for us (dynamic registration).
    watches: bool,
    next_request: u64,
    probe: Option<PathBuf>,
}

struct Document {
    text: String,
    /// The editor's version of the text; changes to older versions, which
    /// an editor may deliver late, are dropped.
    version: Option<i64>,
}

impl Server {
    fn answer(&self, request: Request) -> Response {
        let at = |params: &Value| -> Option<(&String, usize)> {
            let uri = params["textDocument"]["uri"].as_str()?;
            let text = &self.documents.get(uri)?.text;
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

    /// Keeps documents current; returns the messages to send: diagnostics
    /// to publish, watch registrations, errors to show.
    fn notified(&mut self, notification: Notification) -> Vec<Message> {
        let params = &notification.params;
        if notification.method == "workspace/didChangeWatchedFiles" {
            let changed: Vec<PathBuf> = params["changes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|change| path_of(change["uri"].as_str()?))
                .collect();
            return self.recheck_readers_of(&changed);
        }
        let Some(uri) = params["textDocument"]["uri"].as_str().map(str::to_string) else {
            return vec![];
        };
        let version = params["textDocument"]["version"].as_i64();
        match notification.method.as_str() {
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default();
                let text = text.to_string();
                self.documents
                    .insert(uri.clone(), Document { text, version });
            }
            "textDocument/didChange" => {
                let Some(document) = self.documents.get_mut(&uri) else {
                    return vec![show_error(&format!("a change to {uri}, which is not open"))];
                };
                if let (Some(held), Some(new)) = (document.version, version)
                    && new <= held
                {
                    // Older than what we hold: a late delivery.
                    return vec![];
                }
                let changes = params["contentChanges"].as_array().cloned();
                match apply_changes(&document.text, changes.iter().flatten()) {
                    Ok(text) => {
                        document.text = text;
                        document.version = version;
                    }
                    Err(why) => {
                        return vec![show_error(&format!(
                            "cannot apply a change to {uri}: {why}; close and reopen the file"
                        ))];
                    }
                }
            }
            "textDocument/didClose" => {
                self.documents.remove(&uri);
                let mut out = self.unwatch(&uri);
                let cleared = self.published.remove(&uri).unwrap_or_default();
                out.extend(
                    cleared
                        .into_iter()
                        .map(|file| Message::Notification(publish(&file, None, vec![]))),
                );
                return out;
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

    /// Checks again the open build files whose last compile read one of
    /// `changed`.
    fn recheck_readers_of(&mut self, changed: &[PathBuf]) -> Vec<Message> {
        let readers: Vec<String> = self
            .watched
            .iter()
            .filter(|(_, reads)| reads.iter().any(|read| changed.contains(read)))
            .map(|(uri, _)| uri.clone())
            .collect();
        readers
            .into_iter()
            .flat_map(|uri| self.check(uri))
            .collect()
    }

    /// A request to the editor, with an id of ours.
    fn request(&mut self, method: &str, params: Value) -> Message {
        self.next_request += 1;
        let id = RequestId::from(format!("llb-gen-{}", self.next_request));
        Message::Request(Request::new(id, method.to_string(), params))
    }

    /// Stops watching what `uri`'s compile read.
    fn unwatch(&mut self, uri: &str) -> Vec<Message> {
        if self.watched.remove(uri).is_none() {
            return vec![];
        }
        let unregister = json!({"unregisterations": [
            {"id": watch_id(uri), "method": "workspace/didChangeWatchedFiles"}
        ]});
        vec![self.request("client/unregisterCapability", unregister)]
    }

    /// Watches the files `uri`'s compile read, when they changed.
    fn watch(&mut self, uri: &str, reads: Vec<PathBuf>) -> Vec<Message> {
        if !self.watches || self.watched.get(uri) == Some(&reads) {
            return vec![];
        }
        let mut out = self.unwatch(uri);
        let watchers: Vec<Value> = reads
            .iter()
            .map(|path| json!({"globPattern": path.to_string_lossy()}))
            .collect();
        let register = json!({"registrations": [{
            "id": watch_id(uri),
            "method": "workspace/didChangeWatchedFiles",
            "registerOptions": {"watchers": watchers},
        }]});
        out.push(self.request("client/registerCapability", register));
        self.watched.insert(uri.to_string(), reads);
        out
    }

    /// Compiles open build file `uri`; returns its diagnostics to publish,
    /// and empty lists for files whose problems are gone.
    fn check(&mut self, uri: String) -> Vec<Message> {
        let Some(path) = build_file(&uri) else {
            return vec![];
        };
        let Some(text) = self.documents.get(&uri).map(|d| d.text.clone()) else {
            return vec![];
        };
        let checked = language_server::diagnostics(&path, &text, self.probe.clone());
        let files: Vec<String> = checked.diagnostics.keys().map(|p| uri_of(p)).collect();
        let cleared: Vec<String> = self
            .published
            .insert(uri.clone(), files.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|old| !files.contains(old))
            .collect();
        // Only the build file's text is the editor's; the files it reads
        // were read from disk, whatever the editor holds of them.
        let version_of = |file: &str| {
            (file == uri)
                .then(|| self.documents.get(file).and_then(|d| d.version))
                .flatten()
        };
        let mut out: Vec<Message> = cleared
            .iter()
            .map(|old| Message::Notification(publish(old, version_of(old), vec![])))
            .collect();
        for (file, diagnostics) in checked.diagnostics {
            let file = uri_of(&file);
            let version = version_of(&file);
            out.push(Message::Notification(publish(&file, version, diagnostics)));
        }
        out.extend(self.watch(&uri, checked.reads));
        out
    }
}

/// The path of a build file's URI (`.envd`); `None` for other files, which
/// are not compiled.
fn build_file(uri: &str) -> Option<PathBuf> {
    path_of(uri).filter(|p| p.extension().is_some_and(|e| e == "envd"))
}

/// Diagnostics for `uri`, with the version of the text they are for when
/// the editor has it open.
fn publish(uri: &str, version: Option<i64>, diagnostics: Vec<Value>) -> Notification {
    let mut params = json!({"uri": uri, "diagnostics": diagnostics});
    if let Some(version) = version {
        params["version"] = json!(version);
    }
    Notification::new("textDocument/publishDiagnostics".to_string(), params)
}

/// An error the editor shows its user.
fn show_error(message: &str) -> Message {
    Message::Notification(Notification::new(
        "window/showMessage".to_string(),
        json!({"type": 1, "message": format!("llb-gen lsp: {message}")}),
    ))
}

/// The registration id of the watch on what `uri`'s compile reads.
fn watch_id(uri: &str) -> String {
    format!("watch {uri}")
}

/// The text after `changes`, in order: a change with a range edits it, one
/// without replaces it.
fn apply_changes<'a>(
    text: &str,
    changes: impl Iterator<Item = &'a Value>,
) -> Result<String, String> {
    let mut text = text.to_string();
    for change in changes {
        let new = change["text"].as_str().ok_or("a change without its text")?;
        let range = &change["range"];
        if range.is_null() {
            text = new.to_string();
            continue;
        }
        let position = |at: &Value| -> Result<(usize, usize), String> {
            let number = |v: &Value| v.as_u64().and_then(|n| usize::try_from(n).ok());
            match (number(&at["line"]), number(&at["character"])) {
                (Some(line), Some(character)) => Ok((line, character)),
                _ => Err(format!("a change with a malformed range {range}")),
            }
        };
        text = language_server::apply_edit(
            &text,
            position(&range["start"])?,
            position(&range["end"])?,
            new,
        )?;
    }
    Ok(text)
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

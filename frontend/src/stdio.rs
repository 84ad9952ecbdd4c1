//! The gRPC channel to BuildKit over the process's stdin and stdout: the
//! frontend is the client, the connection is made once.
//!
//! BuildKit gives the frontend pipes. They are registered with tokio's
//! reactor as non-blocking pipes rather than read through `tokio::io::stdin`,
//! whose reads and writes each need a thread of their own: the frontend's
//! container refuses threads past the first few, and a write waiting for a
//! thread while a read holds one deadlocks the conversation.

use std::fs::File;
use std::io;
use std::os::fd::AsFd;
use std::sync::{Arc, Mutex};

use hyper_util::rt::TokioIo;
use tokio::io::Join;
use tokio::net::unix::pipe;
use tonic::transport::{Channel, Endpoint, Uri};

/// BuildKit's gateway message limit (`frontend/gateway/grpcclient`).
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

type Stdio = Join<pipe::Receiver, pipe::Sender>;

fn open_stdio() -> io::Result<Stdio> {
    let stdin = File::from(io::stdin().as_fd().try_clone_to_owned()?);
    let stdout = File::from(io::stdout().as_fd().try_clone_to_owned()?);
    Ok(tokio::io::join(
        pipe::Receiver::from_file(stdin)?,
        pipe::Sender::from_file(stdout)?,
    ))
}

/// Connects over stdio. The authority is a placeholder: there is no network.
pub async fn connect() -> Result<Channel, Box<dyn std::error::Error + Send + Sync>> {
    let stdio: Arc<Mutex<Option<Stdio>>> = Arc::new(Mutex::new(Some(open_stdio()?)));
    let channel = Endpoint::from_static("http://localhost")
        .connect_with_connector(tower::service_fn(move |_: Uri| {
            let stdio = stdio.clone();
            async move {
                // stdin/stdout carry one connection; a reconnect has nothing to use.
                let taken = stdio
                    .lock()
                    .map_err(|_| io::Error::other("stdio lock poisoned"))?
                    .take();
                taken.map(TokioIo::new).ok_or_else(|| {
                    io::Error::new(io::ErrorKind::NotConnected, "stdio connection already used")
                })
            }
        }))
        .await?;
    Ok(channel)
}

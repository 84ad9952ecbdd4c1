//! The gRPC channel to BuildKit over the process's stdin and stdout: the
//! frontend is the client, the connection is made once.

use std::io;
use std::sync::Mutex;

use hyper_util::rt::TokioIo;
use tokio::io::{Join, Stdin, Stdout};
use tonic::transport::{Channel, Endpoint, Uri};

/// BuildKit's gateway message limit (`frontend/gateway/grpcclient`).
pub const MAX_MESSAGE_BYTES: usize = 16 << 20;

/// Connects over stdio. The authority is a placeholder: there is no network.
pub async fn connect() -> Result<Channel, tonic::transport::Error> {
    let stdio: Mutex<Option<Join<Stdin, Stdout>>> = Mutex::new(Some(tokio::io::join(
        tokio::io::stdin(),
        tokio::io::stdout(),
    )));
    let stdio = std::sync::Arc::new(stdio);
    Endpoint::from_static("http://localhost")
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
        .await
}

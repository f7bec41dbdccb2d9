//! Accepted TCP connections that count against their port's limit while
//! they live.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tonic::transport::server::{Connected, TcpConnectInfo};
use tracing::warn;

/// How long to wait after a failed accept before the next.
const ACCEPT_RETRY_PAUSE: Duration = Duration::from_millis(100);

/// A TCP connection holding one of its port's connection slots until it
/// is dropped.
pub struct CountedConnection {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

/// The connections `listener` accepts, at most `limit` open at a time:
/// a connection beyond the limit is closed at once (and logged), so a
/// flood cannot exhaust the hub's file descriptors or memory. Accept
/// errors (e.g. out of file descriptors) are logged and retried after a
/// pause; they never end the stream (which would stop the server).
pub fn counted_incoming(
    listener: TcpListener,
    limit: usize,
    port: &'static str,
) -> impl Stream<Item = io::Result<CountedConnection>> + Send + 'static {
    let slots = Arc::new(Semaphore::new(limit));
    futures::stream::unfold((listener, slots), move |(listener, slots)| async move {
        loop {
            let (stream, peer) = match listener.accept().await {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(port, %error, "accepting a connection failed");
                    tokio::time::sleep(ACCEPT_RETRY_PAUSE).await;
                    continue;
                }
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                warn!(
                    port,
                    limit,
                    %peer,
                    "refused a connection: the port's connection limit (server.maxConnectionsPerPort) is reached"
                );
                continue;
            };
            // Raft and agent messages are small and latency-bound.
            let _ = stream.set_nodelay(true);
            let connection = CountedConnection {
                stream,
                _slot: slot,
            };
            return Some((Ok(connection), (listener, slots)));
        }
    })
}

impl Connected for CountedConnection {
    type ConnectInfo = TcpConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.stream.connect_info()
    }
}

impl AsyncRead for CountedConnection {
    fn poll_read(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_read(context, buffer)
    }
}

impl AsyncWrite for CountedConnection {
    fn poll_write(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffer: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(context, buffer)
    }

    fn poll_flush(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(context)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(context)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
        buffers: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(context, buffers)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}

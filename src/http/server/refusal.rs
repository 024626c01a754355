//! The answer to a connection past the limit: a fixed `503`, written
//! without reading the request, then a short lingering close.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The whole answer. `Connection: close` and the lingering below make
/// clients read it instead of a reset.
pub(super) const REFUSAL: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
content-type: text/plain; charset=utf-8\r\n\
retry-after: 1\r\n\
connection: close\r\n\
content-length: 72\r\n\
\r\n\
the receiver has as many connections as it allows; try again in a moment";

/// How long a refused connection is kept to read what its client sent:
/// closing a socket with unread bytes resets it, and a client may then lose
/// the answer before reading it.
const LINGER: Duration = Duration::from_secs(1);

/// The most refused connections lingering at once; past it, the answer is
/// written if the socket takes it at once, and the connection closed.
const MAX_LINGERING: usize = 64;

/// Refused connections lingering now.
#[derive(Debug, Default)]
pub(super) struct Lingering(AtomicUsize);

pub(super) fn refuse(stream: TcpStream, lingering: &Arc<Lingering>) {
    if lingering.0.fetch_add(1, Ordering::AcqRel) >= MAX_LINGERING {
        lingering.0.fetch_sub(1, Ordering::AcqRel);
        // A fresh socket's send buffer takes these bytes whole.
        let _ = stream.try_write(REFUSAL);
        return;
    }
    let lingering = lingering.clone();
    tokio::spawn(async move {
        let _ = tokio::time::timeout(LINGER, answer(stream)).await;
        lingering.0.fetch_sub(1, Ordering::AcqRel);
    });
}

async fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.write_all(REFUSAL).await?;
    stream.shutdown().await?;
    let mut sink = [0; 1024];
    while stream.read(&mut sink).await? > 0 {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::REFUSAL;

    #[test]
    fn the_refusal_announces_its_body_length() {
        let text = std::str::from_utf8(REFUSAL).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("a head and a body");
        let announced: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length: "))
            .and_then(|length| length.parse().ok())
            .expect("a content-length");
        assert_eq!(announced, body.len());
    }
}

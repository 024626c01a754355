//! An HTTP/1.1 exchange over a bare TCP connection that reads the answer while
//! it is still writing the body. A client library stops at its first failed
//! write, so it may never show a `413` that a server sent before closing.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// POSTs to `path` on `authority` with `headers` (each `name: value`), then
/// `chunks` of body, announced with `Content-Length: length` or, without a
/// length, sent chunked. Returns the answer's status line (empty if the
/// connection closed without one) and how long it took to come.
///
/// # Errors
///
/// If the connection cannot be made.
pub async fn post(
    authority: &str,
    path: &str,
    headers: &[String],
    length: Option<u64>,
    chunks: impl Iterator<Item = Vec<u8>>,
) -> std::io::Result<(String, Duration)> {
    let stream = TcpStream::connect(authority).await?;
    let (mut reader, mut writer) = stream.into_split();
    let mut head = format!("POST {path} HTTP/1.1\r\nHost: {authority}\r\n");
    for header in headers {
        head.push_str(header);
        head.push_str("\r\n");
    }
    match length {
        Some(length) => head.push_str(&format!("Content-Length: {length}\r\n\r\n")),
        None => head.push_str("Transfer-Encoding: chunked\r\n\r\n"),
    }
    let started = Instant::now();
    // The write side stays open until the answer is read: closing it would end
    // the request early (hyper closes half-closed connections).
    let write = async {
        let mut result = writer.write_all(head.as_bytes()).await;
        for chunk in chunks {
            if result.is_err() {
                break;
            }
            result = match length {
                Some(_) => writer.write_all(&chunk).await,
                None => {
                    writer.write_all(&[format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat()).await
                }
            };
        }
        if result.is_ok() && length.is_none() {
            let _ = writer.write_all(b"0\r\n\r\n").await;
        }
        std::future::pending::<()>().await
    };
    let read = async {
        let mut answer = Vec::new();
        let mut buffer = [0u8; 4096];
        while !answer.windows(2).any(|pair| pair == b"\r\n") {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(read) => answer.extend_from_slice(&buffer[..read]),
            }
        }
        answer
    };
    let answer = tokio::select! {
        answer = tokio::time::timeout(Duration::from_secs(10), read) => answer.unwrap_or_default(),
        () = write => unreachable!("writing never ends by itself"),
    };
    let status = String::from_utf8_lossy(&answer).lines().next().unwrap_or("").to_owned();
    Ok((status, started.elapsed()))
}

/// `prefix` followed by spaces up to `length` bytes, in 64 KiB chunks made as
/// they are sent.
pub fn spaces_after(prefix: &[u8], length: u64) -> impl Iterator<Item = Vec<u8>> + use<> {
    const CHUNK: u64 = 64 * 1024;
    let prefix = prefix.to_vec();
    (0..length.div_ceil(CHUNK)).map(move |i| {
        let start = (i * CHUNK) as usize;
        let end = ((i + 1) * CHUNK).min(length) as usize;
        let mut chunk = vec![b' '; end - start];
        if let Some(from_prefix) = prefix.get(start..end.min(prefix.len())) {
            chunk[..from_prefix.len()].copy_from_slice(from_prefix);
        }
        chunk
    })
}

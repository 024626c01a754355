//! A `redis-server` of a test's own on 127.0.0.1, on a free port, killed on
//! drop. `.ci/test` installs redis-server (Debian package `redis-server`)
//! if it is missing. Included by path, so that tests without the HTTP
//! features can use it.
#![allow(dead_code)] // each test crate uses its own part of this

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisServer {
    pub(crate) child: Child,
    pub(crate) address: SocketAddr,
}

impl RedisServer {
    pub(crate) fn start() -> Self {
        Self::start_with(&[])
    }

    /// With more arguments for redis-server, such as `--requirepass`.
    pub(crate) fn start_with(extra: &[&str]) -> Self {
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| {
                panic!("could not start redis-server ({err}): install it (Debian: apt-get install redis-server), as .ci/test does")
            });
        let server = Self { child, address: SocketAddr::from(([127, 0, 0, 1], port)) };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(server.address).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not listen on {} within 10 s", server.address);
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://{}/", self.address)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

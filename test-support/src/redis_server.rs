//! A `redis-server` (or `valkey-server`) of a test's own on 127.0.0.1, on a
//! free port, killed on drop. `.ci/test` installs both if they are missing.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct RedisServer {
    pub child: Child,
    pub address: SocketAddr,
    program: &'static str,
    extra: Vec<String>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(&[])
    }

    /// With more arguments for redis-server, such as `--requirepass`.
    pub fn start_with(extra: &[&str]) -> Self {
        Self::start_program("redis-server", extra)
    }

    /// `program` (`redis-server` or `valkey-server`) with more arguments.
    pub fn start_program(program: &'static str, extra: &[&str]) -> Self {
        let port =
            TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port();
        let extra: Vec<String> = extra.iter().map(|arg| (*arg).to_owned()).collect();
        let child = spawn(program, port, &extra);
        let server = Self { child, address: SocketAddr::from(([127, 0, 0, 1], port)), program, extra };
        server.wait_until_listening();
        server
    }

    /// Kills the server with SIGKILL and starts it again with the same
    /// arguments (its append-only file, if it has one, read back).
    pub fn kill_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = spawn(self.program, self.address.port(), &self.extra);
        self.wait_until_listening();
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(self.address).is_err() {
            assert!(Instant::now() < deadline, "{} did not listen on {} within 10 s", self.program, self.address);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self) -> String {
        format!("redis://{}/", self.address)
    }
}

fn spawn(program: &str, port: u16, extra: &[String]) -> Child {
    Command::new(program)
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|err| {
            panic!(
                "could not start {program} ({err}): install it (Debian: apt-get install {program}), as .ci/test does"
            )
        })
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

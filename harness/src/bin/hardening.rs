//! The receiver on a bad day, for `.ci/hardening`, signed with
//! `FOXREACH_WEBHOOK_SECRET`:
//!
//! ```text
//! hardening serving <URL> <receiver PID> <header timeout in ms>
//! hardening locked <URL> <inbox file>
//! hardening deliver <URL> <tag> <count> <expected status> [<per second>]
//! hardening expect <URL> <path> <expected status> [<seconds to wait for it>]
//! hardening half-open <URL>
//! ```
//!
//! - `serving`: 250 connections that send nothing and 250 that send their
//!   headers a byte every 0.5 s are all closed by the header timeout, while
//!   a delivery is answered at once; then 1,100 idle connections, more than
//!   the receiver's file descriptors allow, do not keep 20 deliveries from
//!   being answered. The receiver's open descriptors are watched throughout.
//! - `locked`: holds the inbox's lock as `sqlite3 FILE 'BEGIN EXCLUSIVE;'`
//!   would: a delivery gets `503` with `Retry-After` within 2.5 s, `/readyz`
//!   says 503 and `/livez` 200; once released, both recover.
//! - `deliver`: `count` distinct signed deliveries (lead ids `<tag>_<n>`),
//!   one after the other (at most `per second`, if given), each expected to
//!   get `status`, 503s within 2.5 s.
//! - `expect`: a GET on `path` answers `status` (within the wait, if given).
//! - `half-open`: opens a connection, sends half a request head, says
//!   `sent` on stdout and holds it until killed.
//!
//! Prints one line per check and exits non-zero if any failed.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use foxreach_webhooks_harness::receiver::{Receiver, descriptors, silent, slow_header};
use http::StatusCode;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// How soon a refusal must come: the inbox's 1 s lock wait, twice, and slack,
/// well within FoxReach's 5 s.
const REFUSED_WITHIN: Duration = Duration::from_millis(2_500);

type Failures = usize;

fn check(failures: &mut Failures, what: &str, ok: bool, detail: impl std::fmt::Display) {
    println!("{} {what}: {detail}", if ok { "ok  " } else { "FAIL" });
    *failures += usize::from(!ok);
}

async fn serving(
    receiver: &Receiver,
    pid: u32,
    header_timeout: Duration,
) -> Result<Failures, Box<dyn std::error::Error>> {
    let mut failures = 0;
    let before = descriptors(pid);
    let started = Instant::now();
    let mut clients = JoinSet::new();
    for _ in 0..250 {
        clients.spawn(silent(receiver.authority.clone()));
        clients.spawn(slow_header(receiver.authority.clone()));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let held = descriptors(pid);
    let (status, _, took) = receiver.deliver(&format!("serving_{}", std::process::id())).await?;
    check(
        &mut failures,
        "a delivery beside 500 idle and slow clients",
        status.is_success() && took < Duration::from_secs(1),
        format!("{status} in {took:?}"),
    );
    let mut last = started;
    let (mut closed, mut unconnected) = (0, 0);
    let wait = tokio::time::timeout(header_timeout + Duration::from_secs(5), async {
        while let Some(ended) = clients.join_next().await {
            match ended {
                Ok(Some(at)) => {
                    closed += 1;
                    last = last.max(at);
                }
                Ok(None) => unconnected += 1,
                Err(_) => {}
            }
        }
    });
    let all = wait.await.is_ok();
    let after = descriptors(pid);
    check(
        &mut failures,
        "250 silent and 250 slow-header connections closed by the header timeout",
        all && closed == 500,
        format!(
            "{closed} of 500 closed ({unconnected} could not connect), the last {:?} after opening; \
             receiver descriptors {before} -> {held} -> {after}",
            last - started
        ),
    );

    // More idle connections than the receiver has descriptors (ulimit -n 1024).
    let mut idle = JoinSet::new();
    for _ in 0..1100 {
        idle.spawn(silent(receiver.authority.clone()));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut answered = 0;
    let mut slowest = Duration::ZERO;
    let mut most = descriptors(pid);
    for n in 0..20 {
        if let Ok((status, _, took)) = receiver.deliver(&format!("flood_{}_{n}", std::process::id())).await
            && status.is_success()
        {
            answered += 1;
            slowest = slowest.max(took);
        }
        most = most.max(descriptors(pid));
    }
    check(
        &mut failures,
        "20 deliveries beside 1,100 idle connections",
        answered == 20 && slowest < Duration::from_secs(2),
        format!("{answered} answered 2xx, the slowest in {slowest:?}; at most {most} receiver descriptors"),
    );
    idle.abort_all();
    Ok(failures)
}

async fn locked(receiver: &Receiver, inbox: &str) -> Result<Failures, Box<dyn std::error::Error>> {
    let mut failures = 0;
    let other = rusqlite::Connection::open(inbox)?;
    other.execute_batch("BEGIN EXCLUSIVE")?;
    let (status, retry_after, took) = receiver.deliver(&format!("locked_{}", std::process::id())).await?;
    check(
        &mut failures,
        "a delivery while another process holds the inbox's lock",
        status == StatusCode::SERVICE_UNAVAILABLE && retry_after && took < REFUSED_WITHIN,
        format!("{status} in {took:?}, Retry-After {retry_after}"),
    );
    let (ready, live) = (receiver.get("/readyz").await?, receiver.get("/livez").await?);
    check(
        &mut failures,
        "while locked: /readyz 503, /livez 200",
        ready == StatusCode::SERVICE_UNAVAILABLE && live == StatusCode::OK,
        format!("{ready}, {live}"),
    );
    other.execute_batch("ROLLBACK")?;
    let ready = receiver.get("/readyz").await?;
    let (status, _, _) = receiver.deliver(&format!("unlocked_{}", std::process::id())).await?;
    check(
        &mut failures,
        "once released: /readyz 200, a delivery 202",
        ready == StatusCode::OK && status == StatusCode::ACCEPTED,
        format!("{ready}, {status}"),
    );
    Ok(failures)
}

async fn deliver(
    receiver: &Receiver,
    tag: &str,
    count: usize,
    want: u16,
    rate: Option<u32>,
) -> Result<Failures, Box<dyn std::error::Error>> {
    let mut failures = 0;
    let (mut matched, mut slowest, mut seen) = (0, Duration::ZERO, Vec::new());
    let started = Instant::now();
    for n in 0..count {
        if let Some(rate) = rate {
            tokio::time::sleep_until((started + Duration::from_secs(1) * u32::try_from(n)? / rate).into()).await;
        }
        let (status, retry_after, took) = receiver.deliver(&format!("{tag}_{n}")).await?;
        let ok = status.as_u16() == want && (want != 503 || (retry_after && took < REFUSED_WITHIN));
        matched += usize::from(ok);
        slowest = slowest.max(took);
        if !ok && seen.len() < 5 {
            seen.push(format!("{status} in {took:?}"));
        }
    }
    let detail = format!(
        "{matched} of {count} got {want}, the slowest in {slowest:?}{}",
        if seen.is_empty() { String::new() } else { format!("; others: {}", seen.join(", ")) }
    );
    check(&mut failures, &format!("{count} deliveries {tag}"), matched == count, detail);
    Ok(failures)
}

async fn expect(
    receiver: &Receiver,
    path: &str,
    want: u16,
    wait: Duration,
) -> Result<Failures, Box<dyn std::error::Error>> {
    let mut failures = 0;
    let deadline = Instant::now() + wait;
    let mut status = receiver.get(path).await?;
    while status.as_u16() != want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        status = receiver.get(path).await?;
    }
    check(&mut failures, &format!("GET {path}"), status.as_u16() == want, status);
    Ok(failures)
}

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let failures = match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        ["serving", url, pid, header_ms] => {
            serving(&Receiver::new(url)?, pid.parse()?, Duration::from_millis(header_ms.parse()?)).await?
        }
        ["locked", url, inbox] => locked(&Receiver::new(url)?, inbox).await?,
        ["deliver", url, tag, count, status] => {
            deliver(&Receiver::new(url)?, tag, count.parse()?, status.parse()?, None).await?
        }
        ["deliver", url, tag, count, status, rate] => {
            let rate = rate.parse::<u32>()?.max(1);
            deliver(&Receiver::new(url)?, tag, count.parse()?, status.parse()?, Some(rate)).await?
        }
        ["expect", url, path, status] => expect(&Receiver::new(url)?, path, status.parse()?, Duration::ZERO).await?,
        ["expect", url, path, status, seconds] => {
            expect(&Receiver::new(url)?, path, status.parse()?, Duration::from_secs(seconds.parse()?)).await?
        }
        ["half-open", url] => {
            let receiver = Receiver::new(url)?;
            let mut stream = TcpStream::connect(&receiver.authority).await?;
            stream.write_all(b"POST /webhooks/foxreach HTTP/1.1\r\nHost: x\r\nContent-Ty").await?;
            println!("sent");
            std::future::pending::<()>().await;
            0
        }
        _ => {
            eprintln!("usage: see the top of harness/src/bin/hardening.rs");
            return Ok(ExitCode::from(2));
        }
    };
    Ok(if failures == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

//! A small load generator for `.ci/load`:
//!
//! ```text
//! load <URL> <deliveries> <connections> <valid|mix>
//! ```
//!
//! Sends distinct signed `lead.created` deliveries over that many kept-alive
//! connections (each connection sends its share in turn). In `mix` mode every
//! other delivery is forged. The lead ids include this process's id, so that
//! each run is new to the receiver; `LOAD_RUN=name` uses `name` instead, so
//! that a second run with the same name sends duplicates. Prints the counts of answers, requests per second
//! and latency percentiles, and exits non-zero unless exactly the valid
//! deliveries got a 2xx and the forged ones a 401.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use bytes::Bytes;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use foxreach_webhooks_harness::secret;
use http::{Request, StatusCode, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, deliveries, connections, mode] = args.as_slice() else {
        eprintln!("usage: load <URL> <deliveries> <connections> <valid|mix>");
        return Ok(ExitCode::from(2));
    };
    let (deliveries, connections): (usize, usize) = (deliveries.parse()?, connections.parse()?);
    let mix = match mode.as_str() {
        "valid" => false,
        "mix" => true,
        _ => return Err("mode must be valid or mix".into()),
    };
    let secret = secret()?;
    let run = std::env::var("LOAD_RUN").unwrap_or_else(|_| std::process::id().to_string());
    let client = Client::builder(TokioExecutor::new()).pool_max_idle_per_host(connections).build_http();

    let started = Instant::now();
    let workers: Vec<_> = (0..connections)
        .map(|worker| {
            let (client, url, secret, run) = (client.clone(), url.clone(), secret.clone(), run.clone());
            tokio::spawn(async move {
                let mut answers = Vec::new();
                for n in (worker..deliveries).step_by(connections) {
                    let forged = mix && n % 2 == 1;
                    let body = format!(
                        r#"{{"event":"lead.created","timestamp":"2025-01-14T08:00:00Z","data":{{"leadId":"cld_{run}_{n}"}}}}"#
                    );
                    let signature = sign(if forged { "not-the-webhook-secret" } else { &secret }, body.as_bytes());
                    let request = Request::post(&url)
                        .header(header::CONTENT_TYPE, "application/json")
                        .header(SIGNATURE_HEADER, signature)
                        .body(Full::new(Bytes::from(body)))?;
                    let sent = Instant::now();
                    let status = client.request(request).await?.status();
                    answers.push((forged, status, sent.elapsed()));
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>(answers)
            })
        })
        .collect();
    let mut answers = Vec::with_capacity(deliveries);
    for worker in workers {
        answers.extend(worker.await?.map_err(|err| err.to_string())?);
    }
    let elapsed = started.elapsed();

    let accepted = answers.iter().filter(|(_, status, _)| status.is_success()).count();
    let refused = answers.iter().filter(|(_, status, _)| *status == StatusCode::UNAUTHORIZED).count();
    let wrong = answers.iter().filter(|(forged, status, _)| status.is_success() == *forged).count();
    let mut latencies: Vec<Duration> = answers.iter().map(|(_, _, latency)| *latency).collect();
    latencies.sort();
    let percentile = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    let rps = deliveries as f64 / elapsed.as_secs_f64();
    println!(
        "deliveries={deliveries} connections={connections} accepted={accepted} refused={refused} misanswered={wrong} \
         seconds={:.3} rps={rps:.0} p50_ms={:.3} p99_ms={:.3}",
        elapsed.as_secs_f64(),
        percentile(0.50).as_secs_f64() * 1e3,
        percentile(0.99).as_secs_f64() * 1e3,
    );
    Ok(if answers.len() == deliveries && wrong == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

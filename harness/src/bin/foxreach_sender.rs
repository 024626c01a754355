//! Sends deliveries as FoxReach does, for `.ci/durability`:
//!
//! ```text
//! foxreach_sender <URL[,URL...]> <deliveries> <in-flight> <retry delays in ms, e.g. 300,1500,9000>
//! ```
//!
//! With several URLs, requests go round them in turn, as a load balancer
//! in front of several receivers would send them.
//!
//! Each delivery is a distinct signed `lead.updated` whose `leadId` is
//! `<run>_<n>` (`SENDER_RUN`, default this process's id). A delivery that
//! gets anything but a 2xx within 5 seconds, or a broken connection, is sent
//! again, byte for byte, after each of the retry delays in turn (FoxReach's 1,
//! 5 and 30 minutes, compressed), then given up. At most `in-flight`
//! requests are open at once; waiting for a retry holds none. With
//! `SENDER_RATE=n`, delivery `k` is first sent `k/n` seconds after the
//! start (FoxReach sends events as they happen, not all at once).
//!
//! Prints `sent=N acknowledged=A given_up=G requests=R seconds=S`, and the
//! lead ids given up, one per line, to the file `GIVEN_UP_FILE` if it is set.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use foxreach_webhooks::{SIGNATURE_HEADER, sign};
use foxreach_webhooks_harness::secret;
use http::{Request, header};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::Semaphore;

/// How long FoxReach waits for an answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);

#[tokio::main]
async fn main() -> Result<ExitCode, Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, deliveries, in_flight, delays] = args.as_slice() else {
        eprintln!("usage: foxreach_sender <URL> <deliveries> <in-flight> <retry delays in ms, comma-separated>");
        return Ok(ExitCode::from(2));
    };
    let deliveries: usize = deliveries.parse()?;
    let urls: Arc<Vec<String>> = Arc::new(url.split(',').map(str::to_owned).collect());
    let slots = Arc::new(Semaphore::new(in_flight.parse()?));
    let delays: Vec<Duration> =
        delays.split(',').map(|ms| ms.trim().parse().map(Duration::from_millis)).collect::<Result<_, _>>()?;
    let secret = secret()?;
    let run = std::env::var("SENDER_RUN").unwrap_or_else(|_| std::process::id().to_string());
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let rate: Option<f64> = std::env::var("SENDER_RATE").ok().map(|rate| rate.parse()).transpose()?;

    let started = Instant::now();
    let mut sending = tokio::task::JoinSet::new();
    for n in 0..deliveries {
        let lead = format!("{run}_{n}");
        let body = Bytes::from(format!(
            r#"{{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{{"leadId":"{lead}"}}}}"#
        ));
        let signature = sign(&secret, &body);
        let (client, urls, slots, delays) = (client.clone(), Arc::clone(&urls), Arc::clone(&slots), delays.clone());
        #[allow(clippy::cast_precision_loss)] // n is far below 2^52
        let starts_at = started + rate.map_or(Duration::ZERO, |rate| Duration::from_secs_f64(n as f64 / rate));
        sending.spawn(async move {
            tokio::time::sleep_until(starts_at.into()).await;
            let mut requests = 0;
            for wait in std::iter::once(Duration::ZERO).chain(delays) {
                tokio::time::sleep(wait).await;
                let Ok(_slot) = slots.acquire().await else { break };
                requests += 1;
                let url = &urls[(n + requests) % urls.len()];
                if attempt(&client, url, &signature, body.clone()).await {
                    return (lead, true, requests);
                }
            }
            (lead, false, requests)
        });
    }
    let (mut acknowledged, mut requests, mut given_up) = (0, 0, Vec::new());
    while let Some(sent) = sending.join_next().await {
        let (lead, delivered, tries) = sent?;
        requests += tries;
        if delivered {
            acknowledged += 1;
        } else {
            given_up.push(lead);
        }
    }
    println!(
        "sent={deliveries} acknowledged={acknowledged} given_up={} requests={requests} seconds={:.2}",
        given_up.len(),
        started.elapsed().as_secs_f64()
    );
    if let Some(path) = std::env::var_os("GIVEN_UP_FILE") {
        std::fs::write(path, given_up.iter().map(|lead| format!("{lead}\n")).collect::<String>())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One request: whether it got a 2xx in time.
async fn attempt(client: &Client<HttpConnector, Full<Bytes>>, url: &str, signature: &str, body: Bytes) -> bool {
    let Ok(request) = Request::post(url)
        .header(header::CONTENT_TYPE, "application/json")
        .header(SIGNATURE_HEADER, signature)
        .body(Full::new(body))
    else {
        return false;
    };
    matches!(
        tokio::time::timeout(ANSWER_WITHIN, client.request(request)).await,
        Ok(Ok(response)) if response.status().is_success()
    )
}

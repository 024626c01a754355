//! How fast the SQLite inbox appends on this machine's disk: `tasks`
//! concurrent appenders, `count` distinct deliveries in all, to a fresh
//! file in the temporary folder (WAL, `synchronous=FULL`).
//!
//! ```text
//! cargo run --release -p foxreach-webhooks-harness --bin inbox_append -- 100 20000
//! ```

use std::time::{Instant, SystemTime};

use bytes::Bytes;
use foxreach_inbox::{Inbox, NewEntry, SqliteInbox};
use foxreach_webhooks::delivery::DeliveryKey;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<usize> = std::env::args().skip(1).map(|arg| arg.parse()).collect::<Result<_, _>>()?;
    let [tasks, count] = args.as_slice() else { return Err("usage: inbox_append <tasks> <count>".into()) };
    let (tasks, count) = (*tasks, *count);
    let folder = std::env::temp_dir().join(format!("foxreach-inbox-append-{}", std::process::id()));
    std::fs::create_dir_all(&folder)?;
    let inbox = SqliteInbox::open(folder.join("inbox.sqlite3"))?;
    let body = Bytes::from(vec![b'x'; 1024]);
    let started = Instant::now();
    let mut appenders = tokio::task::JoinSet::new();
    for task in 0..tasks {
        let (inbox, body) = (inbox.clone(), body.clone());
        appenders.spawn(async move {
            for n in (task..count).step_by(tasks) {
                let mut key = [0u8; 32];
                key[..8].copy_from_slice(&(n as u64).to_le_bytes());
                inbox.append(NewEntry::new(DeliveryKey::new(key), body.clone(), SystemTime::now())).await?;
            }
            Ok::<_, foxreach_inbox::InboxError>(())
        });
    }
    while let Some(done) = appenders.join_next().await {
        done??;
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "tasks={tasks} appends={count} seconds={seconds:.3} appends_per_s={:.0} us_per_append={:.1}",
        count as f64 / seconds,
        seconds * 1e6 / count as f64
    );
    std::fs::remove_dir_all(&folder)?;
    Ok(())
}

//! `RedisInbox` on a bad day, against a real `redis-server`: a Redis that
//! refuses writes is reported not ready and refuses appends (the receivers
//! answer `503`); the bound on open entries refuses appends as full, exactly,
//! across every receiver sharing the inbox.
#![cfg(feature = "redis")]

use foxreach_test_support::redis_server;

use std::time::{Duration, SystemTime};

use bytes::Bytes;
use foxreach_inbox::{Appended, Inbox, NewEntry, RedisInbox, Settle};
use foxreach_webhooks::delivery::DeliveryKey;
use redis_server::RedisServer;

const LEAD: &[u8] = br#"{"event":"lead.updated","timestamp":"2025-01-15T10:00:00Z","data":{"leadId":"cld_1"}}"#;

fn entry(n: u8) -> NewEntry {
    NewEntry::new(DeliveryKey::new([n; 32]), Bytes::from_static(LEAD), SystemTime::now())
}

async fn config_set(server: &RedisServer, name: &str, value: &str) {
    let client = redis::Client::open(server.url()).expect("a URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connects");
    let _: () = redis::cmd("CONFIG").arg("SET").arg(name).arg(value).query_async(&mut connection).await.expect("set");
}

#[tokio::test]
async fn a_redis_refusing_writes_is_not_ready_and_refuses_appends() {
    let server = RedisServer::start();
    let inbox = RedisInbox::connect(&server.url()).await.expect("redis-server is up");
    inbox.ready().await.expect("ready");
    inbox.append(entry(1)).await.expect("appends");

    // Out of memory under `noeviction`: Redis still answers reads, and
    // refuses every write, as the old health check did not notice.
    config_set(&server, "maxmemory-policy", "noeviction").await;
    config_set(&server, "maxmemory", "1").await;
    inbox.backlog().await.expect("reads still work");
    let refused = inbox.ready().await.expect_err("not ready");
    assert!(refused.to_string().contains("OOM"), "{refused}");
    assert!(!refused.is_full());
    inbox.append(entry(2)).await.expect_err("no append while writes are refused");

    config_set(&server, "maxmemory", "0").await;
    inbox.ready().await.expect("ready again");
    assert!(matches!(inbox.append(entry(2)).await.expect("appends again"), Appended::New(_)));
}

#[tokio::test]
async fn past_the_bound_on_open_entries_every_receiver_refuses_appends_as_full() {
    let server = RedisServer::start();
    let one = RedisInbox::connect(&server.url()).await.expect("redis-server is up").max_open_entries(2);
    let other = RedisInbox::connect(&server.url()).await.expect("redis-server is up").max_open_entries(2);
    let Appended::New(first) = one.append(entry(1)).await.expect("under the bound") else { panic!("new") };
    other.append(entry(2)).await.expect("under the bound");
    for inbox in [&one, &other] {
        let full = inbox.append(entry(3)).await.expect_err("at the bound");
        assert!(full.is_full(), "{full}");
        assert!(full.to_string().contains("2 entries wait"), "{full}");
        assert!(inbox.ready().await.expect_err("full").is_full());
    }
    assert_eq!(one.append(entry(1)).await.expect("a duplicate"), Appended::Duplicate(first));

    // One processed: room for exactly one more, at once (counted in the script).
    let taken = one.take(1, Duration::from_secs(30)).await.expect("takes");
    one.settle(vec![(taken[0].id, taken[0].attempt, Settle::Done)]).await.expect("settles");
    other.ready().await.expect("ready again");
    assert!(matches!(other.append(entry(3)).await.expect("room for one"), Appended::New(_)));
    assert!(one.append(entry(4)).await.expect_err("full again").is_full());

    // A bound of 0 refuses everything, as on SQLite.
    let closed = RedisInbox::connect(&server.url()).await.expect("redis-server is up").max_open_entries(0);
    assert!(closed.append(entry(5)).await.expect_err("a bound of 0").is_full());
    assert!(closed.ready().await.expect_err("a bound of 0").is_full());
}

#[tokio::test]
async fn an_inbox_of_another_layout_version_is_refused_before_anything_is_touched() {
    let server = RedisServer::start();
    let inbox = RedisInbox::connect(&server.url()).await.expect("redis-server is up");
    inbox.append(entry(1)).await.expect("appends");
    let client = redis::Client::open(server.url()).expect("a URL");
    let mut connection = client.get_multiplexed_async_connection().await.expect("connects");
    let layout: String =
        redis::cmd("GET").arg("foxreach:inbox:layout").query_async(&mut connection).await.expect("get");
    assert_eq!(layout, "1", "the first append writes the layout version");

    // As a receiver of a later version would leave it.
    let _: () =
        redis::cmd("SET").arg("foxreach:inbox:layout").arg("2").query_async(&mut connection).await.expect("set");
    let refused = inbox.append(entry(2)).await.expect_err("another layout");
    let message = refused.to_string();
    assert!(message.contains("layout version 2") && message.contains("layout version 1"), "{message}");
    inbox.stats().await.expect_err("reads are refused too");
    let entries: u64 =
        redis::cmd("HGET").arg("foxreach:inbox:n").arg("pending").query_async(&mut connection).await.expect("n");
    assert_eq!(entries, 1, "nothing was appended");
}

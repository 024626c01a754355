//! The duplicate store shared by several receivers, in Redis.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use redis::aio::ConnectionManager;
use redis::{RedisError, Value};

use super::{Claim, DEFAULT_LEASE, DEFAULT_TTL, SeenStore, StoreError};
use crate::delivery::DeliveryKey;
use crate::delivery::redis_connection;

/// The value of a key whose delivery is being processed.
const PENDING: &str = "pending";
/// The value of a key whose delivery was processed.
const DONE: &str = "done";

/// Deletes a key only while it is in progress, so that a failed attempt
/// whose lease ran out cannot forget a copy that completed meanwhile.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/// Extends a key only while it is in progress: a completed delivery keeps its TTL.
const RENEW: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

/// A [`SeenStore`] in Redis (feature `redis`), so that receivers behind a
/// load balancer suppress duplicates together.
///
/// Each delivery is one key, `<prefix><signature hex>` (prefix
/// `foxreach:delivery:` by default):
///
/// - a claim is one atomic `SET key pending NX GET PX <lease>`: of two
///   receivers claiming at once, exactly one gets [`Claim::New`] (Redis 7.0
///   or later, for `NX` with `GET`);
/// - completing is `SET key done PX <ttl>`;
/// - releasing deletes the key if it is still `pending`;
/// - renewing, while the handler runs, sets a `pending` key's expiry to the
///   lease again.
///
/// Every entry expires on its own, so Redis memory stays bounded by the
/// deliveries of one TTL (about 150 bytes each). A Redis that does not
/// answer within the response timeout (one second when built with
/// [`connect`](Self::connect)) is a [`StoreError`]: the delivery gets `503`
/// and FoxReach retries it.
///
/// # Example
///
/// ```no_run
/// use foxreach_webhooks::delivery::{Dispatcher, Handler, RedisStore};
///
/// struct App;
/// impl Handler for App {}
///
/// # async fn run() -> Result<(), foxreach_webhooks::delivery::StoreError> {
/// let store = RedisStore::connect("redis://127.0.0.1:6379/").await?;
/// let dispatcher = Dispatcher::new(App).seen_store(store);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub struct RedisStore {
    connection: ConnectionManager,
    prefix: String,
    ttl: Duration,
    lease: Duration,
}

impl RedisStore {
    /// Connects to the Redis at `url` (`redis://host:port/db`), with one-second
    /// connection and response timeouts so that a stuck Redis cannot hold a
    /// delivery past FoxReach's five seconds. The connection is re-established
    /// automatically after a failure.
    ///
    /// # Errors
    ///
    /// A [`StoreError`] if the URL is invalid or Redis cannot be reached. The
    /// error's message never includes the URL (it may hold a password).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let connection =
            redis_connection::connect(url, redis_connection::RESPONSE_TIMEOUT).await.map_err(StoreError::new)?;
        Ok(Self::new(connection))
    }

    /// A store over a connection the application configured itself.
    #[must_use]
    pub fn new(connection: ConnectionManager) -> Self {
        Self { connection, prefix: "foxreach:delivery:".to_owned(), ttl: DEFAULT_TTL, lease: DEFAULT_LEASE }
    }

    /// The prefix of the store's keys, to share a Redis with other data or
    /// to keep two webhooks apart.
    #[must_use]
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self
    }

    /// How long a processed delivery is remembered ([`DEFAULT_TTL`], one hour).
    #[must_use]
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// How long an in-progress mark lasts if neither completed, released
    /// nor renewed ([`DEFAULT_LEASE`], 30 seconds; the dispatcher renews it
    /// every third of it while the handler runs).
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }

    /// The Redis key of a delivery.
    fn key(&self, key: &DeliveryKey) -> String {
        format!("{}{}", self.prefix, key.to_hex())
    }
}

/// Redis takes at least one millisecond.
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX).max(1)
}

fn store_error(error: RedisError) -> StoreError {
    StoreError::new(error)
}

impl SeenStore for RedisStore {
    fn claim(&self, key: &DeliveryKey) -> impl Future<Output = Result<Claim, StoreError>> + Send {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("SET");
        command.arg(self.key(key)).arg(PENDING).arg("NX").arg("GET").arg("PX").arg(millis(self.lease));
        async move {
            let previous: Option<String> = command.query_async(&mut connection).await.map_err(store_error)?;
            Ok(match previous.as_deref() {
                None => Claim::New,
                Some(DONE) => Claim::Done,
                Some(_) => Claim::InProgress,
            })
        }
    }

    fn complete(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("SET");
        command.arg(self.key(key)).arg(DONE).arg("PX").arg(millis(self.ttl));
        async move { command.query_async::<Value>(&mut connection).await.map(drop).map_err(store_error) }
    }

    fn release(&self, key: &DeliveryKey) -> impl Future<Output = Result<(), StoreError>> + Send {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("EVAL");
        command.arg(RELEASE).arg(1).arg(self.key(key)).arg(PENDING);
        async move { command.query_async::<Value>(&mut connection).await.map(drop).map_err(store_error) }
    }

    fn renew(&self, key: &DeliveryKey) -> impl Future<Output = Result<bool, StoreError>> + Send {
        let mut connection = self.connection.clone();
        let mut command = redis::cmd("EVAL");
        command.arg(RENEW).arg(1).arg(self.key(key)).arg(PENDING).arg(millis(self.lease));
        async move { command.query_async::<i64>(&mut connection).await.map(|extended| extended == 1).map_err(store_error) }
    }

    fn lease_duration(&self) -> Duration {
        self.lease
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not the connection: its address may hold a password.
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .field("ttl", &self.ttl)
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

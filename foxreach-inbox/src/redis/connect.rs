//! Connecting a [`RedisInbox`]: to a new or existing inbox, with the
//! server's durability settings read once.

use std::time::{Duration, SystemTime};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};

use super::RedisInbox;
use super::durability::{self, DiskWaits, Durability};
use super::rows::millis;
use crate::InboxError;
use crate::worker::DEFAULT_RETENTION;

/// How long a command may take by default: well under FoxReach's 5
/// seconds, so that a stuck Redis is an error the receiver answers (and the
/// sender retries), not a hang.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

impl RedisInbox {
    /// Connects to the Redis at `url` (`redis://[:password@]host:port/db`),
    /// with one-second timeouts, under the prefix `foxreach:inbox:`, and
    /// checks the server's durability settings (see [`RedisInbox`]).
    ///
    /// # Errors
    ///
    /// [`InboxError`] if the URL is invalid or Redis cannot be reached (the
    /// message never holds the URL, which may hold a password).
    pub async fn connect(url: &str) -> Result<Self, InboxError> {
        let mut inbox = Self::over(manager(url, RESPONSE_TIMEOUT).await?);
        inbox.durability = durability::check(&mut inbox.connection.clone()).await;
        if inbox.durability == Durability::WaitAof {
            // Its own connection, with room for a round's wait.
            let connection = manager(url, RESPONSE_TIMEOUT * 3).await?;
            inbox.disk = Some(DiskWaits::start(connection));
        }
        Ok(inbox)
    }

    /// Connects to an inbox that exists already (its entry counter is
    /// there), creating nothing: for the command-line tool, so that a
    /// mistyped database number is an error, not a new empty inbox.
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect), and if there is no inbox under the
    /// default prefix.
    pub async fn connect_existing(url: &str) -> Result<Self, InboxError> {
        let inbox = Self::over(manager(url, RESPONSE_TIMEOUT).await?);
        let mut connection = inbox.connection.clone();
        let counter = format!("{}id", inbox.prefix);
        let exists: bool =
            redis::cmd("EXISTS").arg(&counter).query_async(&mut connection).await.map_err(InboxError::new)?;
        if !exists {
            return Err(InboxError::new(format!(
                "there is no inbox under the prefix {} in this database",
                inbox.prefix
            )));
        }
        Ok(inbox)
    }

    /// An inbox over `connection`, under the default prefix, with a
    /// consumer name of its own.
    fn over(connection: ConnectionManager) -> Self {
        Self {
            connection,
            prefix: "foxreach:inbox:".to_owned(),
            consumer: format!("{}-{}", std::process::id(), millis(SystemTime::now())),
            retention: DEFAULT_RETENTION,
            durability: Durability::NotOnDisk,
            disk: None,
            appended: std::sync::Arc::new(tokio::sync::Notify::new()),
            max_open: None,
        }
    }
}

/// A connection to `url` with a one-second connection timeout and
/// `response_timeout`, re-established after a failure (twice per command),
/// as `foxreach_webhooks::delivery::RedisStore` connects (change both
/// together). The error never holds the URL (it may hold a password).
async fn manager(url: &str, response_timeout: Duration) -> Result<ConnectionManager, InboxError> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(2);
    let client = redis::Client::open(url).map_err(InboxError::new)?;
    client.get_connection_manager_with_config(config).await.map_err(InboxError::new)
}

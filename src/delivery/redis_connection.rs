//! How the duplicate store connects to Redis. `foxreach-inbox` connects its
//! Redis inbox with the same settings (`redis/connect.rs` there): change
//! both together.

use std::time::Duration;

use redis::Client;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

/// How long a command may take by default: well under FoxReach's 5
/// seconds, so that a stuck Redis is an error the receiver answers (and the
/// sender retries), not a hang.
pub(crate) const RESPONSE_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection to `url` with a one-second connection timeout and
/// `response_timeout`, re-established after a failure (twice per command).
/// Callers wrap the error in their own type, whose message never holds the
/// URL (it may hold a password).
pub(crate) async fn connect(url: &str, response_timeout: Duration) -> redis::RedisResult<ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(response_timeout))
        .set_number_of_retries(2);
    Client::open(url)?.get_connection_manager_with_config(config).await
}

//! Production delivery (feature `delivery`): a handler per event type,
//! duplicate suppression and an opt-in replay window.
//!
//! FoxReach's advice to receivers is to answer within 5 seconds, to expect
//! duplicate deliveries, and to know that a non-2xx answer is retried after
//! 1, 5 and 30 minutes. A [`Dispatcher`] makes each of those one line:
//!
//! - Each handler runs on its own Tokio task, to the end: the answer waits
//!   for it up to a budget under FoxReach's 5 seconds, then asks FoxReach to
//!   retry while the handler goes on. A panic is a retryable failure, not a
//!   dropped connection. [`Dispatcher::shutdown`] waits for running handlers.
//! - [`Handler`]: one async method per event type, each accepting and
//!   ignoring by default; [`HandlerError`] says whether a failure is
//!   retryable (answer `500`, FoxReach retries) or permanent (answer `200`
//!   and log it, since retrying cannot help).
//! - [`SeenStore`]: remembers deliveries by their MAC under the first
//!   secret ([`DeliveryKey`], the same whichever secret signed), so that a duplicate is acknowledged without running
//!   the handler twice, a copy arriving while the first is still being
//!   processed is told to retry (`409`), and a failure is forgotten so that
//!   its retry runs. [`MemoryStore`] is the default; `RedisStore` (feature
//!   `redis`) is shared by several receivers.
//! - [`ReplayWindow`]: refuses deliveries whose signed timestamp is too old
//!   (`403`). Off by default: read its notes on retries first.
//!
//! - [`execute`]: the one place a handler runs (its span, its panic caught,
//!   its metrics), for the dispatcher, for the durable inbox of crate
//!   `foxreach-inbox`, and for a queue of the application's own.
//!
//! Nothing here knows HTTP: it takes a verified body and answers with an
//! [`Outcome`]. `foxreach_webhooks::http` maps outcomes to statuses and
//! builds a whole receiver in one call; [`Receive`] is what it hands a
//! verified delivery to (a dispatcher here, an inbox in `foxreach-inbox`).

mod dispatcher;
mod error;
mod execute;
mod handler;
mod key;
mod outcome;
mod receive;
#[cfg(feature = "redis")]
mod redis_connection;
mod replay;
mod run;
mod seen;

pub use dispatcher::{DEFAULT_ANSWER_BUDGET, Dispatcher, ShutdownTimedOut};
pub use error::HandlerError;
pub use execute::{Executed, execute};
pub use handler::{Delivery, Handled, Handler};
pub use key::DeliveryKey;
pub use outcome::Outcome;
pub use receive::{Receive, VerifiedDelivery};
pub use replay::{ReplayWindow, StaleDelivery};
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub use seen::RedisStore;
pub use seen::{Claim, DEFAULT_LEASE, DEFAULT_TTL, MemoryStore, SeenStore, StoreError};

//! What an inbox keeps for one delivery, and how it is asked about it.

use std::fmt;
use std::time::SystemTime;

use bytes::Bytes;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use foxreach_webhooks::delivery::DeliveryKey;
use foxreach_webhooks::tenant::Tenant;

/// A delivery's number in its inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId(pub i64);

impl fmt::Display for EntryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A verified delivery, to append. `Debug` shows the body's length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct NewEntry {
    /// Its duplicate key (see [`DeliveryKey`]).
    pub key: DeliveryKey,
    /// The raw body, exactly as verified.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: SystemTime,
    /// The body's `event`, if it is a string: for listing, not trusted
    /// beyond that.
    pub event_type: Option<String>,
    /// The body's signed `timestamp` as FoxReach wrote it: the string
    /// itself, or the JSON text of any other value.
    pub timestamp: Option<String>,
    /// Which of the application's webhooks it came to, when the receiver
    /// serves several ([`foxreach_webhooks::tenant`]); its key is scoped to it.
    pub tenant: Option<Tenant>,
}

impl NewEntry {
    /// A delivery that arrived at `received_at`, with its `event` and
    /// `timestamp` read from the body when it is a JSON object (a body that
    /// is not is kept all the same, without them).
    #[must_use]
    pub fn new(key: DeliveryKey, body: Bytes, received_at: SystemTime) -> Self {
        let Envelope { event, timestamp } = serde_json::from_slice(&body).unwrap_or_default();
        let event_type = match event {
            Some(serde_json::Value::String(event)) => Some(event),
            _ => None,
        };
        let timestamp = timestamp.map(|timestamp| match timestamp {
            serde_json::Value::String(timestamp) => timestamp,
            other => other.to_string(),
        });
        Self { key, body, received_at, event_type, timestamp, tenant: None }
    }
}

impl fmt::Debug for NewEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewEntry")
            .field("key", &self.key)
            .field("len", &self.body.len())
            .field("received_at", &self.received_at)
            .field("event_type", &self.event_type)
            .field("timestamp", &self.timestamp)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// What [`Inbox::append`](super::Inbox::append) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Appended {
    /// The delivery is now on disk, under this id.
    New(EntryId),
    /// A delivery with the same key is already kept (in any state).
    Duplicate(EntryId),
}

/// An entry a worker took, with the attempt that settles it. `Debug` shows
/// the body's length only.
#[derive(Clone)]
#[non_exhaustive]
pub struct Taken {
    /// The entry.
    pub id: EntryId,
    /// Which taking this is, over the entry's life (1 for the first):
    /// settle with it.
    pub attempt: u32,
    /// Which attempt of its current schedule this is (1 for the first):
    /// the same as `attempt` until the entry is replayed.
    pub try_number: u32,
    /// When its current schedule began: its arrival, or its last replay.
    /// [`Backoff`](super::Backoff) gives up counting from here.
    pub scheduled_since: SystemTime,
    /// Its duplicate key.
    pub key: DeliveryKey,
    /// The raw body.
    pub body: Bytes,
    /// When it arrived.
    pub received_at: SystemTime,
    /// Its tenant, if it came to a receiver of several.
    pub tenant: Option<Tenant>,
}

impl Taken {
    /// An entry taken at `attempt` (for an engine of your own: see
    /// [`Inbox::take`](super::Inbox::take)); `try_number` and
    /// `scheduled_since` are as the fields say.
    #[must_use]
    pub fn new(
        id: EntryId,
        (attempt, try_number): (u32, u32),
        scheduled_since: SystemTime,
        key: DeliveryKey,
        body: Bytes,
        received_at: SystemTime,
    ) -> Self {
        Self { id, attempt, try_number, scheduled_since, key, body, received_at, tenant: None }
    }

    /// The same entry, for `tenant` (as it was appended).
    #[must_use]
    pub fn with_tenant(self, tenant: Option<Tenant>) -> Self {
        Self { tenant, ..self }
    }
}

impl fmt::Debug for Taken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Taken")
            .field("id", &self.id)
            .field("attempt", &self.attempt)
            .field("try_number", &self.try_number)
            .field("scheduled_since", &self.scheduled_since)
            .field("key", &self.key)
            .field("len", &self.body.len())
            .field("received_at", &self.received_at)
            .field("tenant", &self.tenant)
            .finish_non_exhaustive()
    }
}

/// How a taken entry ends its attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settle {
    /// Processed.
    Done,
    /// Failed retryably: pending again, due at this time, with the reason.
    RetryAt(SystemTime, String),
    /// A dead letter, with its reason.
    Dead(String),
}

/// An entry's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum State {
    /// Appended, or scheduled again after a retryable failure.
    Pending,
    /// Held by a worker (or by one whose lease ran out).
    Taken,
    /// Processed, kept for duplicate suppression until purged.
    Done,
    /// A dead letter, kept with its reason until it is replayed.
    Dead,
}

impl State {
    /// Its name in lowercase, as the command-line tool prints it.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Taken => "taken",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry as the inbox keeps it, for a person or a script to look at.
#[derive(Clone)]
#[non_exhaustive]
pub struct Entry {
    /// Its number.
    pub id: EntryId,
    /// Its state.
    pub state: State,
    /// Its duplicate key.
    pub key: DeliveryKey,
    /// The body's `event`, when it had a string one.
    pub event_type: Option<String>,
    /// The body's signed `timestamp`, as sent.
    pub timestamp: Option<String>,
    /// Its tenant, if it came to a receiver of several.
    pub tenant: Option<Tenant>,
    /// When it arrived.
    pub received_at: SystemTime,
    /// How many times a worker took it.
    pub attempts: u32,
    /// Pending: when it is due. Taken: when its lease ends.
    pub due_at: Option<SystemTime>,
    /// Why its last attempt failed, or why it is a dead letter.
    pub reason: Option<String>,
    /// Done or dead: since when.
    pub settled_at: Option<SystemTime>,
    /// The body's length in bytes.
    pub size: usize,
    /// The raw body, when asked for ([`Inbox::entry`](super::Inbox::entry)).
    pub body: Option<Bytes>,
}

/// Shows the body's length only: it is FoxReach's data about your leads.
impl fmt::Debug for Entry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Entry")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("key", &self.key)
            .field("event_type", &self.event_type)
            .field("timestamp", &self.timestamp)
            .field("tenant", &self.tenant)
            .field("received_at", &self.received_at)
            .field("attempts", &self.attempts)
            .field("due_at", &self.due_at)
            .field("reason", &self.reason)
            .field("settled_at", &self.settled_at)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// Which entries [`Inbox::replay`](super::Inbox::replay) makes pending again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Replay {
    /// This entry, if it is dead or done.
    Entry(EntryId),
    /// Every dead letter.
    AllDead,
}

/// What is not processed yet: open entries, dead letters, and since when
/// the oldest open one waits. Unlike [`Stats`] it never counts done
/// entries (millions, with a week's retention), so that it stays cheap to
/// ask often: the workers record it as gauges (feature `metrics`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Backlog {
    /// Appended or scheduled again, not taken.
    pub pending: u64,
    /// Held by a worker (or by one whose lease ran out).
    pub taken: u64,
    /// Dead letters.
    pub dead: u64,
    /// When the oldest pending or taken entry's current schedule began (its
    /// arrival, or its last replay); `None` when none is open. Its age is
    /// how far behind the workers are.
    pub oldest_open: Option<SystemTime>,
}

impl Backlog {
    /// Sets the inbox gauges from this backlog (feature `metrics`):
    /// `foxreach_webhooks_inbox_entries` by state, and
    /// `foxreach_webhooks_inbox_oldest_open_age_seconds` (0 when nothing is
    /// open), as [`observe`](foxreach_webhooks::observe) describes them. The workers
    /// call it every 15 seconds; call it yourself to have fresher values
    /// before a scrape. Without feature `metrics` it does nothing, so that
    /// an application calls it whatever the features.
    pub fn record(&self) {
        #[cfg(feature = "metrics")]
        {
            // Counts far beyond f64's exact range are not an inbox's.
            #[allow(clippy::cast_precision_loss)]
            let count = |count: u64| count as f64;
            metrics::gauge!("foxreach_webhooks_inbox_entries", "state" => "pending").set(count(self.pending));
            metrics::gauge!("foxreach_webhooks_inbox_entries", "state" => "taken").set(count(self.taken));
            metrics::gauge!("foxreach_webhooks_inbox_entries", "state" => "dead").set(count(self.dead));
            let age = self.oldest_open.map_or(std::time::Duration::ZERO, |since| since.elapsed().unwrap_or_default());
            metrics::gauge!("foxreach_webhooks_inbox_oldest_open_age_seconds").set(age.as_secs_f64());
        }
    }
}

/// How many entries are in each state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Appended or scheduled again, not taken.
    pub pending: u64,
    /// Held by a worker (or by one whose lease ran out).
    pub taken: u64,
    /// Processed, kept for duplicate suppression.
    pub done: u64,
    /// Dead letters.
    pub dead: u64,
}

/// A body's `event` and `timestamp`, whatever their types; the rest (the
/// `data`) is skipped without being built.
#[derive(Default)]
struct Envelope {
    event: Option<serde_json::Value>,
    timestamp: Option<serde_json::Value>,
}

impl<'de> Deserialize<'de> for Envelope {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Fields;
        impl<'de> Visitor<'de> for Fields {
            type Value = Envelope;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope, A::Error> {
                let mut envelope = Envelope::default();
                while let Some(name) = map.next_key::<std::borrow::Cow<'de, str>>()? {
                    match &*name {
                        "event" => envelope.event = Some(map.next_value()?),
                        "timestamp" => envelope.timestamp = Some(map.next_value()?),
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(envelope)
            }
        }
        deserializer.deserialize_map(Fields)
    }
}

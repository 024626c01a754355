//! What a connection's watchdog knows, and when the connection must close.
//!
//! The request path only flips counters and flags (a few uncontended
//! atomics per request, no clock, no wake-up); the watchdog reads them when
//! it wakes, at its next deadline or at least every quarter of the header
//! timeout, and dates what changed then. So a deadline may come up to a
//! quarter of the header timeout late (2.5 s of the default 10 s), never
//! early, and serving a request costs no timer.
//!
//! The deadlines: the first request's head a header timeout after accept,
//! a later head a header timeout after its first byte, the next request an
//! idle timeout after the last answer, an answer a request timeout after
//! its request was seen in flight, and a close an idle timeout after it was
//! asked for.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// How long a client may make the connection wait.
#[derive(Clone, Copy, Debug)]
pub(super) struct Timeouts {
    pub(super) header_read: Duration,
    pub(super) idle: Duration,
    pub(super) request: Duration,
}

impl Timeouts {
    /// The longest the watchdog sleeps without looking.
    fn look_every(self) -> Duration {
        (self.header_read / 4).max(Duration::from_millis(10))
    }
}

/// `at + wait`, or about 30 years from `at` when that does not fit (a
/// timeout of `Duration::MAX`, meaning none), as tokio's own timers do.
pub(super) fn later(at: Instant, wait: Duration) -> Instant {
    at.checked_add(wait).unwrap_or_else(|| at + Duration::from_secs(30 * 365 * 86_400))
}

/// What the connection's IO, its service and the registry share with the
/// watchdog.
#[derive(Debug)]
pub(super) struct Activity {
    epoch: Instant,
    /// Requests whose answer is not ready yet (at most one, in HTTP/1.1).
    in_flight: AtomicU32,
    /// Answers made ready so far.
    answered: AtomicU64,
    /// Whether bytes arrived while no request was in flight (the next
    /// request's head, or a client trickling one), since the watchdog looked.
    read_while_idle: AtomicBool,
    /// Since when the connection waits for a request, in milliseconds since
    /// the server's epoch, as the watchdog saw it: for choosing whom to evict.
    waiting_since: AtomicU64,
    /// Closed to make room for a new connection.
    evicted: AtomicBool,
    /// Wakes the watchdog for an eviction.
    pub(super) evict_now: Notify,
}

impl Activity {
    pub(super) fn new(epoch: Instant) -> Self {
        Self {
            epoch,
            in_flight: AtomicU32::new(0),
            answered: AtomicU64::new(0),
            read_while_idle: AtomicBool::new(false),
            waiting_since: AtomicU64::new(millis(epoch, Instant::now())),
            evicted: AtomicBool::new(false),
            evict_now: Notify::new(),
        }
    }

    /// Whether no request is in flight, so that closing loses no answer.
    pub(super) fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }

    /// Since when the connection waits, as last seen (ms since the epoch).
    pub(super) fn waiting_since(&self) -> u64 {
        self.waiting_since.load(Ordering::Relaxed)
    }

    /// Asks the connection to close (once its answer in flight, if any, is written).
    pub(super) fn evict(&self) {
        self.evicted.store(true, Ordering::Release);
        self.evict_now.notify_one();
    }

    pub(super) fn is_evicted(&self) -> bool {
        self.evicted.load(Ordering::Acquire)
    }

    /// Whether no request ever reached the service: closing then cuts no answer.
    pub(super) fn has_answered_nothing(&self) -> bool {
        self.answered.load(Ordering::Relaxed) == 0 && self.is_idle()
    }

    /// Bytes arrived.
    pub(super) fn on_read(&self) {
        if self.is_idle() && !self.read_while_idle.load(Ordering::Relaxed) {
            self.read_while_idle.store(true, Ordering::Relaxed);
        }
    }

    /// A request reached the service: the bytes read before were its head.
    pub(super) fn begin(&self) {
        self.in_flight.fetch_add(1, Ordering::AcqRel);
        if self.read_while_idle.load(Ordering::Relaxed) {
            self.read_while_idle.store(false, Ordering::Relaxed);
        }
    }

    /// Its answer is ready.
    pub(super) fn end(&self) {
        self.answered.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

fn millis(epoch: Instant, at: Instant) -> u64 {
    u64::try_from(at.duration_since(epoch).as_millis()).unwrap_or(u64::MAX)
}

/// Why the server closed a connection itself (the `reason` label of
/// `foxreach_webhooks_connections_closed_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Closed {
    HeaderTimeout,
    Idle,
    Evicted,
    /// A request in flight for longer than the request timeout: the
    /// connection is dropped without an answer.
    RequestTimeout,
    /// Asked to close, it still had not an idle timeout later (a client
    /// that does not read its answer): dropped.
    Stuck,
    /// The server is shutting down (not counted: every connection closes).
    Shutdown,
}

impl Closed {
    pub(super) fn label(self) -> Option<&'static str> {
        match self {
            Self::HeaderTimeout => Some("header_timeout"),
            Self::Idle => Some("idle"),
            Self::Evicted => Some("evicted"),
            Self::RequestTimeout => Some("request_timeout"),
            Self::Stuck => Some("stuck"),
            Self::Shutdown => None,
        }
    }

    /// Whether the connection is dropped at once rather than asked to
    /// finish its answer first.
    pub(super) fn drops(self) -> bool {
        matches!(self, Self::RequestTimeout | Self::Stuck)
    }
}

/// The watchdog's own view, dated when it looked.
#[derive(Debug)]
pub(super) struct Watch {
    timeouts: Timeouts,
    accepted: Instant,
    answered: u64,
    waiting_since: Instant,
    head_started: Option<Instant>,
    /// The request seen in flight (by the answers made before it) and since when.
    in_flight_since: Option<(u64, Instant)>,
    /// When it was asked to close, if it was.
    closing_since: Option<Instant>,
}

impl Watch {
    pub(super) fn new(timeouts: Timeouts) -> Self {
        let now = Instant::now();
        Self {
            timeouts,
            accepted: now,
            answered: 0,
            waiting_since: now,
            head_started: None,
            in_flight_since: None,
            closing_since: None,
        }
    }

    /// Notes that the connection was asked to close: if it has not an idle
    /// timeout later, it is dropped. Returns when to look next.
    pub(super) fn closing(&mut self) -> Instant {
        let now = Instant::now();
        self.closing_since = Some(now);
        later(now, self.timeouts.idle)
    }

    /// Looks at `activity` now: the reason to close it, if a deadline has
    /// passed, and when to look next.
    pub(super) fn look(&mut self, activity: &Activity) -> (Option<Closed>, Instant) {
        let now = Instant::now();
        let next_look = later(now, self.timeouts.look_every());
        let answered = activity.answered.load(Ordering::Relaxed);
        let (deadline, why) = if let Some(since) = self.closing_since {
            (later(since, self.timeouts.idle), Closed::Stuck)
        } else if !activity.is_idle() {
            self.head_started = None;
            let since = match self.in_flight_since {
                Some((before, since)) if before == answered => since,
                _ => now,
            };
            self.in_flight_since = Some((answered, since));
            (later(since, self.timeouts.request), Closed::RequestTimeout)
        } else {
            self.in_flight_since = None;
            if answered != self.answered {
                self.answered = answered;
                self.waiting_since = now;
                self.head_started = None;
                activity.waiting_since.store(millis(activity.epoch, now), Ordering::Relaxed);
            }
            if activity.read_while_idle.swap(false, Ordering::Relaxed) && self.head_started.is_none() {
                self.head_started = Some(now);
            }
            match (self.answered, self.head_started) {
                // The first request's head is due a header timeout after accept.
                (0, _) => (later(self.accepted, self.timeouts.header_read), Closed::HeaderTimeout),
                (_, Some(started)) => (later(started, self.timeouts.header_read), Closed::HeaderTimeout),
                (_, None) => (later(self.waiting_since, self.timeouts.idle), Closed::Idle),
            }
        };
        if deadline <= now { (Some(why), next_look) } else { (None, deadline.min(next_look)) }
    }
}

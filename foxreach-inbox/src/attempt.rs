//! One attempt at one entry: parse, check, handle, and say how it ends.

use std::time::{Duration, SystemTime};

use foxreach_webhooks::delivery::{Delivery, Executed, Handler, ReplayWindow, execute};
use foxreach_webhooks::tenant::Tenant;
use foxreach_webhooks::{Event, EventType, observe};

use super::{Backoff, Settle, Taken};
use crate::observe::{dead_letter as count_dead_letter, retry as count_retry};

/// What every attempt of one [`Workers`](super::Workers) follows, copied
/// into each handler's task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Rules {
    /// Deliveries outside it, when they arrived, are dead letters.
    pub(super) window: Option<ReplayWindow>,
    /// When a retryable failure is tried again.
    backoff: Backoff,
    /// `backoff.max_tries()`, counted once here rather than per attempt
    /// (a schedule that never ends takes 10,000 steps to count).
    max_tries: u32,
    /// How long one attempt may run.
    pub(super) timeout: Duration,
}

impl Rules {
    pub(super) fn new(backoff: Backoff, timeout: Duration) -> Self {
        Self { window: None, backoff, max_tries: backoff.max_tries(), timeout }
    }

    pub(super) fn backoff(&mut self, backoff: Backoff) {
        (self.backoff, self.max_tries) = (backoff, backoff.max_tries());
    }
}

/// One entry's attempt: parse, check, handle, and say how it ends (logged
/// unless it is done: the entry's id and key, never its body).
pub(super) async fn process<H: Handler>(handler: &H, rules: Rules, entry: Taken) -> Settle {
    let (id, key, attempt) = (entry.id, entry.key, entry.attempt);
    let settle = attempt_once(handler, rules, entry).await;
    match &settle {
        Settle::Done => {}
        Settle::RetryAt(at, reason) => {
            let after = at.duration_since(SystemTime::now()).unwrap_or_default();
            tracing::warn!(
                target: "foxreach_webhooks::inbox",
                entry = %id,
                key = %key,
                attempt,
                retry_in_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
                reason = %reason,
                "handler failed; the entry is tried again later",
            );
        }
        Settle::Dead(reason) => tracing::error!(
            target: "foxreach_webhooks::inbox",
            entry = %id,
            key = %key,
            attempt,
            reason = %reason,
            "the entry is a dead letter; `foxreach-webhooks inbox replay` runs it again",
        ),
    }
    settle
}

async fn attempt_once<H: Handler>(handler: &H, rules: Rules, entry: Taken) -> Settle {
    let Rules { window, backoff, max_tries, timeout } = rules;
    let tenant = entry.tenant.as_ref();
    let dead = |event_type, why, reason| dead(event_type, tenant, why, reason);
    let event = match Event::from_slice_lenient(&entry.body) {
        Ok(event) => event,
        Err(error) => return dead("unknown", "not_an_event", format!("not a FoxReach event: {error}")),
    };
    let label = event.event_type().map_or("unknown", EventType::as_str);
    if entry.try_number > max_tries {
        let reason = format!(
            "gave up after {} attempts, more than the schedule allows: the last ones did not finish \
             (the process died or lost the entry's lease while handling it)",
            entry.try_number - 1
        );
        return dead(label, "too_many_tries", reason);
    }
    if let Some(window) = window
        && let Err(stale) = window.check_at(&event.timestamp, entry.received_at.into())
    {
        return dead(label, "stale", stale.to_string());
    }
    let span = observe::delivery_span(event.event_type(), &entry.key, tenant);
    span.record("entry", entry.id.0);
    span.record("attempt", entry.attempt);
    let Event { timestamp, data, .. } = event;
    let mut delivery = Delivery::new(&timestamp, &entry.body, entry.key);
    if let Some(tenant) = tenant {
        delivery = delivery.with_tenant(tenant);
    }
    let failure = match execute(handler, data, delivery, &span, Some(timeout)).await {
        Executed::Succeeded => {
            span.record("outcome", "done");
            return Settle::Done;
        }
        Executed::Failed(error) if !error.is_retryable() => {
            span.record("outcome", "dead_letter");
            return dead(label, "permanent_failure", error.source().to_string());
        }
        Executed::Failed(error) => error.source().to_string(),
        Executed::Panicked => "the handler panicked".to_owned(),
        Executed::TimedOut => {
            format!("the handler ran past the attempt timeout of {} s and was cancelled", timeout.as_secs_f64())
        }
        // A kind of end this crate's version does not know: tried again.
        _ => "the handler ended without succeeding".to_owned(),
    };
    match backoff.next(entry.try_number, entry.scheduled_since, SystemTime::now()) {
        Some(at) => {
            span.record("outcome", "retry");
            count_retry(label, tenant);
            Settle::RetryAt(at, failure)
        }
        None => {
            span.record("outcome", "dead_letter");
            dead(label, "exhausted", format!("gave up after {} attempts: {failure}", entry.try_number))
        }
    }
}

/// A dead letter, counted by its event type and a reason from a fixed set.
fn dead(event_type: &'static str, tenant: Option<&Tenant>, why: &'static str, reason: String) -> Settle {
    count_dead_letter(event_type, tenant, why);
    Settle::Dead(reason)
}

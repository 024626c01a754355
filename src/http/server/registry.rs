//! The open connections, so that the server can count them and, at its
//! limit, close the one that has waited longest for a request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::time::Instant;

use super::activity::Activity;

/// Every open connection's [`Activity`], by a number of its own.
#[derive(Debug)]
pub(super) struct Registry {
    epoch: Instant,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    next: u64,
    connections: HashMap<u64, Arc<Activity>>,
    /// Of those, how many were evicted and have not ended yet.
    closing: usize,
}

impl Open {
    /// Connections serving, not counting those closing to make room.
    fn serving(&self) -> usize {
        self.connections.len() - self.closing
    }

    /// Asks the idlest connection to close. It still counts as open until
    /// it ends (an idle one ends at once), but no longer as serving, and it
    /// is not chosen twice.
    fn evict_idlest(&mut self) -> bool {
        let victim = self
            .connections
            .values()
            .filter(|activity| activity.is_idle() && !activity.is_evicted())
            .min_by_key(|activity| activity.waiting_since());
        match victim {
            Some(activity) => {
                activity.evict();
                self.closing += 1;
                true
            }
            None => false,
        }
    }
}

impl Registry {
    pub(super) fn new() -> Self {
        Self { epoch: Instant::now(), open: Mutex::new(Open::default()) }
    }

    /// Registers a connection, unless `max` are serving and none of them
    /// is idle: at the limit, the one idle longest is closed to make room
    /// (see [`evict_idlest`](Self::evict_idlest)). `None` when all are
    /// busy, or when a quarter of `max` are still closing (clients that do
    /// not read their answers), so that open connections stay under
    /// `max` and a quarter.
    pub(super) fn admit(self: &Arc<Self>, max: usize) -> Option<Registered> {
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.serving() >= max && (open.closing >= (max / 4).max(1) || !open.evict_idlest()) {
            return None;
        }
        let id = open.next;
        open.next += 1;
        let activity = Arc::new(Activity::new(self.epoch));
        open.connections.insert(id, activity.clone());
        Some(Registered { registry: self.clone(), id, activity })
    }

    /// Closes the connection that has waited longest for a request (no
    /// request in flight: idle, or with a half-sent head), if there is one
    /// not closing already.
    pub(super) fn evict_idlest(&self) -> bool {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).evict_idlest()
    }

    /// How many connections are open, closing ones included.
    pub(super) fn len(&self) -> usize {
        self.open.lock().unwrap_or_else(PoisonError::into_inner).connections.len()
    }
}

/// A connection's place in the [`Registry`], given up when dropped (when
/// its task ends, or is aborted at the shutdown deadline).
#[derive(Debug)]
pub(super) struct Registered {
    registry: Arc<Registry>,
    id: u64,
    pub(super) activity: Arc<Activity>,
}

impl Drop for Registered {
    fn drop(&mut self) {
        let mut open = self.registry.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.connections.remove(&self.id).is_some() && self.activity.is_evicted() {
            open.closing -= 1;
        }
    }
}

//! The one thread that writes: it batches what has arrived into one
//! transaction and answers only after the commit. A batch of reads only
//! takes no write lock, so that the command-line tool looking at a running
//! receiver's inbox never holds up its appends.

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use super::checkpoint::Checkpoints;
use super::identity::Identity;
use crate::InboxError;

/// The most operations one transaction takes.
const MAX_BATCH: usize = 512;

/// The most operations waiting for the writer: past it, an append is
/// refused (the receiver answers `503`) instead of memory growing with
/// bodies while the disk is slower than the requests.
const MAX_QUEUED: usize = 4096;

/// How long the caller of an append (or a readiness probe) waits for its
/// commit before it is answered `503`: the lock wait (1 s) of its own batch
/// and of the one before it, well within FoxReach's 5 s. A commit that
/// comes later still keeps the delivery, and FoxReach's retry of it is then
/// a duplicate (`200`).
const KEEP_BUDGET: Duration = Duration::from_secs(2);

/// What an operation does to the file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Only reads.
    Read,
    /// Keeps deliveries: an append, or the readiness probe that stands for
    /// one. It writes with one statement, which SQLite applies whole or not
    /// at all (no savepoint: the hot path), is refused once the inbox's
    /// files are no longer the ones opened, and its caller waits at most
    /// [`KEEP_BUDGET`].
    Keep,
    /// Writes with several statements, in a savepoint of its own, so that
    /// it takes effect whole or not at all whatever the others do.
    Write,
}

/// An operation: it runs in the transaction (or hears why there is none),
/// and gives back what answers its caller once the commit's fate is known
/// (`None` if it committed).
struct Job {
    access: Access,
    run: Run,
}
type Run = Box<dyn FnOnce(Result<&Transaction<'_>, &Failed>) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&Failed>) + Send>;

/// Why a batch, or the deliveries in it, could not be kept: told to each
/// operation as an error of its own.
enum Failed {
    /// A `BEGIN` or `COMMIT` that failed, with SQLite's code (locked, not a
    /// database, disk full...), so that callers can tell the cases apart.
    Sqlite { stage: &'static str, code: rusqlite::ffi::Error, message: String },
    /// The inbox's files were deleted or replaced under this process.
    Replaced(String),
}

impl Failed {
    fn new(stage: &'static str, error: &rusqlite::Error) -> Self {
        let code = error.sqlite_error().copied().unwrap_or(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR));
        Self::Sqlite { stage, code, message: error.to_string() }
    }

    fn to_error(&self) -> InboxError {
        match self {
            Self::Sqlite { stage, code, message } => {
                InboxError::new(rusqlite::Error::SqliteFailure(*code, Some(format!("{stage}: {message}"))))
            }
            Self::Replaced(which) => InboxError::new(format!(
                "{which}: deliveries are refused, since what is written there is lost at the next start; \
                 restart the receiver to open the inbox at its path again (the workers of this process \
                 go on with what the old file holds)"
            )),
        }
    }
}

/// The way to the writer thread.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    jobs: mpsc::SyncSender<Job>,
}

impl Writer {
    /// Starts the thread on `connection`, whose lock wait is `lock_wait`;
    /// `identity` is its files as opened (`None` in memory).
    pub(super) fn start(
        connection: Connection,
        identity: Option<Identity>,
        lock_wait: Duration,
    ) -> Result<Self, InboxError> {
        let (jobs, incoming) = mpsc::sync_channel(MAX_QUEUED);
        thread::Builder::new()
            .name("foxreach-inbox".to_owned())
            .spawn(move || write(connection, &incoming, identity.as_ref(), lock_wait))
            .map_err(InboxError::new)?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next transaction, as `access` says; its result
    /// once committed.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        access: Access,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        let run: Run = Box::new(move |transaction| {
            let result = match transaction {
                Ok(transaction) if access == Access::Write => in_savepoint(transaction, work).map_err(InboxError::new),
                Ok(transaction) => work(transaction).map_err(InboxError::new),
                Err(failed) => Err(failed.to_error()),
            };
            Box::new(move |commit_failed: Option<&Failed>| {
                let result = match commit_failed {
                    None => result,
                    Some(failed) => Err(failed.to_error()),
                };
                // A caller that went away no longer needs its answer.
                let _ = reply.send(result);
            })
        });
        self.jobs.try_send(Job { access, run }).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => {
                InboxError::new(format!("the inbox is busy: {MAX_QUEUED} operations wait for the disk"))
            }
            mpsc::TrySendError::Disconnected(_) => stopped(),
        })?;
        if access != Access::Keep {
            return answer.await.map_err(|_| stopped())?;
        }
        match tokio::time::timeout(KEEP_BUDGET, answer).await {
            Ok(answer) => answer.map_err(|_| stopped())?,
            Err(_) => Err(InboxError::new(format!(
                "the inbox did not confirm the write within {} s (a slow disk, or a lock held elsewhere)",
                KEEP_BUDGET.as_secs()
            ))),
        }
    }
}

fn stopped() -> InboxError {
    InboxError::new("the inbox's writer thread stopped")
}

/// Runs `work` so that it takes effect whole or not at all, whatever the
/// other operations of the transaction do.
fn in_savepoint<T>(
    transaction: &Transaction<'_>,
    work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    // Cached: `execute_batch` would parse them again for every operation.
    let run = |sql: &str| transaction.prepare_cached(sql)?.execute([]).map(drop);
    run("SAVEPOINT op")?;
    match work(transaction) {
        Ok(value) => {
            run("RELEASE op")?;
            Ok(value)
        }
        Err(error) => {
            run("ROLLBACK TO op")?;
            run("RELEASE op")?;
            Err(error)
        }
    }
}

fn write(mut connection: Connection, incoming: &mpsc::Receiver<Job>, identity: Option<&Identity>, lock_wait: Duration) {
    let mut checkpoints = Checkpoints::new(lock_wait);
    while let Some(first) = checkpoints.next(&connection, incoming) {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // Checked before anything is written, so that the other operations
        // (the workers finishing the old file) go on without the appends: a
        // delivery written to a file that is gone would be answered 202 and
        // lost.
        if let Some(identity) = identity
            && batch.iter().any(|job| job.access == Access::Keep)
            && let Err(which) = identity.check()
        {
            let failed = Failed::Replaced(which);
            let (refused, rest): (Vec<Job>, Vec<Job>) = batch.into_iter().partition(|job| job.access == Access::Keep);
            refused.into_iter().for_each(|job| (job.run)(Err(&failed))(None));
            batch = rest;
            if batch.is_empty() {
                continue;
            }
        }
        // IMMEDIATE: take the write lock at the start, so that another process
        // (the command-line tool) makes this wait, not fail half way. Reads
        // alone take none: in WAL they see the last commit, blocking nobody.
        let behavior = match batch.iter().any(|job| job.access != Access::Read) {
            true => TransactionBehavior::Immediate,
            false => TransactionBehavior::Deferred,
        };
        let transaction = match connection.transaction_with_behavior(behavior) {
            Ok(transaction) => transaction,
            Err(error) => {
                let failed = Failed::new("no transaction", &error);
                batch.into_iter().for_each(|job| (job.run)(Err(&failed))(None));
                continue;
            }
        };
        let kept = batch.iter().any(|job| job.access == Access::Keep);
        let answers: Vec<Answer> = batch.into_iter().map(|job| (job.run)(Ok(&transaction))).collect();
        // Checked again right before the commit: the lock wait above may
        // have lasted a second, and a file replaced meanwhile would take
        // this batch's deliveries with it. Dropping the transaction rolls
        // the batch back.
        if kept
            && let Some(identity) = identity
            && let Err(which) = identity.check()
        {
            drop(transaction);
            let failed = Failed::Replaced(which);
            answers.into_iter().for_each(|answer| answer(Some(&failed)));
            continue;
        }
        match transaction.commit() {
            Ok(()) => answers.into_iter().for_each(|answer| answer(None)),
            Err(error) => {
                let failed = Failed::new("the commit failed", &error);
                answers.into_iter().for_each(|answer| answer(Some(&failed)));
            }
        }
        checkpoints.after_batch(&connection, kept);
    }
}

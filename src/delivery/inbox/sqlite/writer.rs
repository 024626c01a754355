//! The one thread that writes: it batches what has arrived into one
//! transaction and answers only after the commit. A batch of reads only
//! takes no write lock, so that the command-line tool looking at a running
//! receiver's inbox never holds up its appends.

use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::delivery::inbox::InboxError;

/// The most operations one transaction takes.
const MAX_BATCH: usize = 512;

/// The most operations waiting for the writer: past it, an append is
/// refused (the receiver answers `503`) instead of memory growing with
/// bodies while the disk is slower than the requests.
const MAX_QUEUED: usize = 4096;

/// What an operation does to the file.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    /// Only reads.
    Read,
    /// Writes with one statement, which SQLite applies whole or not at
    /// all: no savepoint needed (an append, the hot path).
    WriteOne,
    /// Writes with several statements, in a savepoint of its own, so that
    /// it takes effect whole or not at all whatever the others do.
    Write,
}

/// An operation: it runs in the transaction (or hears why there is none),
/// and gives back what answers its caller once the commit's fate is known
/// (`None` if it committed).
struct Job {
    writes: bool,
    run: Run,
}
type Run = Box<dyn FnOnce(Result<&Transaction<'_>, &Failed>) -> Answer + Send>;
type Answer = Box<dyn FnOnce(Option<&Failed>) + Send>;

/// A `BEGIN` or `COMMIT` that failed, told to every operation of its batch,
/// each as a `rusqlite::Error` of its own with SQLite's code (locked, not a
/// database, disk full...), so that callers can tell the cases apart.
struct Failed {
    stage: &'static str,
    code: rusqlite::ffi::Error,
    message: String,
}

impl Failed {
    fn new(stage: &'static str, error: &rusqlite::Error) -> Self {
        let code = error.sqlite_error().copied().unwrap_or(rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_ERROR));
        Self { stage, code, message: error.to_string() }
    }

    fn to_error(&self) -> InboxError {
        InboxError::new(rusqlite::Error::SqliteFailure(self.code, Some(format!("{}: {}", self.stage, self.message))))
    }
}

/// The way to the writer thread.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    jobs: mpsc::SyncSender<Job>,
}

impl Writer {
    pub(super) fn start(connection: Connection) -> Result<Self, InboxError> {
        let (jobs, incoming) = mpsc::sync_channel(MAX_QUEUED);
        thread::Builder::new()
            .name("foxreach-inbox".to_owned())
            .spawn(move || write(connection, &incoming))
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
        let job = Job { writes: access != Access::Read, run };
        self.jobs.try_send(job).map_err(|error| match error {
            mpsc::TrySendError::Full(_) => {
                InboxError::new(format!("the inbox is busy: {MAX_QUEUED} operations wait for the disk"))
            }
            mpsc::TrySendError::Disconnected(_) => stopped(),
        })?;
        answer.await.map_err(|_| stopped())?
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

fn write(mut connection: Connection, incoming: &mpsc::Receiver<Job>) {
    while let Ok(first) = incoming.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match incoming.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        // IMMEDIATE: take the write lock at the start, so that another process
        // (the command-line tool) makes this wait, not fail half way. Reads
        // alone take none: in WAL they see the last commit, blocking nobody.
        let behavior = match batch.iter().any(|job| job.writes) {
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
        let answers: Vec<Answer> = batch.into_iter().map(|job| (job.run)(Ok(&transaction))).collect();
        match transaction.commit() {
            Ok(()) => answers.into_iter().for_each(|answer| answer(None)),
            Err(error) => {
                let failed = Failed::new("the commit failed", &error);
                answers.into_iter().for_each(|answer| answer(Some(&failed)));
            }
        }
    }
}

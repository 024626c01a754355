//! The one thread that writes: it batches what has arrived into one
//! transaction and answers only after the commit.

use std::sync::mpsc;
use std::thread;

use rusqlite::{Connection, Transaction, TransactionBehavior};
use tokio::sync::oneshot;

use crate::delivery::inbox::InboxError;

/// The most operations one transaction takes.
const MAX_BATCH: usize = 512;

/// An operation: it runs in the transaction (or hears why there is none),
/// and gives back what answers its caller once the commit's fate is known
/// (`None` if it committed).
type Job = Box<dyn FnOnce(Result<&Transaction<'_>, &Failed>) -> Answer + Send>;
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
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn start(connection: Connection) -> Result<Self, InboxError> {
        let (jobs, incoming) = mpsc::channel();
        thread::Builder::new()
            .name("foxreach-inbox".to_owned())
            .spawn(move || write(connection, &incoming))
            .map_err(InboxError::new)?;
        Ok(Self { jobs })
    }

    /// Runs `work` in the next transaction, in a savepoint of its own; its
    /// result once committed.
    pub(super) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        self.submit(work, true).await
    }

    /// As [`run`](Self::run), for `work` that writes with one statement,
    /// which SQLite applies whole or not at all: no savepoint needed (an
    /// append, the hot path).
    pub(super) async fn run_one_statement<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
    ) -> Result<T, InboxError> {
        self.submit(work, false).await
    }

    async fn submit<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Transaction<'_>) -> rusqlite::Result<T> + Send + 'static,
        savepoint: bool,
    ) -> Result<T, InboxError> {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move |transaction| {
            let result = match transaction {
                Ok(transaction) if savepoint => in_savepoint(transaction, work).map_err(InboxError::new),
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
        self.jobs.send(job).map_err(|_| stopped())?;
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
        // (the command-line tool) makes this wait, not fail half way.
        let transaction = match connection.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(transaction) => transaction,
            Err(error) => {
                let failed = Failed::new("no transaction", &error);
                batch.into_iter().for_each(|job| job(Err(&failed))(None));
                continue;
            }
        };
        let answers: Vec<Answer> = batch.into_iter().map(|job| job(Ok(&transaction))).collect();
        match transaction.commit() {
            Ok(()) => answers.into_iter().for_each(|answer| answer(None)),
            Err(error) => {
                let failed = Failed::new("the commit failed", &error);
                answers.into_iter().for_each(|answer| answer(Some(&failed)));
            }
        }
    }
}

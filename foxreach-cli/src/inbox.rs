//! `inbox`: the durable inbox's counts, entries and dead letters, and the
//! two repairs a person makes: replaying and purging.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use clap::{Args, Subcommand, ValueEnum};
use foxreach_inbox::{EntryId, Inbox, InboxError, RedisInbox, Replay, SqliteInbox, State};
use rusqlite::ErrorCode;
use serde_json::json;

use crate::Failure;
use crate::output::{self, Report};

#[derive(Args)]
pub(crate) struct InboxArgs {
    /// The inbox's SQLite file, as the receiver opened it. It must exist:
    /// this tool never creates an inbox.
    #[arg(long, global = true, value_name = "FILE", env = "FOXREACH_INBOX", default_value = "foxreach-inbox.sqlite3")]
    path: PathBuf,
    /// The inbox in the Redis at this URL (`redis://[:password@]host:port/db`)
    /// instead of a SQLite file, as receivers started with `REDIS_URL` keep
    /// it; `REDIS_URL` when set (better than the flag: a URL with a password
    /// on the command line shows in `ps` and the shell's history). Messages
    /// show its host and port, never a password.
    #[arg(long, global = true, value_name = "URL", env = "REDIS_URL", hide_env_values = true)]
    redis: Option<String>,
    #[command(subcommand)]
    command: InboxCommand,
}

#[derive(Subcommand)]
enum InboxCommand {
    /// Count the deliveries in each state: pending (waiting for a worker),
    /// taken (a handler is on it), done (processed, kept to recognize
    /// FoxReach's duplicates) and dead (given up on, kept until replayed).
    Stats,
    /// List deliveries, oldest first: id, state, event type, FoxReach's
    /// signed timestamp, arrival, attempts, and why the last attempt failed.
    List(ListArgs),
    /// Show every field of one delivery; its body only with --body (it is
    /// FoxReach's data about your leads).
    Show {
        /// The entry's id, as `inbox list` shows it.
        id: i64,
        /// Print the body too, as text.
        #[arg(long)]
        body: bool,
    },
    /// Make dead (or done) deliveries pending again, due now, so that the
    /// receiver's workers run their handlers once more: after fixing what
    /// made them fail.
    Replay(ReplayArgs),
    /// Delete done deliveries settled more than DURATION ago. A purged
    /// delivery is no longer recognized as a duplicate, so keep DURATION
    /// longer than FoxReach's retries (36 minutes after a first failure).
    Purge {
        /// How old a settled delivery must be to go, such as `24h` or `7d`.
        #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
        done_before: Duration,
    },
}

#[derive(Args)]
struct ListArgs {
    /// Only the dead letters (the same as --state dead).
    #[arg(long, conflicts_with = "state")]
    dead: bool,
    /// Only the entries in this state.
    #[arg(long, value_enum)]
    state: Option<StateArg>,
    /// At most this many entries.
    #[arg(long, value_name = "N", default_value_t = 50)]
    limit: usize,
    /// Start after this id (the last one of the previous page).
    #[arg(long, value_name = "ID")]
    after: Option<i64>,
}

#[derive(Args)]
#[group(required = true, multiple = false)]
struct ReplayArgs {
    /// The entry to replay (dead or done).
    id: Option<i64>,
    /// Replay every dead letter.
    #[arg(long)]
    all_dead: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum StateArg {
    Pending,
    Taken,
    Done,
    Dead,
}

impl From<StateArg> for State {
    fn from(state: StateArg) -> Self {
        match state {
            StateArg::Pending => Self::Pending,
            StateArg::Taken => Self::Taken,
            StateArg::Done => Self::Done,
            StateArg::Dead => Self::Dead,
        }
    }
}

/// How long after a first failure FoxReach's last retry comes (1 + 5 + 30
/// minutes): a done delivery purged sooner may be processed again.
const FOXREACH_RETRIES: Duration = Duration::from_secs(36 * 60);

pub(crate) async fn run(args: InboxArgs) -> Result<Report, Failure> {
    if let Some(url) = args.redis {
        let place = redis_place(&url);
        let inbox = RedisInbox::connect_existing(&url)
            .await
            .map_err(|error| Failure::Inbox(format!("the Redis inbox at {place} is unusable: {error}")))?;
        let fail = |error: InboxError| Failure::Inbox(format!("the Redis inbox at {place} failed: {error}"));
        return execute(&inbox, args.command, &place, fail).await;
    }
    let path = args.path;
    // The receiver's own setting for "no inbox", exported in the same shell.
    if path.as_os_str() == "memory" {
        return Err(Failure::Inbox(
            "FOXREACH_INBOX=memory: the receiver keeps no inbox in that mode; pass --path FILE to look at one"
                .to_owned(),
        ));
    }
    // `open_existing` refuses a missing file too; saying so here names the
    // ways to point at the right one.
    if !path.is_file() {
        return Err(Failure::Inbox(format!(
            "there is no inbox at {}: pass --path FILE or set FOXREACH_INBOX (this tool never creates one)",
            path.display()
        )));
    }
    let inbox = SqliteInbox::open_existing(&path).map_err(|error| unusable(&path, &error))?;
    let fail = |error: InboxError| unusable(&path, &error);
    execute(&inbox, args.command, &path.display().to_string(), fail).await
}

/// A Redis URL as messages show it: scheme, host and port (or a Unix
/// socket's path), never a password.
fn redis_place(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    // A Unix socket's password is in the query (`?pass=`), a server's
    // before the `@`.
    let rest = rest.split('?').next().unwrap_or(rest);
    if scheme.ends_with("unix") {
        return format!("{scheme}://{rest}");
    }
    let host = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    format!("{scheme}://{}", host.split('/').next().unwrap_or(host))
}

/// Runs `command` on `inbox` (`place` names it in messages).
async fn execute<I: Inbox>(
    inbox: &I,
    command: InboxCommand,
    place: &str,
    fail: impl Fn(InboxError) -> Failure + Copy,
) -> Result<Report, Failure> {
    match command {
        InboxCommand::Stats => {
            let stats = inbox.stats().await.map_err(fail)?;
            let oldest = inbox.backlog().await.map_err(fail)?.oldest_open;
            let waiting = oldest.map_or_else(
                || "-".to_owned(),
                |since| {
                    let waited = since.elapsed().unwrap_or_default();
                    format!(
                        "{} ago ({})",
                        humantime::format_duration(Duration::from_secs(waited.as_secs())),
                        output::time(since)
                    )
                },
            );
            let text = format!(
                "pending      {}\ntaken        {}\ndone         {}\ndead         {}\noldest open  {waiting}\n",
                stats.pending, stats.taken, stats.done, stats.dead
            );
            let json = json!({
                "pending": stats.pending,
                "taken": stats.taken,
                "done": stats.done,
                "dead": stats.dead,
                "oldest_open": oldest.map(output::time),
            });
            Ok(Report::new(text, json))
        }
        InboxCommand::List(list) => {
            let state = if list.dead { Some(State::Dead) } else { list.state.map(State::from) };
            let entries = inbox.list(state, list.after.map(EntryId), list.limit).await.map_err(fail)?;
            // A full page may have more after it.
            let next = entries.last().filter(|_| entries.len() == list.limit && list.limit > 0).map(|last| last.id);
            let text = if entries.is_empty() {
                output::note("no entries");
                String::new()
            } else {
                if let Some(next) = next {
                    output::note(&format!("{} shown; more with --after {next}", entries.len()));
                }
                output::entry_table(&entries)
            };
            let json = json!({
                "entries": entries.iter().map(|entry| output::entry_json(entry, false)).collect::<Vec<_>>(),
                "next_after": next.map(|id| id.0),
            });
            Ok(Report::new(text, json))
        }
        InboxCommand::Show { id, body } => {
            let entry = inbox.entry(EntryId(id)).await.map_err(fail)?.ok_or_else(|| no_entry(id, place))?;
            if body && entry.body.as_deref().is_some_and(|bytes| std::str::from_utf8(bytes).is_err()) {
                output::note("warning: the body is not UTF-8 text; its invalid bytes are shown as U+FFFD");
            }
            Ok(Report::new(output::entry_text(&entry, body), output::entry_json(&entry, body)))
        }
        InboxCommand::Replay(ReplayArgs { id: Some(id), .. }) => {
            // `replay` counts 0 alike for a missing entry and one that is not
            // settled; looking first tells the person which.
            let entry = inbox.entry(EntryId(id)).await.map_err(fail)?.ok_or_else(|| no_entry(id, place))?;
            if matches!(entry.state, State::Pending | State::Taken) {
                return Err(Failure::No(format!(
                    "entry {id} is {} already: only dead and done entries can be replayed",
                    entry.state
                )));
            }
            match inbox.replay(Replay::Entry(EntryId(id))).await.map_err(fail)? {
                0 => Err(Failure::No(format!("entry {id} was taken up meanwhile: nothing replayed"))),
                replayed => Ok(Report::new(
                    format!("replayed entry {id}: it is pending, due now\n"),
                    json!({"replayed": replayed, "id": id}),
                )),
            }
        }
        InboxCommand::Replay(ReplayArgs { id: None, .. }) => match inbox.replay(Replay::AllDead).await.map_err(fail)? {
            0 => Err(Failure::No("there are no dead entries: nothing replayed".to_owned())),
            replayed => Ok(Report::new(
                format!("replayed {replayed} dead {}: pending, due now\n", plural(replayed)),
                json!({"replayed": replayed}),
            )),
        },
        InboxCommand::Purge { done_before } => {
            let before = SystemTime::now().checked_sub(done_before).ok_or_else(|| {
                Failure::Usage(format!("--done-before {} reaches before 1970", humantime::format_duration(done_before)))
            })?;
            if done_before < FOXREACH_RETRIES {
                eprintln!(
                    "warning: --done-before {} is shorter than FoxReach's retries (36 minutes): a retry of a delivery \
                     purged now would be processed again",
                    humantime::format_duration(done_before)
                );
            }
            let purged = inbox.purge(before).await.map_err(fail)?;
            Ok(Report::new(
                format!("purged {purged} done {} settled before {}\n", plural(purged), output::time(before)),
                json!({"purged": purged, "done_before": output::time(before)}),
            ))
        }
    }
}

fn plural(count: u64) -> &'static str {
    if count == 1 { "entry" } else { "entries" }
}

fn no_entry(id: i64, place: &str) -> Failure {
    Failure::No(format!("there is no entry {id} in the inbox at {place}"))
}

/// One line that says what is wrong with the inbox, and what to check.
fn unusable(path: &Path, error: &InboxError) -> Failure {
    let path = path.display();
    let message = match sqlite_code(error) {
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => locked(&path),
        Some(ErrorCode::NotADatabase) => not_sqlite(&path),
        _ => match error.source() {
            Some(cause) => format!("the inbox at {path} failed: {cause}"),
            None => format!("{path}: {error}"),
        },
    };
    Failure::Inbox(message)
}

fn locked(path: &std::path::Display<'_>) -> String {
    format!(
        "the inbox at {path} is locked by another process (waited 5 s): is a receiver or another \
         foxreach-webhooks in a long transaction? Try again"
    )
}

fn not_sqlite(path: &std::path::Display<'_>) -> String {
    format!("{path} is not an inbox: the file is not a SQLite database (is --path pointing at the right file?)")
}

fn sqlite_code(error: &(dyn StdError + 'static)) -> Option<ErrorCode> {
    let mut cause = error.source();
    while let Some(current) = cause {
        if let Some(sqlite) = current.downcast_ref::<rusqlite::Error>() {
            return sqlite.sqlite_error_code();
        }
        cause = current.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::redis_place;

    #[test]
    fn a_redis_url_is_shown_without_its_password() {
        assert_eq!(redis_place("redis://:hunter2@cache.internal:6380/2"), "redis://cache.internal:6380");
        assert_eq!(redis_place("rediss://user:hunter2@cache.internal"), "rediss://cache.internal");
        assert_eq!(redis_place("redis+unix:///run/redis.sock?db=1&pass=hunter2"), "redis+unix:///run/redis.sock");
        assert_eq!(redis_place("unix:///run/redis.sock"), "unix:///run/redis.sock");
    }
}

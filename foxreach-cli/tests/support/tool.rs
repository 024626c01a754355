//! The command-line tool run as a child process against the stand-in of
//! FoxReach's API, checking that no key or secret shows in its output.
#![allow(dead_code)] // each test crate uses its own part of this

use std::process::Command;

use serde_json::Value;

use crate::stand_in::{API_KEY, StandIn};

/// What a run of the tool left: its exit status and output.
pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs the tool against `stand_in` with `key`; checks that no key and,
/// unless `may_show_secret`, no secret the stand-in holds shows anywhere.
pub(crate) fn run_as(stand_in: &StandIn, key: Option<&str>, args: &[&str], may_show_secret: bool) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_foxreach-webhooks"));
    command.args(args).env("FOXREACH_API_URL", &stand_in.base_url).env_remove("FOXREACH_API_KEY");
    if let Some(key) = key {
        command.env("FOXREACH_API_KEY", key);
    }
    let output = command.output().expect("the binary runs");
    let run = Run {
        code: output.status.code().expect("an exit status"),
        stdout: String::from_utf8(output.stdout).expect("UTF-8"),
        stderr: String::from_utf8(output.stderr).expect("UTF-8"),
    };
    let shown = format!("{}{}", run.stdout, run.stderr);
    assert!(!shown.contains(API_KEY), "the API key leaked: {args:?}\n{shown}");
    if let Some(key) = key {
        assert!(!shown.contains(key), "the API key leaked: {args:?}\n{shown}");
    }
    if !may_show_secret {
        for stored in &stand_in.state().webhooks {
            assert!(!shown.contains(&stored.secret), "a secret leaked: {args:?}\n{shown}");
        }
    }
    run
}

/// Runs the tool with the stand-in's key, no secret allowed to show.
pub(crate) fn run(stand_in: &StandIn, args: &[&str]) -> Run {
    run_as(stand_in, Some(API_KEY), args, false)
}

/// The run's stdout as JSON (`--json`).
pub(crate) fn json(run: &Run) -> Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|error| panic!("{error}: {}", run.stdout))
}

/// The file's permission bits (0o600 where there are none).
pub(crate) fn mode(path: &str) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::metadata(path).expect("the file").permissions().mode() & 0o777
    }
    #[cfg(not(unix))]
    0o600
}

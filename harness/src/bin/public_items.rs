//! Counts a crate's public items from its rustdoc JSON, the way issue 25
//! counts them: modules, types (structs, enums, unions, type aliases),
//! traits, functions and inherent methods, constants, statics and macros;
//! neither fields, variants, re-exports nor trait implementations.
//!
//! ```text
//! RUSTC_BOOTSTRAP=1 cargo rustdoc -p foxreach-webhooks --all-features -- -Z unstable-options --output-format json
//! cargo run -p foxreach-webhooks-harness --bin public_items -- target/doc/foxreach_webhooks.json
//! ```
//!
//! A method of a trait implementation is not `public` in rustdoc's JSON
//! (its visibility is the trait's), so counting `public` items leaves
//! trait implementations out; a `pub` item in a private module, not
//! re-exported, is not reachable, and `unreachable_pub` forbids it here.

use std::collections::BTreeMap;
use std::process::ExitCode;

use serde_json::Value;

/// The kinds counted, as rustdoc's JSON names them.
const COUNTED: [&str; 10] =
    ["module", "struct", "enum", "union", "type_alias", "trait", "function", "constant", "static", "macro"];

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: public_items <rustdoc JSON file>");
        return ExitCode::from(2);
    };
    let json: Value = match std::fs::read(&path)
        .map_err(|e| e.to_string())
        .and_then(|bytes| serde_json::from_slice(&bytes).map_err(|e| e.to_string()))
    {
        Ok(json) => json,
        Err(error) => {
            eprintln!("cannot read {path}: {error}");
            return ExitCode::FAILURE;
        }
    };
    let Some(index) = json["index"].as_object() else {
        eprintln!("{path} is not rustdoc JSON: no index");
        return ExitCode::FAILURE;
    };
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for item in index.values() {
        let local = item["crate_id"].as_u64() == Some(0);
        let public = item["visibility"].as_str() == Some("public");
        let kind = item["inner"].as_object().and_then(|inner| inner.keys().next()).map(String::as_str);
        let counted = kind.and_then(|kind| COUNTED.iter().find(|&&counted| counted == kind));
        if let (true, true, Some(&counted)) = (local, public, counted) {
            *counts.entry(counted).or_default() += 1;
        }
    }
    let total: usize = counts.values().sum();
    let by_kind: Vec<String> = counts.iter().map(|(kind, n)| format!("{kind} {n}")).collect();
    println!("{total} public items ({})", by_kind.join(", "));
    ExitCode::SUCCESS
}

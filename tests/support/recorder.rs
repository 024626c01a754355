//! A test recorder of the `metrics` facade for one test's thread alone
//! (tests run side by side), and what it recorded, as text.

use std::collections::BTreeMap;

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};

/// A metric's name and its labels, sorted: `name{a=1,b=2}`.
fn name(key: &metrics_util::CompositeKey) -> String {
    let key = key.key();
    let mut labels: Vec<String> = key.labels().map(|label| format!("{}={}", label.key(), label.value())).collect();
    labels.sort();
    format!("{}{{{}}}", key.name(), labels.join(","))
}

/// Counters, and histograms' counts of values, recorded since the last
/// call (gauges are left out: see [`gauges`]).
pub(crate) fn recorded(snapshotter: &Snapshotter) -> BTreeMap<String, u64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let count = match value {
                DebugValue::Counter(count) => count,
                DebugValue::Histogram(values) => values.len() as u64,
                DebugValue::Gauge(_) => 0,
            };
            (name(&key), count)
        })
        .filter(|(_, count)| *count > 0)
        .collect()
}

/// The gauges' values now.
pub(crate) fn gauges(snapshotter: &Snapshotter) -> BTreeMap<String, f64> {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter_map(|(key, _, _, value)| match value {
            DebugValue::Gauge(value) => Some((name(&key), value.into_inner())),
            _ => None,
        })
        .collect()
}

/// Runs `test` on a runtime of this thread alone, with a recorder for this
/// thread alone.
pub(crate) fn with_recorder(test: impl AsyncFnOnce(Snapshotter)) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    metrics::with_local_recorder(&recorder, || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(test(snapshotter));
    });
}

/// The map a test expects.
pub(crate) fn expect(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(name, count)| ((*name).to_owned(), *count)).collect()
}

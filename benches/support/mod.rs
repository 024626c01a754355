//! Benchmarks that take turns: the measurement both bench files use.
//!
//! This machine is shared, and its speed drifts by tens of percent over
//! minutes, so benchmarks run one after the other are measured under
//! different conditions and their ratios wander (0.97x to 1.82x for the same
//! pair of handlers). Here every contender runs a few calls in turn, over
//! and over; each criterion benchmark times only its own turns, and the
//! ratios printed at the end are of each contender's total time over every
//! turn of every benchmark, which all ran under the same conditions.

use std::time::Duration;

use criterion::Criterion;

/// One of the things compared: `run(calls)` makes that many calls and
/// returns the time they took, leaving preparation outside the timing.
pub(crate) struct Contender<'a> {
    pub(crate) name: &'a str,
    pub(crate) run: Box<dyn FnMut(u32) -> Duration + 'a>,
}

/// Benchmarks `contenders` taking turns of `calls` calls each, then prints
/// each one's total time as a ratio to `contenders[baseline]`'s.
pub(crate) fn taking_turns(
    c: &mut Criterion,
    group: &str,
    contenders: &mut [Contender<'_>],
    baseline: usize,
    calls: u32,
) {
    let mut totals = vec![Duration::ZERO; contenders.len()];
    let mut turns = 0u64;
    let names: Vec<&str> = contenders.iter().map(|contender| contender.name).collect();
    let mut benchmarks = c.benchmark_group(group);
    for (timed, name) in names.iter().enumerate() {
        benchmarks.bench_function(*name, |b| {
            b.iter_custom(|iterations| {
                let mut own = Duration::ZERO;
                for _ in 0..iterations {
                    for (turn, contender) in contenders.iter_mut().enumerate() {
                        let elapsed = (contender.run)(calls);
                        totals[turn] += elapsed;
                        if turn == timed {
                            own += elapsed;
                        }
                    }
                }
                turns += iterations;
                // Criterion's time per iteration is then the time per call.
                own / calls
            })
        });
    }
    benchmarks.finish();
    if turns == 0 {
        return; // every benchmark of the group was filtered out
    }
    println!("{group}: {turns} turns of {calls} call(s) each; total time as a ratio to {}:", names[baseline]);
    for (name, total) in names.iter().zip(&totals) {
        let per_call = *total / u32::try_from(turns * u64::from(calls)).unwrap_or(u32::MAX);
        println!("    {name}: {:.3}x ({per_call:.2?} a call)", total.as_secs_f64() / totals[baseline].as_secs_f64());
    }
}

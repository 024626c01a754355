//! The in-memory duplicate store stays within its bound however many
//! distinct deliveries arrive, measured on the heap with dhat. A test binary
//! of its own: dhat counts every allocation of the process.
#![cfg(feature = "delivery")]

use foxreach_webhooks::delivery::{Claim, DeliveryKey, MemoryStore, SeenStore};

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

fn key(n: u64) -> DeliveryKey {
    // Spread like MACs: every byte of the key depends on n.
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(&(n.wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(i as u32 * 16)).to_le_bytes());
    }
    DeliveryKey::new(bytes)
}

#[tokio::test(flavor = "current_thread")]
async fn a_million_distinct_deliveries_stay_within_the_capacity() {
    // Backtraces of one frame: the allocation sites do not matter here, and
    // walking the stack on each of millions of allocations is most of the time.
    let _profiler = dhat::Profiler::builder().testing().trim_backtraces(Some(1)).build();
    const CAPACITY: usize = 100_000;
    const DELIVERIES: u64 = 1_000_000;
    let before = dhat::HeapStats::get().curr_bytes;
    let store = MemoryStore::new().capacity(CAPACITY);
    let made = dhat::HeapStats::get().curr_bytes - before;
    let mut at_capacity = 0;
    for n in 0..DELIVERIES {
        assert_eq!(store.claim(&key(n)).await.ok(), Some(Claim::New));
        store.complete(&key(n)).await.expect("completes");
        if n + 1 == 2 * CAPACITY as u64 {
            at_capacity = dhat::HeapStats::get().curr_bytes - before;
        }
    }
    let remembered = store.len();
    let stats = dhat::HeapStats::get();
    let (after, peak) = (stats.curr_bytes - before, stats.max_bytes - before);
    let per_delivery = after as f64 / CAPACITY as f64;
    println!(
        "heap when made: {made} bytes; after {} deliveries: {at_capacity} bytes; after {DELIVERIES}: {after} bytes \
         ({per_delivery:.0} per delivery of capacity; {remembered} remembered); peak: {peak} bytes",
        2 * CAPACITY
    );
    assert!(remembered <= CAPACITY, "{remembered} remembered: fuller than the capacity");
    // The newest are remembered, the oldest forgotten.
    assert_eq!(store.claim(&key(DELIVERIES - 1)).await.ok(), Some(Claim::Done));
    assert_eq!(store.claim(&key(0)).await.ok(), Some(Claim::New));
    // Full since the 100,000th delivery: 800,000 more did not grow the heap
    // by more than 5%, and the peak stays within 10% of it. (Measured on
    // 2026-11-30: no growth at all, 107 bytes per delivery of capacity.)
    assert!(after as f64 <= at_capacity as f64 * 1.05, "the heap grew from {at_capacity} to {after} bytes");
    assert!(peak as f64 <= after as f64 * 1.10, "peak {peak} bytes for {after} at rest");
    assert!(per_delivery <= 120.0, "{per_delivery:.0} bytes per delivery of capacity");
}

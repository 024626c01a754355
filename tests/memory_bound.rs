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
    let _profiler = dhat::Profiler::builder().testing().build();
    const CAPACITY: usize = 100_000;
    const DELIVERIES: u64 = 1_000_000;

    let store = MemoryStore::new().capacity(CAPACITY);
    let before = dhat::HeapStats::get().curr_bytes;
    let mut twice_over = 0;
    for n in 0..DELIVERIES {
        assert_eq!(store.claim(&key(n)).await.ok(), Some(Claim::New));
        store.complete(&key(n)).await.expect("completes");
        if n + 1 == 2 * CAPACITY as u64 {
            twice_over = dhat::HeapStats::get().curr_bytes - before;
        }
    }
    let stats = dhat::HeapStats::get();
    let after = stats.curr_bytes - before;
    assert_eq!(store.len(), CAPACITY);
    // The newest are remembered, the oldest forgotten.
    assert_eq!(store.claim(&key(DELIVERIES - 1)).await.ok(), Some(Claim::Done));
    assert_eq!(store.claim(&key(0)).await.ok(), Some(Claim::New));

    let per_entry = after as f64 / CAPACITY as f64;
    println!(
        "heap after {DELIVERIES} deliveries: {after} bytes ({per_entry:.0} per remembered delivery); \
         after {}: {twice_over} bytes; peak: {} bytes",
        2 * CAPACITY,
        stats.max_bytes
    );
    // Once the map has room for its churn, nothing more is allocated: the
    // last 800,000 deliveries did not grow the heap at all.
    assert_eq!(after, twice_over, "the heap grew after the store was full");
    // 24 bytes in the map and 24 in the queue per entry, with the slack of a
    // hash map that churns (it settles at twice the entries' room).
    assert!(per_entry < 128.0, "{per_entry:.0} bytes per remembered delivery");
}

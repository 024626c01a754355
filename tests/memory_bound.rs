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
    let before = dhat::HeapStats::get().curr_bytes;
    let store = MemoryStore::new().capacity(CAPACITY);
    let mut after_first = 0;
    for n in 0..DELIVERIES {
        assert_eq!(store.claim(&key(n)).await.ok(), Some(Claim::New));
        store.complete(&key(n)).await.expect("completes");
        if n == 0 {
            after_first = dhat::HeapStats::get().curr_bytes - before;
        }
    }
    let stats = dhat::HeapStats::get();
    let after = stats.curr_bytes - before;
    // Room for three times the capacity, every place taken by now.
    let remembered = store.len();
    assert!((CAPACITY..=3 * CAPACITY).contains(&remembered), "{remembered} remembered");
    // The newest are remembered, the oldest forgotten.
    assert_eq!(store.claim(&key(DELIVERIES - 1)).await.ok(), Some(Claim::Done));
    assert_eq!(store.claim(&key(0)).await.ok(), Some(Claim::New));
    let per_capacity = after as f64 / CAPACITY as f64;
    println!(
        "heap after {DELIVERIES} deliveries: {after} bytes ({per_capacity:.0} per delivery of capacity; \
         {remembered} remembered); after the first: {after_first} bytes; peak: {} bytes",
        stats.max_bytes - before
    );
    // The table is allocated whole by the first claim and never grows.
    assert_eq!(after, after_first, "the heap grew after the first delivery");
    assert_eq!(stats.max_bytes - before, after, "the peak is the table");
    // 3 places of 24 bytes per delivery of capacity.
    assert!(per_capacity <= 72.0, "{per_capacity:.0} bytes per delivery of capacity");
}

//! Data parallelism with a fixed merge order (DESIGN Part B, "Determinism").
//!
//! The engine may use several threads only behind an explicit `threads`
//! parameter, and only where the results merge in a fixed order, so the
//! output is byte-identical for every thread count. [`map_ordered`] is that
//! one pattern: independent items are handed to `threads` scoped workers,
//! each result lands in the slot of its item, and the caller reads the slots
//! in item order — the same order a sequential `map` gives. No result ever
//! depends on which worker computed it or when.
//!
//! This is the only module of the core that starts threads
//! (`scripts/check-core-purity` allows it here and nowhere else); the
//! threads are scoped, so none outlives the call.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

/// `items.into_iter().map(f).collect()`, computed by up to `threads`
/// workers. `weight` is a scheduling hint only (heavier items start first,
/// which balances the workers when a few items dominate); it never changes
/// the result, which is in item order.
///
/// With `threads <= 1` (or fewer than two items) it is exactly the
/// sequential map, on the caller's thread. A panic in `f` propagates to the
/// caller, as in the sequential map.
pub(crate) fn map_ordered<I, O, W, F>(threads: usize, items: Vec<I>, weight: W, f: F) -> Vec<O>
where
    I: Send,
    O: Send,
    W: Fn(&I) -> usize,
    F: Fn(I) -> O + Sync,
{
    let n = items.len();
    let workers = threads.min(n);
    if workers <= 1 {
        return items.into_iter().map(f).collect();
    }
    // Schedule: heaviest first (ties by index), a fixed order; each worker
    // takes the next item of the schedule from one atomic counter.
    let mut schedule: Vec<(usize, usize)> = items.iter().enumerate().map(|(i, it)| (weight(it), i)).collect();
    schedule.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    // Each item is taken exactly once (one uncontended lock per item, never
    // in a per-row path).
    let inputs: Vec<Mutex<Option<I>>> = items.into_iter().map(|i| Mutex::new(Some(i))).collect();
    let next = AtomicUsize::new(0);
    let run = || {
        let mut done: Vec<(usize, O)> = Vec::new();
        loop {
            let s = next.fetch_add(1, Ordering::Relaxed);
            let Some(&(_, i)) = schedule.get(s) else { break };
            let item = inputs[i].lock().unwrap_or_else(|e| e.into_inner()).take();
            if let Some(item) = item {
                done.push((i, f(item)));
            }
        }
        done
    };
    let mut slots: Vec<Option<O>> = (0..n).map(|_| None).collect();
    let parts: Vec<Vec<(usize, O)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = (1..workers).map(|_| scope.spawn(run)).collect();
        let mut parts = vec![run()];
        for h in handles {
            match h.join() {
                Ok(p) => parts.push(p),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        parts
    });
    for (i, o) in parts.into_iter().flatten() {
        slots[i] = Some(o);
    }
    // Every index is in the schedule once and every worker ran to the end
    // of it, so every slot is filled.
    slots.into_iter().map(|o| o.expect("every item is computed once")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_in_item_order_for_every_thread_count() {
        let items: Vec<u64> = (0..257).map(|i| (i * 7919) % 263).collect();
        let expected: Vec<u64> = items.iter().map(|x| x * x + 1).collect();
        for threads in [0, 1, 2, 3, 8, 300] {
            let got = map_ordered(threads, items.clone(), |x| *x as usize, |x| x * x + 1);
            assert_eq!(got, expected, "threads = {threads}");
        }
    }

    #[test]
    fn owned_items_are_moved_not_copied() {
        let items: Vec<Vec<u8>> = (0..10u8).map(|i| vec![i; i as usize]).collect();
        let got = map_ordered(2, items, Vec::len, |v| v.len());
        assert_eq!(got, (0..10).collect::<Vec<usize>>());
    }
}

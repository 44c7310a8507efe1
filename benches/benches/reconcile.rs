//! Criterion benchmark: reconcile a generated 100 k-signal bundle in memory.
//!
//! The workload is generated once, outside the timed loop, by the same
//! deterministic generator as `gen-workload`. Size: `EUCORA_BENCH_SIGNALS`
//! (default 100 000).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eucora_license_benches::{memory_bundle, Config};
use eucora_license_core::{reconcile, RunStatus};
use std::hint::black_box;

fn bench_reconcile(c: &mut Criterion) {
    let signals = std::env::var("EUCORA_BENCH_SIGNALS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000u64);
    let cfg = Config::small(signals);
    let bundle = memory_bundle(&cfg).expect("generate workload");

    // Sanity, outside the timed loop: the workload must reconcile.
    let outcome = reconcile(&bundle, None);
    assert_ne!(outcome.status, RunStatus::Failed, "benchmark workload failed closed: {:?}", outcome.errors);
    assert!(outcome.snapshot.is_some());

    let mut group = c.benchmark_group("reconcile");
    group.sample_size(10);
    group.throughput(Throughput::Elements(signals));
    group.bench_function(format!("{}k_signals", signals / 1000), |b| {
        b.iter(|| {
            let out = reconcile(black_box(&bundle), None);
            black_box(out.status)
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(10)
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(8));
    targets = bench_reconcile
}
criterion_main!(benches);

//! Criterion benchmark: adapter throughput (bytes of raw export per second).
//!
//! Each adapter reads a generated export of its documented shape
//! (`eucora_license_benches::adapter_inputs`), built once outside the timed
//! loop. Scale: `EUCORA_BENCH_ADAPTER_SCALE` devices / users / rows (default
//! 20 000, which gives 5–40 MB per adapter). Select adapters with criterion's
//! filter, e.g. `cargo bench -p eucora-license-benches --bench adapters -- sccm`.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eucora_license_benches::adapter_inputs::{generate, ADAPTERS};
use eucora_license_core::internal::adapters::run;
use std::hint::black_box;

fn bench_adapters(c: &mut Criterion) {
    let scale = std::env::var("EUCORA_BENCH_ADAPTER_SCALE").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000u64);
    let mut group = c.benchmark_group("adapter");
    group.sample_size(10);
    for name in ADAPTERS {
        // subscribedSkus lists a tenant's SKUs: hundreds, not tens of thousands.
        let input = generate(name, if *name == "entra-subscribed-skus" { scale / 20 } else { scale }).expect("known adapter");
        // Sanity, outside the timed loop: the export is read without rejections.
        let (_, out) = run(name, &input.files, &input.options).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(out.rejected.is_empty(), "{name}: generated input has rejected records");
        eprintln!(
            "{name}: {} files, {:.1} MB, {} records -> {} signals, {} identity facts",
            input.files.len(),
            input.bytes() as f64 / 1e6,
            input.records,
            out.signals.len(),
            out.directory.len()
        );
        group.throughput(Throughput::Bytes(input.bytes()));
        group.bench_function(*name, |b| {
            b.iter(|| black_box(run(name, black_box(&input.files), &input.options).map(|(_, o)| o.signals.len())))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_adapters);
criterion_main!(benches);

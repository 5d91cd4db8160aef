//! Criterion benchmarks of the revision graph on generated histories of
//! 1,000, 10,000 and 100,000 revisions (forks every ~20 revisions, merged
//! back): reading the files (the baseline), loading (read + parse),
//! building and validating the graph, heads, a full upgrade plan, and the
//! offline SQL script.

#[path = "support/generate.rs"]
mod generate;

use std::path::PathBuf;
use std::time::Duration;

use braid::config::Engine;
use braid::db::Dialect;
use braid::graph::{Graph, Record};
use braid::history::History;
use braid::migration::load_directories;
use braid::plan;
use braid::target;
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};

fn read_all(dir: &PathBuf) -> usize {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        total += std::fs::read(e.unwrap().path()).unwrap().len();
    }
    total
}

fn bench(c: &mut Criterion) {
    let sizes: Vec<usize> = std::env::var("BRAID_BENCH_SIZES")
        .map(|s| s.split(',').map(|x| x.trim().parse().unwrap()).collect())
        .unwrap_or_else(|_| vec![1_000, 10_000, 100_000]);
    let tmp = tempfile::tempdir().unwrap();
    let mut group = c.benchmark_group("graph");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500));
    for &n in &sizes {
        let dir = tmp.path().join(n.to_string());
        generate::write_braid(&dir, &generate::history(n)).unwrap();
        let dirs = vec![dir.clone()];
        let migrations = load_directories(&dirs).unwrap();
        let records: Vec<Record> = migrations
            .iter()
            .map(|m| Record {
                id: m.id.clone(),
                parents: m.down_revisions.clone(),
                depends_on: m.depends_on.clone(),
                labels: m.branch_labels.clone(),
            })
            .collect();
        let history = History::from_migrations(migrations).unwrap();
        let g = &history.graph;
        let heads = target::parse("heads").unwrap();
        let dialect = Dialect::new(Engine::Postgres, Some("boneca"), "braid_version");

        group.bench_with_input(BenchmarkId::new("read_files", n), &dir, |b, d| {
            b.iter(|| read_all(d))
        });
        group.bench_with_input(BenchmarkId::new("load", n), &dirs, |b, d| {
            b.iter(|| load_directories(d).unwrap().len())
        });
        group.bench_with_input(BenchmarkId::new("build_validate", n), &records, |b, r| {
            b.iter(|| Graph::build(r).unwrap().len())
        });
        group.bench_function(BenchmarkId::new("heads", n), |b| b.iter(|| g.heads().len()));
        group.bench_function(BenchmarkId::new("plan_upgrade_heads", n), |b| {
            b.iter(|| plan::upgrade(g, &[], &heads).unwrap().steps.len())
        });
        let p = plan::upgrade(g, &[], &heads).unwrap();
        group.bench_function(BenchmarkId::new("plan_downgrade_base", n), |b| {
            b.iter(|| {
                plan::downgrade(g, &p.after, &target::parse("base").unwrap())
                    .unwrap()
                    .steps
                    .len()
            })
        });
        group.bench_function(BenchmarkId::new("sql_script", n), |b| {
            b.iter(|| braid::render::sql::script(&history, &p, &dialect, "upgrade heads").len())
        });
        group.bench_with_input(BenchmarkId::new("end_to_end_heads", n), &dirs, |b, d| {
            b.iter(|| History::load(d).unwrap().graph.heads().len())
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

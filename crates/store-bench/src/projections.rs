//! `projections-bench`: the read models of issue 4 at province scale, on
//! PostgreSQL.
//!
//! 1. Writes the seed's province history (`motcua-seed`: 236 units, by
//!    default 600,000 dossiers over six months) through the command path
//!    into a fresh database, printing the throughput.
//! 2. Builds the projections from the whole log, then rebuilds them
//!    (`Projector::rebuild`, a fresh generation beside the live one) at
//!    several window sizes: events/s, min / median / max, the CPU of this
//!    process and of PostgreSQL, and this process's peak memory. Where the
//!    time goes is measured apart: reading the log, decoding events,
//!    folding them, serialising fold states.
//! 3. The whole-province Biểu 06 for the period, grouped by child unit, by
//!    field and by month: p50 / p95 / max.
//! 4. A unit's queue page (50 open dossiers, soonest due first) for random
//!    units: p50 / p99 / max.
//!
//! `--keep-database` leaves the database behind; `--reuse-database NAME`
//! measures a kept one again without writing the history (pass the same
//! `--seed`, `--from` and `--months`).

mod common;
mod measured_database;

use std::cell::Cell;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::NaiveDate;
use clap::Parser;
use motcua_domain::dossier::Dossier;
use motcua_domain::dossier::timeliness::TimelinessPolicy;
use motcua_domain::unit::UnitId;
use motcua_projections::dossiers::{DossierFilter, DossierOrder};
use motcua_projections::fold::{CounterDeltas, DossierState};
use motcua_projections::report::{GroupBy, HierarchyView, ReportQuery};
use motcua_projections::{Projector, ProjectorConfig, ReadModels};
use motcua_seed::{HistoryConfig, Province, generate};
use motcua_store::{EventStore, LogCursor, Replayer};
use sqlx::{Connection, PgConnection};

use crate::common::{kib_field, load_average, print_machine, with_database};
use crate::measured_database::{database_to_measure, drop_database};

/// The PostgreSQL settings that move these figures.
const SETTINGS: &[&str] = &[
    "server_version",
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "synchronous_commit",
    "max_wal_size",
    "max_connections",
];

#[derive(Parser)]
#[command(
    name = "projections-bench",
    about = "The motcua read models at province scale: rebuild, Biểu 06, queue pages"
)]
struct Args {
    /// A PostgreSQL URL whose user may CREATE DATABASE: the benchmark
    /// creates its own database beside it (and drops it at the end).
    #[arg(long)]
    database_url: String,
    /// Dossiers in the generated history.
    #[arg(long, default_value_t = 600_000)]
    dossiers: usize,
    /// First day of the history and of the reported period.
    #[arg(long, default_value = "2025-01-01")]
    from: NaiveDate,
    /// Months of history (and of the reported period).
    #[arg(long, default_value_t = 6)]
    months: u32,
    /// Seeds the province and its history.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Commands in flight while the history is written.
    #[arg(long, default_value_t = motcua_seed::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// Projector windows to rebuild with (events per transaction).
    #[arg(long, value_delimiter = ',', default_values_t = [100_000, 20_000, 400_000])]
    window_sizes: Vec<u32>,
    /// Events per page read from the log.
    #[arg(long, default_value_t = ProjectorConfig::default().page_size)]
    page_size: u32,
    /// Rebuilds per window size (0: none, only the first build).
    #[arg(long, default_value_t = 2)]
    repetitions: usize,
    /// Skip the breakdown of a rebuild's time (a pass over the whole log).
    #[arg(long)]
    skip_breakdown: bool,
    /// Timed runs of each report.
    #[arg(long, default_value_t = 100)]
    report_runs: usize,
    /// Units whose queue page is timed (drawn at random, three pages each).
    #[arg(long, default_value_t = 100)]
    queue_units: usize,
    /// Leave the database behind for inspection or `--reuse-database`.
    #[arg(long)]
    keep_database: bool,
    /// Measure an existing database (kept by an earlier run) instead of
    /// generating a history; it is never dropped.
    #[arg(long)]
    reuse_database: Option<String>,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.dossiers == 0 || args.months == 0 || args.concurrency == 0 {
        bail!("--dossiers, --months and --concurrency must be positive");
    }
    if args.window_sizes.is_empty() || args.window_sizes.contains(&0) || args.page_size == 0 {
        bail!("--window-sizes and --page-size must be positive");
    }
    let mut admin = PgConnection::connect(&args.database_url)
        .await
        .context("connecting to --database-url")?;
    print_machine(&mut admin, SETTINGS).await?;

    let (name, created) = database_to_measure(
        &mut admin,
        args.reuse_database.as_deref(),
        "motcua_projections_bench",
    )
    .await?;
    let outcome = run(&args, &with_database(&args.database_url, &name), created).await;
    if !created {
        return outcome;
    }
    if args.keep_database {
        println!(
            "\nkept database {name}: rerun the measurements with --reuse-database {name} \
             --seed {} --from {} --months {}",
            args.seed, args.from, args.months
        );
        return outcome;
    }
    drop_database(&mut admin, &name, outcome).await
}

async fn run(args: &Args, url: &str, fresh: bool) -> Result<()> {
    let started = Instant::now();
    let store = EventStore::connect(url)
        .await
        .context("connecting the store")?;
    store.migrate().await.context("migrating the store")?;
    let EventStore::Postgres(postgres) = &store else {
        bail!("the benchmark runs on PostgreSQL");
    };
    let pool = postgres.pool().clone();
    let province = Province::generate(args.seed)?;
    let config = HistoryConfig {
        concurrency: args.concurrency,
        ..HistoryConfig::new(args.seed, args.dossiers, args.from, args.months)
    };
    let until = config.until()?;
    let (_, horizon) = config.period()?;

    if fresh {
        write_history(&store, &province, config).await?;
    }
    let events: i64 = sqlx::query_scalar("SELECT count(*) FROM events")
        .fetch_one(&pool)
        .await?;
    let dossiers: i64 = sqlx::query_scalar("SELECT count(DISTINCT aggregate_id) FROM events")
        .fetch_one(&pool)
        .await?;
    let size: String =
        sqlx::query_scalar("SELECT pg_size_pretty(pg_database_size(current_database()))")
            .fetch_one(&pool)
            .await?;
    println!("\nthe log: {events} events of {dossiers} dossiers; database {size}");

    let read_models = ReadModels::new(&store);
    read_models.store_units(province.hierarchy()).await?;

    rebuilds(args, &store, &read_models, events).await?;
    if !args.skip_breakdown {
        where_time_goes(
            &store,
            args.page_size,
            ProjectorConfig::default().window_events,
        )
        .await?;
    }

    let last_day = until.pred_opt().context("the period has a last day")?;
    reports(args, &province, &read_models, last_day, horizon).await?;
    queue_pages(args, &province, &read_models).await?;
    println!(
        "\ntotal {:.0} s; load average at the end: {}",
        started.elapsed().as_secs_f64(),
        load_average()
    );
    Ok(())
}

/// Writes the history, printing progress every ten seconds.
async fn write_history(
    store: &EventStore,
    province: &Province,
    config: HistoryConfig,
) -> Result<()> {
    println!(
        "\n1. History: {} dossiers from {} for {} months over the seed's {} units, through \
         CommandPath<Dossier>, at most {} commands in flight",
        config.dossiers,
        config.from,
        config.months,
        province.units().len(),
        config.concurrency
    );
    let last_print = Cell::new(Instant::now());
    let meter = CpuMeter::start();
    let summary = generate(store, province, config, |progress| {
        if last_print.get().elapsed() >= Duration::from_secs(10) {
            last_print.set(Instant::now());
            println!(
                "   {:>7} / {} dossiers, {:>9} commands, {:>9} events, {:>6.0} commands/s, {} rejected",
                progress.dossiers_done,
                progress.dossiers,
                progress.commands,
                progress.events,
                progress.commands_per_second(),
                progress.rejections
            );
        }
    })
    .await?;
    let (own_cpu, postgres_cpu) = meter.stop();
    println!(
        "\n   {} dossiers, {} commands, {} events in {:.1} s: {:.0} commands/s, {:.0} events/s; \
         {} rejected; CPU {:.0} s here, {:.0} s PostgreSQL",
        summary.dossiers,
        summary.commands,
        summary.events,
        summary.elapsed.as_secs_f64(),
        summary.commands_per_second(),
        summary.events_per_second(),
        summary.rejections,
        own_cpu,
        postgres_cpu
    );
    for sample in &summary.rejection_samples {
        println!("   rejected: {sample}");
    }
    let statuses: Vec<String> = summary
        .final_statuses
        .iter()
        .map(|(status, count)| format!("{status}: {count}"))
        .collect();
    println!(
        "   final status (DVCQG code: dossiers): {}",
        statuses.join(", ")
    );
    let finished = summary.finished_early + summary.finished_on_time + summary.finished_late;
    let share = |count: u64, of: u64| 100.0 * count as f64 / of.max(1) as f64;
    println!(
        "   results issued {finished}: early {:.1}%, on time {:.1}%, late {:.1}%; open at the \
         end {} ({:.1}%), not yet accepted {}",
        share(summary.finished_early, finished),
        share(summary.finished_on_time, finished),
        share(summary.finished_late, finished),
        summary.open_at_end,
        share(summary.open_at_end, summary.dossiers),
        summary.awaiting_reception_at_end
    );
    let actions: Vec<String> = summary
        .actions
        .iter()
        .map(|(action, count)| format!("{action} {count}"))
        .collect();
    println!("   commands by action: {}", actions.join(", "));
    Ok(())
}

/// Sorted durations, read as percentiles.
struct Timings(Vec<Duration>);

impl Timings {
    fn new(mut durations: Vec<Duration>) -> Self {
        durations.sort_unstable();
        Timings(durations)
    }

    /// Nearest-rank percentile, in milliseconds.
    fn ms(&self, quantile: f64) -> f64 {
        let rank = (quantile * self.0.len() as f64).ceil() as usize;
        let index = rank.saturating_sub(1).min(self.0.len().saturating_sub(1));
        self.0
            .get(index)
            .map_or(f64::NAN, |duration| duration.as_secs_f64() * 1e3)
    }

    fn max_ms(&self) -> f64 {
        self.ms(1.0)
    }
}

/// CPU seconds (user + system) of a process from its `/proc/<pid>/stat`.
fn cpu_of(stat: &str) -> f64 {
    // Linux counts in clock ticks of 1/100 s on every common platform.
    const TICKS_PER_SECOND: f64 = 100.0;
    // The fields after the command name (which may hold spaces) start at
    // field 3; utime and stime are fields 14 and 15.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |index: usize| {
        fields
            .get(index)
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field(11) + field(12)) / TICKS_PER_SECOND
}

/// CPU seconds so far of every PostgreSQL process of the machine, by pid.
fn postgres_cpu() -> HashMap<u32, f64> {
    let mut found = HashMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Some(pid) = path
            .file_name()
            .and_then(|name| name.to_str())
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let is_postgres =
            std::fs::read_to_string(path.join("comm")).is_ok_and(|comm| comm.trim() == "postgres");
        if is_postgres && let Ok(stat) = std::fs::read_to_string(path.join("stat")) {
            found.insert(pid, cpu_of(&stat));
        }
    }
    found
}

fn own_cpu() -> f64 {
    std::fs::read_to_string("/proc/self/stat").map_or(0.0, |stat| cpu_of(&stat))
}

/// Measures the CPU this process and PostgreSQL use while it runs. The
/// PostgreSQL processes are sampled every 200 ms, so that backends which
/// end in between (pooled connections closing) still count up to their
/// last sample, and new ones count from their start.
struct CpuMeter {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<f64>,
    own_at_start: f64,
}

impl CpuMeter {
    fn start() -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut last = postgres_cpu();
            let mut used = 0.0;
            loop {
                let done = stopping.load(Ordering::Relaxed);
                if !done {
                    std::thread::sleep(Duration::from_millis(200));
                }
                let now = postgres_cpu();
                for (pid, cpu) in &now {
                    used += (cpu - last.get(pid).copied().unwrap_or(0.0)).max(0.0);
                }
                last = now;
                if done {
                    return used;
                }
            }
        });
        CpuMeter {
            stop,
            sampler,
            own_at_start: own_cpu(),
        }
    }

    /// (CPU seconds of this process, of PostgreSQL) since the start.
    fn stop(self) -> (f64, f64) {
        self.stop.store(true, Ordering::Relaxed);
        let postgres = self.sampler.join().unwrap_or(f64::NAN);
        (own_cpu() - self.own_at_start, postgres)
    }
}

/// This process's peak resident memory in MiB since the last reset.
fn peak_memory_mib() -> f64 {
    kib_field("/proc/self/status", "VmHWM:").map_or(f64::NAN, |kib| kib / 1024.0)
}

/// Starts measuring the peak memory afresh (Linux: "5" to clear_refs).
fn reset_peak_memory() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The first build of the projections, then rebuilds at each window size.
async fn rebuilds(
    args: &Args,
    store: &EventStore,
    read_models: &ReadModels,
    events: i64,
) -> Result<()> {
    let config = |window_events| ProjectorConfig {
        page_size: args.page_size,
        window_events,
        ..ProjectorConfig::default()
    };
    println!(
        "\n2. Projections from the whole log ({events} events, pages of {}): the first build \
         (catch_up of the live generation, window {}), then Projector::rebuild (a new \
         generation beside the live one, promoted, the old one dropped) {} times per window size",
        args.page_size,
        ProjectorConfig::default().window_events,
        args.repetitions
    );
    let projector = Projector::new(
        store.clone(),
        read_models.clone(),
        config(ProjectorConfig::default().window_events),
    );
    let before = read_models.live(motcua_projections::DOSSIERS).await?;
    reset_peak_memory();
    let meter = CpuMeter::start();
    let started = Instant::now();
    projector.catch_up().await?;
    let first = started.elapsed();
    let (own_cpu, postgres_cpu) = meter.stop();
    let live = read_models.live(motcua_projections::DOSSIERS).await?;
    let applied = live.events_applied - before.events_applied;
    println!(
        "   first build: {applied} events in {:.1} s: {:.0} events/s; CPU {own_cpu:.1} s here, \
         {postgres_cpu:.1} s PostgreSQL; peak memory {:.0} MiB",
        first.as_secs_f64(),
        applied as f64 / first.as_secs_f64().max(1e-9),
        peak_memory_mib()
    );

    if args.repetitions == 0 {
        return Ok(());
    }
    println!(
        "\n| window (events) | rebuilds | events | min s | median s | max s | events/s (median) | \
         with the old generation's drop, s (median) | CPU s: bench / PostgreSQL (median) | \
         peak memory MiB (max) |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for &window in &args.window_sizes {
        let projector = Projector::new(store.clone(), read_models.clone(), config(window));
        let mut runs = Vec::new();
        let mut peak: f64 = 0.0;
        for _ in 0..args.repetitions {
            reset_peak_memory();
            let meter = CpuMeter::start();
            let started = Instant::now();
            let rebuilt = projector.rebuild().await?;
            let with_drop = started.elapsed();
            let (own_cpu, postgres_cpu) = meter.stop();
            let memory = peak_memory_mib();
            peak = peak.max(memory);
            println!(
                "   window {window}: {} events in {:.1} s ({:.0} events/s; promotion {:.1} s), \
                 {:.1} s with the drop; CPU {:.1} s here, {:.1} s PostgreSQL; peak memory \
                 {memory:.0} MiB",
                rebuilt.events,
                rebuilt.elapsed.as_secs_f64(),
                rebuilt.events as f64 / rebuilt.elapsed.as_secs_f64().max(1e-9),
                rebuilt.promoted_in.as_secs_f64(),
                with_drop.as_secs_f64(),
                own_cpu,
                postgres_cpu
            );
            runs.push((
                rebuilt.elapsed,
                with_drop,
                rebuilt.events,
                own_cpu,
                postgres_cpu,
            ));
        }
        runs.sort_by_key(|run| run.0);
        let median = runs.len() / 2;
        let (Some(min), Some(mid), Some(max)) = (runs.first(), runs.get(median), runs.last())
        else {
            continue;
        };
        println!(
            "| {window} | {} | {} | {:.1} | {:.1} | {:.1} | {:.0} | {:.1} | {:.0} / {:.0} | {peak:.0} |",
            runs.len(),
            mid.2,
            min.0.as_secs_f64(),
            mid.0.as_secs_f64(),
            max.0.as_secs_f64(),
            mid.2 as f64 / mid.0.as_secs_f64().max(1e-9),
            mid.1.as_secs_f64(),
            mid.3,
            mid.4
        );
    }
    Ok(())
}

/// The parts of a rebuild measured one by one, in this process, as the
/// projector does them: reading the log page by page, decoding the events,
/// folding them into dossier states and counter deltas window by window,
/// and the JSON of the states each window writes.
async fn where_time_goes(store: &EventStore, page_size: u32, window_events: u32) -> Result<()> {
    let replayer: Replayer<Dossier> = Replayer::new(store.clone(), Vec::new());
    let policy = TimelinessPolicy::default();
    let (mut read, mut decode, mut fold, mut json) = (
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
        Duration::ZERO,
    );
    let (mut events, mut windows, mut written) = (0usize, 0usize, 0usize);
    let mut states: HashMap<String, DossierState> = HashMap::new();
    let mut window: BTreeSet<String> = BTreeSet::new();
    let mut window_events_seen = 0usize;
    let mut counters = CounterDeltas::default();
    let mut cursor = LogCursor::START;
    loop {
        let started = Instant::now();
        let page = store.read_log(cursor, page_size).await?;
        read += started.elapsed();
        let last = page.last().map(|entry| entry.cursor);
        events += page.len();
        window_events_seen += page.len();

        let started = Instant::now();
        let mut decoded = Vec::with_capacity(page.len());
        for entry in &page {
            decoded.push((entry.aggregate_id.as_str(), replayer.decode_entry(entry)?));
        }
        decode += started.elapsed();

        let started = Instant::now();
        for (id, event) in &decoded {
            if !window.contains(*id) {
                window.insert((*id).to_owned());
                let state = states.entry((*id).to_owned()).or_default();
                counters.add_state(state, policy, -1);
            }
            if let Some(state) = states.get_mut(*id) {
                state.apply(event, policy);
            }
        }
        fold += started.elapsed();

        let end = last.is_none();
        if end || window_events_seen >= window_events as usize {
            let started = Instant::now();
            for id in &window {
                if let Some(state) = states.get(id) {
                    counters.add_state(state, policy, 1);
                }
            }
            counters.prune();
            std::hint::black_box(&counters);
            counters = CounterDeltas::default();
            fold += started.elapsed();

            let started = Instant::now();
            for id in &window {
                if let Some(state) = states.get(id) {
                    std::hint::black_box(serde_json::to_string(state)?);
                }
            }
            json += started.elapsed();
            written += window.len();
            windows += 1;
            window.clear();
            window_events_seen = 0;
        }
        match last {
            Some(last) => cursor = last,
            None => break,
        }
    }
    let rate = |time: Duration| events as f64 / time.as_secs_f64().max(1e-9);
    println!(
        "\n   Where a rebuild's time goes (pages of {page_size}, windows of {window_events} \
         events, each part measured alone in this process; the projector reads and decodes \
         ahead in another task while it folds and writes): {events} events in {windows} \
         windows write {written} dossier rows, {:.2} per event",
        written as f64 / events.max(1) as f64
    );
    println!("\n| part | seconds | events/s alone |");
    println!("|---|---:|---:|");
    for (part, time) in [
        ("read the log (read_log pages)", read),
        ("decode events (JSON text → DossierEvent)", decode),
        ("fold states and counter deltas", fold),
        ("state JSON of the rows written", json),
    ] {
        println!("| {part} | {:.1} | {:.0} |", time.as_secs_f64(), rate(time));
    }
    Ok(())
}

/// The whole-province Biểu 06 of the period, grouped three ways.
async fn reports(
    args: &Args,
    province: &Province,
    read_models: &ReadModels,
    last_day: NaiveDate,
    today: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let root = province.root().id.clone();
    println!(
        "\n3. Biểu 06 of the whole province ({root}) for {} to {last_day}, {} timed runs each \
         after 5 unmeasured",
        args.from, args.report_runs
    );
    println!("\n| grouped by | rows | p50 ms | p95 ms | max ms |");
    println!("|---|---:|---:|---:|---:|");
    for (name, group_by) in [
        ("child unit", GroupBy::ChildUnit),
        ("field", GroupBy::Field),
        ("month", GroupBy::Month),
    ] {
        let query = ReportQuery {
            unit: root.clone(),
            from: args.from,
            to: last_day,
            group_by,
            view: HierarchyView::Recorded,
            today,
        };
        let mut report = read_models.report(province.hierarchy(), &query).await?;
        for _ in 0..4 {
            report = read_models.report(province.hierarchy(), &query).await?;
        }
        let mut timings = Vec::with_capacity(args.report_runs);
        for _ in 0..args.report_runs {
            let started = Instant::now();
            report = read_models.report(province.hierarchy(), &query).await?;
            timings.push(started.elapsed());
        }
        let timings = Timings::new(timings);
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} |",
            report.rows.len(),
            timings.ms(0.5),
            timings.ms(0.95),
            timings.max_ms()
        );
        if group_by == GroupBy::ChildUnit {
            let total = report.subtree;
            let unbalanced = report
                .rows
                .iter()
                .filter(|row| !row.counts.balances())
                .count();
            println!(
                "   (province: received {} in the period ({} online), resolved {} (late {}), \
                 withdrawn {}, stopped {}, refused {}, in progress {} (overdue {}); rows that \
                 do not balance: {unbalanced})",
                total.received_in_period(),
                total.received_online,
                total.resolved_total(),
                total.resolved_late,
                total.withdrawn,
                total.stopped,
                total.refused,
                total.in_progress_total(),
                total.in_progress_overdue
            );
        }
    }
    Ok(())
}

/// A unit's queue: its open dossiers (received, processing, waiting for a
/// supplement or a payment), soonest due first, 50 to a page.
async fn queue_pages(args: &Args, province: &Province, read_models: &ReadModels) -> Result<()> {
    const PAGE: u32 = 50;
    const ROUNDS: usize = 3;
    // Units drawn with the seed, the same on every run.
    let units = province.units();
    let mut state = args.seed ^ 0x9E37_79B9_7F4A_7C15;
    let chosen: Vec<UnitId> = (0..args.queue_units)
        .filter_map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let index = (state >> 33) as usize % units.len().max(1);
            units.get(index).map(|unit| unit.id.clone())
        })
        .collect();
    println!(
        "\n4. A unit's queue page: ReadModels::dossiers(holder = the unit, status 2/4/5/6, not \
         deleted), soonest due first, {PAGE} rows, for {} random units, {ROUNDS} rounds after \
         an unmeasured one",
        chosen.len()
    );
    let filter = |unit: &UnitId| DossierFilter {
        units: vec![unit.clone()],
        statuses: vec![2, 4, 5, 6],
        ..DossierFilter::default()
    };
    for unit in &chosen {
        read_models
            .dossiers(&filter(unit), DossierOrder::DueFirst, PAGE, None)
            .await?;
    }
    let (mut timings, mut rows, mut full) = (Vec::new(), 0usize, 0usize);
    for _ in 0..ROUNDS {
        for unit in &chosen {
            let started = Instant::now();
            let page = read_models
                .dossiers(&filter(unit), DossierOrder::DueFirst, PAGE, None)
                .await?;
            timings.push(started.elapsed());
            rows += page.rows.len();
            full += usize::from(page.rows.len() == PAGE as usize);
        }
    }
    let pages = timings.len();
    let timings = Timings::new(timings);
    println!("\n| pages | rows per page (mean) | full pages | p50 ms | p99 ms | max ms |");
    println!("|---:|---:|---:|---:|---:|---:|");
    println!(
        "| {pages} | {:.1} | {full} | {:.2} | {:.2} | {:.2} |",
        rows as f64 / pages.max(1) as f64,
        timings.ms(0.5),
        timings.ms(0.99),
        timings.max_ms()
    );
    Ok(())
}

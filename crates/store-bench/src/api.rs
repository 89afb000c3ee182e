//! `api-bench`: the `motcua` binary measured from outside, over HTTP, the
//! way the province's clients will use it (issue 6).
//!
//! 1. A history through `motcua seed --scale province` (or a database
//!    seeded before, `--reuse-database`), then `motcua projections rebuild
//!    dossiers` over it, twice: the full rebuild in events/s.
//! 2. `motcua serve` on port 0; its resident memory idle.
//! 3. Read path, closed loop at `--read-connections`: a unit's queue page
//!    (50 rows), a dossier with its timeline, the province's Biểu 06 for
//!    six months; then the queue page paced at `--queue-rate` and the
//!    report at `--report-rate` (latency below saturation).
//! 4. Write path: dossiers through their lifecycle (seven mutations each,
//!    four roles) at each of `--write-connections`.
//! 5. Projection lag under `--lag-rate` mutations/s: after a mutation
//!    returns, a query with its position as `minPosition` waits until the
//!    read model holds it — commit to visible, as a client sees it.
//! 6. The server's resident memory at its peak under all of the above.
//!
//! Each measurement runs `--repetitions` times for `--seconds`; tables
//! print min / median / max over the repetitions.

mod common;
mod measured_database;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use chrono::{Datelike, Months, NaiveDate, Utc};
use clap::Parser;
use motcua_seed::{Handler, Province, UnitKind};
use serde_json::{Value, json};
use sqlx::{Connection, PgConnection};

use crate::common::{kib_field, load_average, print_machine, with_database};
use crate::measured_database::{database_to_measure, drop_database};

const SETTINGS: &[&str] = &[
    "server_version",
    "shared_buffers",
    "work_mem",
    "synchronous_commit",
    "max_connections",
];

#[derive(Parser)]
#[command(
    name = "api-bench",
    about = "The motcua server over HTTP: read and write paths, projection lag, rebuild, memory"
)]
struct Args {
    /// A PostgreSQL URL whose user may create databases.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// The motcua binary (by default the one built beside this one).
    #[arg(long)]
    motcua: Option<PathBuf>,
    /// Dossiers the fresh history holds (`motcua seed --scale province
    /// --dossiers N`; the whole province is 590,000).
    #[arg(long, default_value_t = 20_000)]
    dossiers: usize,
    /// The seed of the history (and of the province it is written for).
    #[arg(long, default_value_t = motcua_seed::DEMO_SEED)]
    seed: u64,
    /// Measure a database seeded before (e.g. by `motcua seed --scale
    /// province`) instead of seeding one; it is never dropped.
    #[arg(long)]
    reuse_database: Option<String>,
    /// The report's period (by default the six whole months before this
    /// one, where a fresh history lies).
    #[arg(long)]
    report_from: Option<NaiveDate>,
    #[arg(long)]
    report_to: Option<NaiveDate>,
    /// Leave the fresh database behind for `--reuse-database`.
    #[arg(long)]
    keep_database: bool,
    /// Skip the rebuild (the projections must then be caught up already).
    #[arg(long)]
    skip_rebuild: bool,
    /// Where the server's log goes (by default nowhere).
    #[arg(long)]
    server_log: Option<PathBuf>,
    /// Seconds of each measurement.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Repetitions of each measurement.
    #[arg(long, default_value_t = 3)]
    repetitions: usize,
    #[arg(long, value_delimiter = ',', default_value = "8,32,64")]
    write_connections: Vec<usize>,
    #[arg(long, default_value_t = 64)]
    read_connections: usize,
    /// Queue pages per second in the paced read measurement.
    #[arg(long, default_value_t = 500)]
    queue_rate: u32,
    /// Province reports per second in the paced report measurement.
    #[arg(long, default_value_t = 100)]
    report_rate: u32,
    /// Mutations per second while the projection lag is measured.
    #[arg(long, default_value_t = 1000)]
    lag_rate: u32,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    if args.seconds == 0 || args.repetitions == 0 || args.read_connections == 0 {
        bail!("--seconds, --repetitions and --read-connections must be positive");
    }
    if args.write_connections.contains(&0)
        || args.queue_rate == 0
        || args.report_rate == 0
        || args.lag_rate == 0
    {
        bail!("connections and rates must be positive");
    }
    let motcua = match &args.motcua {
        Some(path) => path.clone(),
        None => std::env::current_exe()?
            .with_file_name("motcua")
            .canonicalize()
            .context("no motcua binary beside this one: build it (cargo build --release) or give --motcua")?,
    };
    let mut admin = PgConnection::connect(&args.database_url)
        .await
        .context("connecting to --database-url")?;
    print_machine(&mut admin, SETTINGS).await?;
    println!("server: {}", motcua.display());

    let (name, created) = database_to_measure(
        &mut admin,
        args.reuse_database.as_deref(),
        "motcua_api_bench",
    )
    .await?;
    let scratch = std::env::temp_dir().join(format!("motcua-api-bench-{}", std::process::id()));
    std::fs::create_dir_all(&scratch)?;
    let bench = Bench {
        motcua,
        url: with_database(&args.database_url, &name),
        key_file: scratch.join("dev.key"),
        server_log: args.server_log.clone(),
    };
    let outcome = run(&args, &bench, created).await;
    let _ = std::fs::remove_dir_all(&scratch);
    if !created {
        return outcome;
    }
    if args.keep_database {
        println!("\nkept database {name}: rerun with --reuse-database {name}");
        return outcome;
    }
    drop_database(&mut admin, &name, outcome).await
}

/// The binary under test and what its commands share.
struct Bench {
    motcua: PathBuf,
    url: String,
    key_file: PathBuf,
    server_log: Option<PathBuf>,
}

impl Bench {
    /// Runs a motcua command to its end; its standard output.
    fn command(&self, args: &[&str]) -> Result<String> {
        let output = Command::new(&self.motcua)
            .args(args)
            .args(["--database-url", &self.url])
            .env_remove("DATABASE_URL")
            .output()
            .with_context(|| format!("running motcua {}", args.join(" ")))?;
        if !output.status.success() {
            bail!(
                "motcua {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    }

    /// A development token for `role` at `unit`.
    fn token(&self, unit: &str, role: &str, user: &str) -> Result<String> {
        let key = self.key_file.to_string_lossy();
        let args = [
            "token",
            "--unit",
            unit,
            "--role",
            role,
            "--user",
            user,
            "--dev-key-file",
            &key,
        ];
        let output = Command::new(&self.motcua)
            .args(args)
            .output()
            .context("running motcua token")?;
        if !output.status.success() {
            bail!("motcua token: {}", String::from_utf8_lossy(&output.stderr));
        }
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    }

    /// Starts `motcua serve` on port 0: the process and its address.
    fn serve(&self) -> Result<(Server, String)> {
        let key = self.key_file.to_string_lossy();
        let mut child = Command::new(&self.motcua)
            .args([
                "--database-url",
                &self.url,
                "serve",
                "--listen",
                "127.0.0.1:0",
            ])
            .args(["--dev-key-file", &key])
            .env_remove("DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(match &self.server_log {
                Some(path) => Stdio::from(std::fs::File::create(path)?),
                None => Stdio::null(),
            })
            .spawn()
            .context("starting motcua serve")?;
        let stdout = std::io::BufReader::new(child.stdout.take().context("the server's output")?);
        // From here the server is stopped on every way out.
        let mut server = Server { child, stdout };
        let mut banner = String::new();
        server.stdout.read_line(&mut banner)?;
        let address = banner
            .strip_prefix("motcua is listening on http://")
            .and_then(|rest| rest.split_once(' '))
            .map(|(address, _)| address.to_owned())
            .with_context(|| format!("the server did not start: {banner:?}"))?;
        Ok((server, address))
    }
}

/// A running server, stopped (SIGTERM, then waited for) when dropped.
struct Server {
    child: std::process::Child,
    /// Kept open: a closed pipe would fail the server's next line.
    stdout: std::io::BufReader<std::process::ChildStdout>,
}

impl Server {
    fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Resident memory of process `pid` now, in MiB.
fn rss_mib(pid: u32) -> f64 {
    kib_field(&format!("/proc/{pid}/status"), "VmRSS:").map_or(0.0, |kib| kib / 1024.0)
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid().to_string()).status();
        let _ = self.child.wait();
    }
}

async fn run(args: &Args, bench: &Bench, fresh: bool) -> Result<()> {
    if fresh {
        println!(
            "\n1. History: motcua seed --scale province --dossiers {}",
            args.dossiers
        );
        bench.command(&["migrate"])?;
        let summary = bench.command(&[
            "seed",
            "--scale",
            "province",
            "--dossiers",
            &args.dossiers.to_string(),
            "--seed",
            &args.seed.to_string(),
            "--quiet",
        ])?;
        // What was seeded, and how fast.
        for line in summary.lines().take(2) {
            println!("   {line}");
        }
    }
    if !args.skip_rebuild {
        println!("\n   full rebuild: motcua projections rebuild dossiers, twice");
        // The first read of a freshly loaded log also sets PostgreSQL's
        // hint bits on every row (as a vacuum would); the second is what a
        // rebuild of a log in service costs.
        for rebuild in ["first", "second"] {
            let started = Instant::now();
            let rebuilt = bench.command(&["projections", "rebuild", "dossiers"])?;
            println!(
                "   {rebuild}: {} ({:.1} s with the process)",
                rebuilt.trim(),
                started.elapsed().as_secs_f64()
            );
        }
    }

    let province = Province::generate(args.seed).context("the seed's province")?;
    let (server, address) = bench.serve()?;
    let client = Client::new(&address)?;
    let root = province
        .units()
        .iter()
        .find(|unit| unit.kind == UnitKind::PeoplesCommittee)
        .context("the province has no root")?
        .id
        .to_string();
    let supervisor = bench.token(&root, "supervisor", "bench-supervisor")?;
    let auditor = bench.token(&root, "auditor", "bench-auditor")?;
    let officers = province
        .units()
        .iter()
        .map(|unit| bench.token(&unit.id.to_string(), "reception_officer", "bench-desk"))
        .collect::<Result<Vec<_>>>()?;

    let this_month = Utc::now().date_naive().with_day(1).context("day one")?;
    let from = match args.report_from {
        Some(from) => from,
        None => this_month
            .checked_sub_months(Months::new(6))
            .context("six months back")?,
    };
    let to = match args.report_to {
        Some(to) => to,
        None => this_month.pred_opt().context("the day before")?,
    };

    // Codes of open dossiers, from the queues, for the detail requests.
    let mut codes = Vec::new();
    for token in &officers {
        let page = client.request(token, QUEUE_PAGE, &json!({})).await?;
        codes.extend(
            page["data"]["dossiers"]["edges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|edge| edge["node"]["code"].as_str().map(str::to_owned))
                .take(20),
        );
    }
    if codes.is_empty() {
        bail!("no open dossier in any queue: is the database seeded and projected?");
    }
    let report_variables = json!({ "from": from.to_string(), "to": to.to_string() });
    client
        .request(&supervisor, REPORT, &report_variables)
        .await?;
    println!(
        "\n2. Server idle (after start and one request of each kind): {:.0} MiB resident",
        rss_mib(server.pid())
    );

    let peak = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (peak, pid) = (Arc::clone(&peak), server.pid());
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_mib(pid) as u64, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };

    println!(
        "\n3. Read path, {} connections, {} × {} s ({} codes, report {from}..{to})\n",
        args.read_connections,
        args.repetitions,
        args.seconds,
        codes.len()
    );
    print_header("request", "requests/s");
    let reads: [(&str, Calls); 3] = [
        ("queue page (50 rows)", {
            let officers = officers.clone();
            Arc::new(move |n| Call::query(&officers[n % officers.len()], QUEUE_PAGE, json!({})))
        }),
        ("dossier with its timeline", {
            let (auditor, codes) = (auditor.clone(), codes.clone());
            Arc::new(move |n| {
                Call::query(
                    &auditor,
                    DOSSIER_DETAIL,
                    json!({ "code": codes[n % codes.len()] }),
                )
            })
        }),
        ("province Biểu 06, six months, by child unit", {
            let supervisor = supervisor.clone();
            Arc::new(move |_| Call::query(&supervisor, REPORT, report_variables.clone()))
        }),
    ];
    for (name, call) in &reads {
        let runs = repeat(args, || {
            load(
                &client,
                args.read_connections,
                None,
                args.seconds,
                Arc::clone(call),
            )
        })
        .await?;
        print_row(name, args.read_connections, &runs);
    }
    // Latency below saturation: the queue page and the report, paced.
    for (rate, (name, call)) in [(args.queue_rate, &reads[0]), (args.report_rate, &reads[2])] {
        let paced = repeat(args, || {
            load(
                &client,
                args.read_connections,
                Some(rate),
                args.seconds,
                Arc::clone(call),
            )
        })
        .await?;
        print_row(
            &format!("{name} at {rate} req/s"),
            args.read_connections,
            &paced,
        );
    }

    let communes: Vec<String> = province
        .units()
        .iter()
        .filter(|unit| unit.kind == UnitKind::Commune)
        .map(|unit| unit.id.to_string())
        .collect();
    let procedure = province
        .procedures()
        .iter()
        .find(|entry| entry.handler == Handler::AnyCommune)
        .context("no procedure for communes")?
        .procedure
        .clone();
    let desks = Arc::new(
        communes
            .iter()
            .map(|commune| Desk::new(bench, commune))
            .collect::<Result<Vec<_>>>()?,
    );
    let submission = Arc::new(json!({
        "channel": "IN_PERSON",
        "procedureCode": procedure.code.as_str(),
        "caseId": procedure.cases[0].id,
        "applicant": { "kind": "CITIZEN", "name": "Nguyễn Văn Bench", "identityNumber": "001203000001" },
        "documents": procedure
            .required_components()
            .map(|component| json!({ "component": component.code, "name": component.name }))
            .collect::<Vec<_>>(),
        "acceptNow": true,
    }));

    println!(
        "\n4. Write path: dossiers through their lifecycle (submit and accept, forward, assign, \
         draft, approve, issue, return: 7 mutations), {} × {} s\n",
        args.repetitions, args.seconds
    );
    print_header("mutation", "mutations/s");
    for &connections in &args.write_connections {
        let runs = repeat(args, || async {
            let (written, _) = journeys(
                &client,
                &desks,
                &submission,
                connections,
                None,
                args.seconds,
                false,
            )
            .await?;
            Ok(written)
        })
        .await?;
        print_row("lifecycle mutation", connections, &runs);
    }

    let lag_connections = 32;
    println!(
        "\n5. Projection lag at {} mutations/s ({lag_connections} connections): every 50 ms the \
         latest mutation's position is given to a query as minPosition, which returns once the \
         read model holds it, {} × {} s\n",
        args.lag_rate, args.repetitions, args.seconds
    );
    print_header("measured", "per second");
    let mut lags = Vec::new();
    let mut mutations = Vec::new();
    for _ in 0..args.repetitions {
        let (written, visible) = journeys(
            &client,
            &desks,
            &submission,
            lag_connections,
            Some(args.lag_rate),
            args.seconds,
            true,
        )
        .await?;
        mutations.push(written);
        lags.push(visible.context("lag samples")?);
    }
    print_row("mutation (paced)", lag_connections, &mutations);
    print_row("commit → visible in the read model", lag_connections, &lags);

    sampler.abort();
    println!(
        "\n6. Server resident memory at its peak under the loads above: {} MiB (idle: see 2)",
        peak.load(Ordering::Relaxed)
    );
    println!("\nload average at the end: {}", load_average());
    drop(server);
    Ok(())
}

const QUEUE_PAGE: &str = "{ dossiers(first: 50, filter: { openOnly: true }, order: DUE_FIRST) { \
    edges { node { id code applicantName identityNumber status step assignee dueAt procedure { code name } } } \
    pageInfo { hasNextPage endCursor } } }";

const DOSSIER_DETAIL: &str = "query($code: String!) { \
    dossier(code: $code) { id code status step holderUnit receivedAt dueAt appointmentAt paymentState holder { id name } } \
    history(code: $code) { sequence eventType actor unit recordedAt position hash } }";

/// Returns once the read model holds the position `$at`.
const VISIBLE_AT: &str =
    "query($code: String!, $at: String) { dossier(code: $code, minPosition: $at) { status } }";

const REPORT: &str = "query($from: NaiveDate!, $to: NaiveDate!) { \
    report(from: $from, to: $to, groupBy: CHILD_UNIT) { unit \
    total { receivedTotal resolvedTotal resolvedLate inProgressOverdue balances } \
    rows { key counts { receivedTotal resolvedOnTime resolvedLate inProgressOverdue } } } }";

/// The `n`th request of a measurement.
type Calls = Arc<dyn Fn(usize) -> Call + Send + Sync>;

/// One GraphQL request.
struct Call {
    token: String,
    query: String,
    variables: Value,
}

impl Call {
    fn query(token: &str, query: &str, variables: Value) -> Self {
        Call {
            token: token.to_owned(),
            query: query.to_owned(),
            variables,
        }
    }
}

/// HTTP to the server; each load task clones it for a connection of its own.
#[derive(Clone)]
struct Client {
    http: reqwest::Client,
    endpoint: String,
}

impl Client {
    fn new(address: &str) -> Result<Self> {
        Ok(Client {
            http: reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .http1_only()
                .build()?,
            endpoint: format!("http://{address}/graphql"),
        })
    }

    /// A client with a connection of its own.
    fn connection(&self) -> Result<Self> {
        Client::new(
            self.endpoint
                .trim_start_matches("http://")
                .trim_end_matches("/graphql"),
        )
    }

    /// The response's data, or an error naming the GraphQL errors.
    async fn request(&self, token: &str, query: &str, variables: &Value) -> Result<Value> {
        let response: Value = self
            .http
            .post(&self.endpoint)
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await?
            .json()
            .await?;
        if let Some(errors) = response.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(response)
    }
}

/// What one repetition measured: requests done, how long they took.
struct Run {
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: usize,
    first_error: Option<String>,
}

impl Run {
    fn new() -> Self {
        Run {
            elapsed: Duration::ZERO,
            latencies: Vec::new(),
            errors: 0,
            first_error: None,
        }
    }

    fn failed(&mut self, error: &anyhow::Error) {
        self.errors += 1;
        self.first_error.get_or_insert_with(|| error.to_string());
    }

    /// Takes in another task's requests.
    fn absorb(&mut self, other: Run) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    fn rate(&self) -> f64 {
        self.latencies.len() as f64 / self.elapsed.as_secs_f64()
    }

    fn quantile_ms(&self, quantile: f64) -> f64 {
        let mut sorted = self.latencies.clone();
        sorted.sort_unstable();
        let index = ((sorted.len() as f64 - 1.0) * quantile).round() as usize;
        sorted.get(index).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    }
}

async fn repeat<F, Fut>(args: &Args, mut measure: F) -> Result<Vec<Run>>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Run>>,
{
    let mut runs = Vec::with_capacity(args.repetitions);
    for _ in 0..args.repetitions {
        runs.push(measure().await?);
    }
    Ok(runs)
}

/// `connections` tasks send `call(n)` one after another for `seconds` (or,
/// with `rate`, each at its share of that many per second).
async fn load(
    client: &Client,
    connections: usize,
    rate: Option<u32>,
    seconds: u64,
    call: Calls,
) -> Result<Run> {
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let interval = rate.map(|rate| Duration::from_secs_f64(connections as f64 / f64::from(rate)));
    let mut tasks = Vec::with_capacity(connections);
    for worker in 0..connections {
        let (client, call) = (client.connection()?, Arc::clone(&call));
        tasks.push(tokio::spawn(async move {
            let mut run = Run::new();
            let mut ticks = interval.map(|every| {
                let mut ticks = tokio::time::interval_at(
                    (started + every.mul_f64(worker as f64 / connections as f64)).into(),
                    every,
                );
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                ticks
            });
            let mut n = worker;
            while Instant::now() < deadline {
                if let Some(ticks) = &mut ticks {
                    ticks.tick().await;
                }
                let Call {
                    token,
                    query,
                    variables,
                } = call(n);
                let sent = Instant::now();
                match client.request(&token, &query, &variables).await {
                    Ok(_) => run.latencies.push(sent.elapsed()),
                    Err(error) => run.failed(&error),
                }
                n += connections;
            }
            run
        }));
    }
    merge(tasks, started).await
}

/// The tasks' requests as one run, timed from `started`.
async fn merge(tasks: Vec<tokio::task::JoinHandle<Run>>, started: Instant) -> Result<Run> {
    let mut total = Run::new();
    for task in tasks {
        total.absorb(task.await?);
    }
    total.elapsed = started.elapsed();
    Ok(total)
}

/// The four officers of a commune who take a dossier through its lifecycle.
struct Desk {
    unit: String,
    reception: String,
    head: String,
    specialist: String,
    leader: String,
}

impl Desk {
    fn new(bench: &Bench, unit: &str) -> Result<Self> {
        Ok(Desk {
            unit: unit.to_owned(),
            reception: bench.token(unit, "reception_officer", "bench-desk")?,
            head: bench.token(unit, "department_head", "bench-head")?,
            specialist: bench.token(unit, "specialist", "bench-cv")?,
            leader: bench.token(unit, "unit_leader", "bench-leader")?,
        })
    }
}

/// `connections` tasks, each at communes of its own, take new dossiers
/// through their lifecycle for `seconds` (paced to `rate` mutations/s in
/// all if given): the mutations' latencies. With `lag`, a prober takes
/// the latest mutation every [`PROBE_EVERY`] and times a query that waits
/// for its position (one probe at a time, so that the probing itself adds
/// little load).
async fn journeys(
    client: &Client,
    desks: &Arc<Vec<Desk>>,
    submission: &Arc<Value>,
    connections: usize,
    rate: Option<u32>,
    seconds: u64,
    lag: bool,
) -> Result<(Run, Option<Run>)> {
    static SUBMITTED: AtomicU64 = AtomicU64::new(0);
    // Client mutation ids unique across runs on one database: a repeated
    // one would answer with the first run's dossier.
    let run = Utc::now().timestamp_micros();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let interval = rate.map(|rate| Duration::from_secs_f64(connections as f64 / f64::from(rate)));
    let today = motcua_domain::calendar::local_date(Utc::now()).to_string();
    // The latest mutation: who made it, its dossier's code, its position.
    let latest: Arc<Mutex<Option<(String, String, Value)>>> = Arc::default();
    let prober = lag.then(|| {
        let (probes, latest) = (client.connection(), Arc::clone(&latest));
        tokio::spawn(async move {
            let probes = probes?;
            let mut visible = Run::new();
            let mut ticks = tokio::time::interval(PROBE_EVERY);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            while Instant::now() < deadline {
                ticks.tick().await;
                let Some((token, code, position)) =
                    latest.lock().map_or(None, |mut latest| latest.take())
                else {
                    continue;
                };
                let waited = Instant::now();
                match probes
                    .request(&token, VISIBLE_AT, &json!({ "code": code, "at": position }))
                    .await
                {
                    Ok(_) => visible.latencies.push(waited.elapsed()),
                    Err(error) => visible.failed(&error),
                }
            }
            anyhow::Ok(visible)
        })
    });
    let mut tasks = Vec::with_capacity(connections);
    for worker in 0..connections {
        let (client, latest, desks, submission, today) = (
            client.connection()?,
            Arc::clone(&latest),
            Arc::clone(desks),
            Arc::clone(submission),
            today.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut written = Run::new();
            let mut ticks = interval.map(|every| {
                let mut ticks = tokio::time::interval(every);
                ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
                ticks
            });
            let mut round = 0;
            'dossiers: while Instant::now() < deadline {
                let desk = &desks[(worker + round * connections) % desks.len()];
                round += 1;
                let mut input = (*submission).clone();
                input["unit"] = json!(desk.unit);
                input["clientMutationId"] =
                    json!(format!("bench-{run}-{}", SUBMITTED.fetch_add(1, Ordering::Relaxed)));
                let mut id = String::new();
                let mut code = String::new();
                for step in 0..7 {
                    if Instant::now() >= deadline {
                        break 'dossiers;
                    }
                    let (token, name, kind, step_input) = match step {
                        0 => (&desk.reception, "submitDossier", "SubmitDossier", input.clone()),
                        1 => (&desk.reception, "forwardDossier", "Forward", json!({ "id": id, "department": "Bộ phận Tư pháp" })),
                        2 => (&desk.head, "assignDossier", "Assign", json!({ "id": id, "specialist": "bench-cv" })),
                        3 => (&desk.specialist, "submitDraft", "SubmitDraft", json!({ "id": id, "summary": "Dự thảo" })),
                        4 => (&desk.leader, "approveDraft", "Note", json!({ "id": id })),
                        5 => (&desk.leader, "issueResult", "IssueResult", json!({
                            "id": id, "number": "1/KQ", "signer": "Lê Văn Ký",
                            "signedOn": today, "documentRef": "ketqua/1.pdf",
                        })),
                        _ => (&desk.reception, "returnResult", "ReturnResult", json!({ "id": id, "method": "COUNTER", "recipient": "Nguyễn Văn Bench" })),
                    };
                    if let Some(ticks) = &mut ticks {
                        ticks.tick().await;
                    }
                    let query = format!(
                        "mutation($input: {kind}Input!) {{ {name}(input: $input) {{ dossier {{ id code }} position }} }}"
                    );
                    let began = Instant::now();
                    let response = client.request(token, &query, &json!({ "input": step_input })).await;
                    let payload = match response {
                        Ok(response) => {
                            written.latencies.push(began.elapsed());
                            response["data"][name].clone()
                        }
                        Err(error) => {
                            written.failed(&error);
                            continue 'dossiers;
                        }
                    };
                    if step == 0 {
                        id = payload["dossier"]["id"].as_str().unwrap_or_default().to_owned();
                        code = payload["dossier"]["code"].as_str().unwrap_or_default().to_owned();
                    }
                    if let Ok(mut latest) = latest.lock() {
                        *latest = Some((token.clone(), code.clone(), payload["position"].clone()));
                    }
                }
            }
            written
        }));
    }
    let mut written = Run::new();
    for task in tasks {
        written.absorb(task.await?);
    }
    written.elapsed = started.elapsed();
    let visible = match prober {
        Some(prober) => {
            let mut visible = prober.await??;
            visible.elapsed = written.elapsed;
            Some(visible)
        }
        None => None,
    };
    Ok((written, visible))
}

/// How often the lag prober looks at the latest mutation.
const PROBE_EVERY: Duration = Duration::from_millis(50);

fn print_header(what: &str, rate: &str) {
    println!(
        "| {what} | connections | {rate} min / median / max | p50 ms (median) | p99 ms min / median / max | errors |"
    );
    println!("|---|---:|---:|---:|---:|---:|");
}

fn print_row(name: &str, connections: usize, runs: &[Run]) {
    let stats = |value: &dyn Fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(value).collect();
        values.sort_by(f64::total_cmp);
        (
            values[0],
            values[values.len() / 2],
            values[values.len() - 1],
        )
    };
    let (rate_min, rate_median, rate_max) = stats(&Run::rate);
    let (_, p50, _) = stats(&|run| run.quantile_ms(0.5));
    let (p99_min, p99_median, p99_max) = stats(&|run| run.quantile_ms(0.99));
    let errors: usize = runs.iter().map(|run| run.errors).sum();
    println!(
        "| {name} | {connections} | {rate_min:.0} / {rate_median:.0} / {rate_max:.0} | {p50:.2} | \
         {p99_min:.2} / {p99_median:.2} / {p99_max:.2} | {errors} |"
    );
    if let Some(error) = runs.iter().find_map(|run| run.first_error.as_deref()) {
        println!(
            "   first error: {}",
            error.chars().take(300).collect::<String>()
        );
    }
}

//! A province's history: months of dossiers driven through the real command
//! path (`motcua_store::CommandPath<Dossier>`), concurrently, reproducible
//! from a seed.
//!
//! How it runs:
//! 1. Every dossier's arrival is planned first ([`plan`]): receiving unit
//!    (by workload), channel (online share by level), procedure (by
//!    popularity), submission instant (office hours of a working day at the
//!    desk, any hour online), and what the desk does before and at
//!    acceptance.
//! 2. Dossier codes are taken from the store's per-unit daily counters
//!    ahead of the simulation, each unit's day in order of acceptance
//!    ([`codes`]): the same seed gives the same codes, and the counters end
//!    where a live system goes on from.
//! 3. The simulation then runs one simulated hour after another
//!    ([`clock`]): each dossier is a task, spawned at its submission, that
//!    tells its own story with its own seeded stream ([`driver`]), each
//!    command built from the state the previous one returned, waiting for
//!    the hour of each step. The log comes out in time order, each
//!    dossier's events spread over its weeks of life like a live system's;
//!    the dossiers of one hour run concurrently, at most `concurrency`
//!    commands in flight, so that PostgreSQL's group commit batches them.

mod clock;
mod codes;
mod driver;
mod mix;
mod people;
mod plan;

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Months, NaiveDate, Utc};
use cqrs_es::Aggregate;
use motcua_domain::dossier::Dossier;
use motcua_store::{CommandPath, CommandPathConfig, EventStore};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use self::mix::Mix;

use self::clock::{Clock, Finishing};
use self::codes::Codes;
use self::driver::{Counters, Tally, World, dossier_id, drive};
use self::plan::{Plan, Planner, local_midnight};
use crate::error::SeedError;
use crate::province::Province;

/// A history's size, period, pace and proportions.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryConfig {
    /// Seeds every random choice: the same seed (and province) writes the
    /// same events.
    pub seed: u64,
    /// Dossiers submitted over the period.
    pub dossiers: usize,
    /// First day of the period (local, Vietnam).
    pub from: NaiveDate,
    /// Length of the period; nothing happens at or after its end.
    pub months: u32,
    /// Commands in flight at once.
    pub concurrency: usize,
    pub mix: Mix,
}

/// Commands in flight by default: enough that PostgreSQL's group commit
/// writes full batches at the province's size (at 32 the seed ran at 5,900
/// commands/s, at 2,048 at 13,700; docs/benchmarks.md, "The seed").
pub const DEFAULT_CONCURRENCY: usize = 2048;

/// Preset sizes, for `motcua seed --scale`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// A few thousand dossiers over two months: what a server seeds on its
    /// first start.
    Small,
    /// The seed's province over half a year: 590,000 dossiers.
    Province,
}

impl Scale {
    pub fn dossiers(self) -> usize {
        match self {
            Scale::Small => 3_000,
            Scale::Province => 590_000,
        }
    }

    pub fn months(self) -> u32 {
        match self {
            Scale::Small => 2,
            Scale::Province => 6,
        }
    }
}

impl HistoryConfig {
    /// `dossiers` over `months` from `from`, [`DEFAULT_CONCURRENCY`] commands
    /// in flight, the default mix.
    pub fn new(seed: u64, dossiers: usize, from: NaiveDate, months: u32) -> Self {
        HistoryConfig {
            seed,
            dossiers,
            from,
            months,
            concurrency: DEFAULT_CONCURRENCY,
            mix: Mix::default(),
        }
    }

    /// The preset of `scale`, from `from`.
    pub fn for_scale(scale: Scale, seed: u64, from: NaiveDate) -> Self {
        HistoryConfig::new(seed, scale.dossiers(), from, scale.months())
    }

    /// The first day after the period.
    pub fn until(&self) -> Result<NaiveDate, SeedError> {
        self.from
            .checked_add_months(Months::new(self.months))
            .ok_or_else(|| SeedError::Config(format!("{} months from {}", self.months, self.from)))
    }

    /// The period as instants: [00:00 of `from`, 00:00 of `until`), Vietnam time.
    pub fn period(&self) -> Result<(DateTime<Utc>, DateTime<Utc>), SeedError> {
        Ok((local_midnight(self.from), local_midnight(self.until()?)))
    }

    fn validate(&self) -> Result<(), SeedError> {
        if self.months == 0 {
            return Err(SeedError::Config("months must be at least 1".to_owned()));
        }
        if self.concurrency == 0 {
            return Err(SeedError::Config(
                "concurrency must be at least 1".to_owned(),
            ));
        }
        if u32::try_from(self.dossiers).is_err() {
            return Err(SeedError::Config(format!(
                "{} dossiers is more than {} the generator numbers",
                self.dossiers,
                u32::MAX
            )));
        }
        Ok(())
    }
}

/// How far a running history has come.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub dossiers_done: u64,
    pub dossiers: u64,
    pub commands: u64,
    pub events: u64,
    pub rejections: u64,
    pub elapsed: Duration,
}

impl Progress {
    pub fn commands_per_second(&self) -> f64 {
        per_second(self.commands, self.elapsed)
    }
}

/// What a history wrote, and where its dossiers ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    pub dossiers: u64,
    pub commands: u64,
    pub events: u64,
    /// Commands the domain refused: 0 when the generator is right.
    pub rejections: u64,
    /// The first few rejections, for diagnosis.
    pub rejection_samples: Vec<String>,
    /// Time spent writing (planning included).
    pub elapsed: Duration,
    /// Commands by action (`Action::as_str`): every kind of transition the
    /// history took.
    pub actions: BTreeMap<&'static str, u64>,
    /// Dossiers by DVCQG status code at the end of the period.
    pub final_statuses: BTreeMap<u8, u64>,
    /// Results issued, early / on time / late by date against the due date.
    pub finished_early: u64,
    pub finished_on_time: u64,
    pub finished_late: u64,
    /// Accepted and still open (in progress) at the end of the period.
    pub open_at_end: u64,
    /// Submitted but not yet accepted at the end of the period.
    pub awaiting_reception_at_end: u64,
    /// Soft-deleted at the end of the period.
    pub deleted: u64,
}

impl Summary {
    pub fn commands_per_second(&self) -> f64 {
        per_second(self.commands, self.elapsed)
    }

    pub fn events_per_second(&self) -> f64 {
        per_second(self.events, self.elapsed)
    }

    fn from_tally(tally: Tally, elapsed: Duration) -> Self {
        Summary {
            dossiers: tally.dossiers,
            commands: tally.commands,
            events: tally.events,
            rejections: tally.rejections,
            rejection_samples: tally.rejection_samples,
            elapsed,
            actions: tally.actions,
            final_statuses: tally.statuses,
            finished_early: tally.early,
            finished_on_time: tally.on_time,
            finished_late: tally.late,
            open_at_end: tally.in_progress,
            awaiting_reception_at_end: tally.not_yet_accepted,
            deleted: tally.deleted,
        }
    }
}

fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        count as f64 / seconds
    } else {
        0.0
    }
}

/// How often `progress` hears from a running history.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Tasks taking dossier codes ahead of the simulation.
const CODE_TAKERS: usize = 4;
/// Aggregates the command path keeps in memory: more than the dossiers
/// open at once, so that a command rarely reloads its dossier.
const CACHE_CAPACITY: usize = 200_000;

/// Writes the history of `config` for `province` into `store` through the
/// command path, calling `progress` every half second and once at the end.
///
/// The store must not hold this history's dossiers yet (their ids are
/// `hs-0000000`, `hs-0000001`…): seeding twice fails with
/// [`SeedError::AlreadySeeded`] before anything is written. A rejected
/// command is counted (and its dossier left where it stood), not raised;
/// a store failure stops the history and is returned.
pub async fn generate(
    store: &EventStore,
    province: &Province,
    config: HistoryConfig,
    progress: impl Fn(Progress),
) -> Result<Summary, SeedError> {
    config.validate()?;
    let started = Instant::now();
    let (start, horizon) = config.period()?;
    let first = dossier_id(0);
    if config.dossiers > 0
        && store
            .stream_version(<Dossier as Aggregate>::TYPE, &first)
            .await?
            > 0
    {
        return Err(SeedError::AlreadySeeded(first));
    }

    let planner = Planner::new(
        province,
        config.mix,
        config.seed,
        config.from,
        config.until()?,
    )?;
    let plans = (0..config.dossiers)
        .map(|index| planner.plan(u32::try_from(index).unwrap_or(u32::MAX)))
        .collect::<Result<Vec<Plan>, SeedError>>()?;
    let mut arrivals: Vec<(DateTime<Utc>, u32)> = plans
        .iter()
        .map(|plan| (plan.submitted_at, plan.index))
        .collect();
    arrivals.sort_unstable();
    let codes = Codes::plan(province, &plans, horizon);

    let world = Arc::new(World {
        path: CommandPath::new(
            store.clone(),
            province.services(),
            Vec::new(),
            CommandPathConfig {
                cache_capacity: CACHE_CAPACITY,
                ..CommandPathConfig::default()
            },
        ),
        province: province.clone(),
        mix: config.mix,
        seed: config.seed,
        horizon,
        unit_index: province
            .units()
            .iter()
            .enumerate()
            .map(|(index, unit)| (unit.id.clone(), index))
            .collect::<HashMap<_, _>>(),
        plans,
        clock: Clock::new(start),
        codes,
        permits: Semaphore::new(config.concurrency),
        counters: Counters::default(),
        tally: Mutex::new(Tally::default()),
    });
    let report = |world: &World| {
        use std::sync::atomic::Ordering::Relaxed;
        let counters = &world.counters;
        Progress {
            dossiers_done: counters.dossiers.load(Relaxed),
            dossiers: config.dossiers as u64,
            commands: counters.commands.load(Relaxed),
            events: counters.events.load(Relaxed),
            rejections: counters.rejections.load(Relaxed),
            elapsed: started.elapsed(),
        }
    };

    let mut takers = JoinSet::new();
    for _ in 0..CODE_TAKERS {
        let (world, store) = (Arc::clone(&world), store.clone());
        takers.spawn(async move { world.codes.take(&store).await });
    }
    let mut dossiers: JoinSet<Result<(), SeedError>> = JoinSet::new();
    let mut last_report = Instant::now();
    let mut next_arrival = 0;
    loop {
        // The next window anything happens in: an arrival or a dossier's next step.
        let arrival_window = arrivals
            .get(next_arrival)
            .map(|(at, _)| world.clock.window_of(*at));
        let window = match (arrival_window, world.clock.next_waited_window()) {
            (Some(arrival), Some(waited)) => arrival.min(waited),
            (arrival, waited) => match arrival.or(waited) {
                Some(window) => window,
                None => break,
            },
        };
        let first_later = arrivals[next_arrival..]
            .iter()
            .position(|(at, _)| world.clock.window_of(*at) > window)
            .map_or(arrivals.len(), |offset| next_arrival + offset);
        world.clock.open(window, first_later - next_arrival);
        for &(_, index) in &arrivals[next_arrival..first_later] {
            let world = Arc::clone(&world);
            dossiers.spawn(async move {
                let _finishing = Finishing(&world.clock);
                drive(&world, index).await
            });
        }
        next_arrival = first_later;
        // Wait for the window to be done, reporting progress and failures.
        loop {
            let quiet = tokio::select! {
                () = world.clock.quiet() => true,
                () = tokio::time::sleep(PROGRESS_EVERY) => false,
            };
            reap(&mut dossiers, &mut takers)?;
            if last_report.elapsed() >= PROGRESS_EVERY {
                progress(report(&world));
                last_report = Instant::now();
            }
            if quiet {
                break;
            }
        }
    }
    while let Some(joined) = dossiers.join_next().await {
        joined.map_err(|error| SeedError::Task(error.to_string()))??;
    }
    world.codes.stop();
    while let Some(joined) = takers.join_next().await {
        joined.map_err(|error| SeedError::Task(error.to_string()))??;
    }
    progress(report(&world));
    let tally = std::mem::take(&mut *world.tally.lock().unwrap_or_else(PoisonError::into_inner));
    Ok(Summary::from_tally(tally, started.elapsed()))
}

/// Collects the tasks that have ended; the first failure stops the
/// history (dropping the task sets aborts what still runs).
fn reap(
    dossiers: &mut JoinSet<Result<(), SeedError>>,
    takers: &mut JoinSet<Result<(), SeedError>>,
) -> Result<(), SeedError> {
    for tasks in [dossiers, takers] {
        while let Some(joined) = tasks.try_join_next() {
            joined.map_err(|error| SeedError::Task(error.to_string()))??;
        }
    }
    Ok(())
}

//! `motcua seed`: writes a reproducible history of the seed's province
//! through the real command path (aggregate, store; the projector picks it
//! up like any other events), with a progress bar and a summary. `serve
//! --demo-data` writes the small one on a first start.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use anyhow::Context;
use chrono::{Datelike, Months, NaiveDate};
use motcua_seed::{HistoryConfig, Progress, Province, Scale, Summary};
use motcua_store::{EventStore, database_location};

/// `--scale`: `motcua_seed::Scale` as the command line spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ScaleArg {
    /// 3,000 dossiers over two months: what `serve --demo-data` writes.
    Small,
    /// The seed's province over half a year: 590,000 dossiers.
    Province,
}

impl From<ScaleArg> for Scale {
    fn from(scale: ScaleArg) -> Scale {
        match scale {
            ScaleArg::Small => Scale::Small,
            ScaleArg::Province => Scale::Province,
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How much history to write.
    #[arg(long, value_enum, default_value_t = ScaleArg::Small)]
    scale: ScaleArg,
    /// Seeds every random choice: the same seed, period and size write the
    /// same events.
    #[arg(long, default_value_t = motcua_seed::DEMO_SEED)]
    seed: u64,
    /// First day of the period (YYYY-MM-DD); by default the period ends
    /// where this month begins.
    #[arg(long, value_name = "DATE")]
    from: Option<NaiveDate>,
    /// Dossiers to submit over the period, instead of the scale's.
    #[arg(long)]
    dossiers: Option<usize>,
    /// Length of the period in months, instead of the scale's.
    #[arg(long)]
    months: Option<u32>,
    /// Commands in flight at once (more lets PostgreSQL commit more
    /// commands together).
    #[arg(long, default_value_t = motcua_seed::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    /// No progress bar (the summary is still printed).
    #[arg(long)]
    quiet: bool,
}

impl Args {
    fn history(&self, today: NaiveDate) -> anyhow::Result<HistoryConfig> {
        let scale = Scale::from(self.scale);
        let months = self.months.unwrap_or(scale.months());
        let from = match self.from {
            Some(from) => from,
            None => months_before_this_one(today, months)?,
        };
        let mut config = HistoryConfig::new(
            self.seed,
            self.dossiers.unwrap_or(scale.dossiers()),
            from,
            months,
        );
        config.concurrency = self.concurrency;
        Ok(config)
    }
}

/// The first day of the month `months` before the one `today` is in.
fn months_before_this_one(today: NaiveDate, months: u32) -> anyhow::Result<NaiveDate> {
    today
        .with_day(1)
        .and_then(|this_month| this_month.checked_sub_months(Months::new(months)))
        .with_context(|| format!("{months} months before {today}"))
}

/// The history `serve --demo-data` writes on an empty log: the small scale,
/// ending where this month begins.
pub fn demo_history(today: NaiveDate) -> anyhow::Result<HistoryConfig> {
    months_before_this_one(today, Scale::Small.months())
        .map(|from| HistoryConfig::for_scale(Scale::Small, motcua_seed::DEMO_SEED, from))
}

pub async fn run(args: Args, database: &super::Database) -> anyhow::Result<()> {
    let config = args.history(chrono::Utc::now().date_naive())?;
    let store = super::open_confined(database).await?;
    let province = Province::generate(motcua_seed::DEMO_SEED).context("building the province")?;
    println!(
        "Seeding {} dossiers of {} ({} units, {} procedures; seed {}) from {} for {} months into the {} database at {}…",
        thousands(config.dossiers as u64),
        motcua_seed::PROVINCE_NAME,
        province.units().len(),
        province.catalog().len(),
        config.seed,
        config.from,
        config.months,
        store.backend(),
        database_location(&database.url),
    );
    let bar = ProgressBar::new(!args.quiet);
    let summary = write_history(&store, &province, config, |progress| bar.show(progress)).await;
    bar.finish();
    let summary = summary?;
    print!("{}", describe(&summary));
    store.close().await;
    anyhow::ensure!(
        summary.rejections == 0,
        "the domain refused {} of the generator's commands, e.g. {}",
        summary.rejections,
        summary.rejection_samples.join("; ")
    );
    Ok(())
}

/// Writes `config`'s history into `store`, calling `progress` as it goes.
pub async fn write_history(
    store: &EventStore,
    province: &Province,
    config: HistoryConfig,
    progress: impl Fn(Progress),
) -> anyhow::Result<Summary> {
    let (from, until) = (config.from, config.until()?);
    motcua_seed::generate(store, province, config, progress)
        .await
        .with_context(|| format!("writing the history from {from} to {until}"))
}

/// The summary printed at the end: what was written, how fast, and where
/// the dossiers stand.
pub fn describe(summary: &Summary) -> String {
    let mut text = format!(
        "Seeded {} dossiers: {} commands, {} events in {:.1} s ({} commands/s, {} events/s); {} refused.\n",
        thousands(summary.dossiers),
        thousands(summary.commands),
        thousands(summary.events),
        summary.elapsed.as_secs_f64(),
        thousands(summary.commands_per_second().round() as u64),
        thousands(summary.events_per_second().round() as u64),
        thousands(summary.rejections),
    );
    text.push_str(&format!(
        "  results issued: {} early, {} on time, {} late; still open: {} in progress, {} awaiting reception; {} deleted.\n",
        thousands(summary.finished_early),
        thousands(summary.finished_on_time),
        thousands(summary.finished_late),
        thousands(summary.open_at_end),
        thousands(summary.awaiting_reception_at_end),
        thousands(summary.deleted),
    ));
    let actions: Vec<String> = summary
        .actions
        .iter()
        .map(|(action, count)| format!("{action} {}", thousands(*count)))
        .collect();
    text.push_str(&format!("  commands by action: {}.\n", actions.join(", ")));
    let statuses: Vec<String> = summary
        .final_statuses
        .iter()
        .map(|(status, count)| format!("{status}: {}", thousands(*count)))
        .collect();
    text.push_str(&format!(
        "  dossiers by DVCQG status at the end: {}.\n",
        statuses.join(", ")
    ));
    text
}

/// `1234567` as `1,234,567`.
fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// The progress on standard error: a bar redrawn in place on a terminal,
/// a line every tenth of the way otherwise (logs, CI).
struct ProgressBar {
    enabled: bool,
    terminal: bool,
    /// Tenths of the way already reported (when not a terminal).
    reported: std::sync::atomic::AtomicU64,
}

const BAR_WIDTH: u64 = 30;

impl ProgressBar {
    fn new(enabled: bool) -> Self {
        Self {
            enabled,
            terminal: std::io::stderr().is_terminal(),
            reported: std::sync::atomic::AtomicU64::new(0),
        }
    }

    fn show(&self, progress: Progress) {
        if !self.enabled {
            return;
        }
        let done = progress.dossiers_done.min(progress.dossiers);
        let tenths = (done * 10).checked_div(progress.dossiers).unwrap_or(10);
        let line = progress_line(&progress);
        let mut stderr = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(stderr, "\r{line}\x1b[K");
        } else if tenths > self.reported.load(std::sync::atomic::Ordering::Relaxed) {
            self.reported
                .store(tenths, std::sync::atomic::Ordering::Relaxed);
            let _ = writeln!(stderr, "{line}");
        }
        let _ = stderr.flush();
    }

    fn finish(&self) {
        if self.enabled && self.terminal {
            eprintln!();
        }
    }
}

/// `[#########---------]  52% 306,800 / 590,000 dossiers · 21,403 commands/s · ETA 1m 20s`
fn progress_line(progress: &Progress) -> String {
    let done = progress.dossiers_done.min(progress.dossiers);
    let filled = (done * BAR_WIDTH)
        .checked_div(progress.dossiers)
        .unwrap_or(BAR_WIDTH);
    let percent = (done * 100).checked_div(progress.dossiers).unwrap_or(100);
    let eta = match done {
        0 => "ETA —".to_owned(),
        _ => {
            let rate = done as f64 / progress.elapsed.as_secs_f64().max(1e-3);
            let left = (progress.dossiers - done) as f64 / rate;
            format!("ETA {}", duration(Duration::from_secs_f64(left)))
        }
    };
    format!(
        "[{}{}] {percent:>3}% {} / {} dossiers · {} commands/s · {} refused · {eta}",
        "#".repeat(filled as usize),
        "-".repeat((BAR_WIDTH - filled) as usize),
        thousands(done),
        thousands(progress.dossiers),
        thousands(progress.commands_per_second().round() as u64),
        thousands(progress.rejections),
    )
}

/// `1h 02m`, `3m 20s`, `12s`.
fn duration(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m {:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h {:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(year: i32, month: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(year, month, day).expect("a valid date")
    }

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(590_000), "590,000");
        assert_eq!(thousands(5_198_380), "5,198,380");
    }

    #[test]
    fn the_progress_line_shows_the_share_done_the_pace_and_what_is_left() {
        let progress = Progress {
            dossiers_done: 295_000,
            dossiers: 590_000,
            commands: 2_600_000,
            events: 2_700_000,
            rejections: 0,
            elapsed: Duration::from_secs(100),
        };
        assert_eq!(
            progress_line(&progress),
            "[###############---------------]  50% 295,000 / 590,000 dossiers · 26,000 commands/s · 0 refused · ETA 1m 40s"
        );
        let nothing = Progress {
            dossiers: 0,
            ..progress
        };
        assert!(progress_line(&nothing).contains(" 100% 0 / 0 dossiers"));
    }

    #[test]
    fn the_default_period_ends_where_this_month_begins() {
        let today = day(2026, 12, 1);
        let demo = demo_history(today).expect("the demo period");
        assert_eq!(demo.from, day(2026, 10, 1));
        assert_eq!(demo.until().expect("its end"), day(2026, 12, 1));
        assert_eq!(demo.dossiers, 3_000);
        let province = Args {
            scale: ScaleArg::Province,
            seed: 7,
            from: None,
            dossiers: None,
            months: None,
            concurrency: 64,
            quiet: true,
        }
        .history(day(2026, 7, 15))
        .expect("the province period");
        assert_eq!(province.from, day(2026, 1, 1));
        assert_eq!((province.dossiers, province.months), (590_000, 6));
        assert_eq!((province.seed, province.concurrency), (7, 64));
    }
}

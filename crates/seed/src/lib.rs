//! A reproducible, province-scale history for motcua: the seed's province
//! (236 units, 1,977 procedures, Vietnam's working calendar) and months of
//! dossiers written through the real command path, as `motcua seed` and
//! the benchmarks need them.
//!
//! ```no_run
//! # async fn example(store: &motcua_store::EventStore) -> Result<(), motcua_seed::SeedError> {
//! use motcua_seed::{HistoryConfig, Province, Scale, generate};
//!
//! let province = Province::generate(42)?;
//! let from = chrono::NaiveDate::from_ymd_opt(2025, 1, 1).unwrap();
//! let config = HistoryConfig::for_scale(Scale::Small, 42, from);
//! let summary = generate(store, &province, config, |progress| {
//!     eprintln!("{} / {} dossiers", progress.dossiers_done, progress.dossiers);
//! })
//! .await?;
//! assert_eq!(summary.rejections, 0);
//! # Ok(())
//! # }
//! ```
//!
//! Everything is decided by the seed: the same seed gives the same
//! province and, on an empty store, the same events (recording times and
//! log positions aside).

mod calendar;
mod catalog;
mod error;
mod history;
mod names;
mod province;
mod rng;

pub use calendar::vietnam_calendar;
pub use catalog::{CatalogEntry, Handler};
pub use error::SeedError;
pub use history::{DEFAULT_CONCURRENCY, HistoryConfig, Mix, Progress, Scale, Summary, generate};
pub use province::{PROVINCE_CODE, PROVINCE_NAME, Province, SeedUnit, UnitKind, established};

/// The seed of the demonstration province the development server serves.
pub const DEMO_SEED: u64 = 42;

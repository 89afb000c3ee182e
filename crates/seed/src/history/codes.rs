//! Dossier codes, taken from the store's per-unit daily counters
//! (`EventStore::next_dossier_codes`, a unit's day in one statement) ahead
//! of the simulation, in the order of the planned acceptances: each unit's
//! dossiers of a day are numbered in acceptance order however the
//! simulation interleaves them, and the counters end where a live system
//! continues from.

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};

use chrono::{DateTime, NaiveDate, Utc};
use motcua_domain::calendar::local_date;
use motcua_domain::dossier::code::DossierCode;
use motcua_domain::unit::UnitId;
use motcua_store::EventStore;
use tokio::sync::Notify;

use super::plan::Plan;
use crate::error::SeedError;
use crate::province::Province;

/// The dossiers one unit accepts on one day, in order of acceptance.
struct Group {
    unit: UnitId,
    day: NaiveDate,
    dossiers: Vec<u32>,
}

/// The codes of the planned acceptances, filled in as they are taken.
pub(super) struct Codes {
    groups: Vec<Group>,
    next_group: AtomicUsize,
    /// By dossier index: the sequence of its code, 0 until taken.
    sequences: Vec<AtomicU32>,
    taken: Notify,
    stopped: AtomicBool,
}

impl Codes {
    /// The groups of the dossiers accepted before `horizon`, earliest day
    /// first (the order the simulation needs them in).
    pub fn plan(province: &Province, plans: &[Plan], horizon: DateTime<Utc>) -> Self {
        let mut accepted: Vec<(NaiveDate, u16, DateTime<Utc>, u32)> = plans
            .iter()
            .filter_map(|plan| {
                let at = plan.accepted_at().filter(|at| *at < horizon)?;
                Some((local_date(at), plan.unit, at, plan.index))
            })
            .collect();
        accepted.sort_unstable();
        let mut groups: Vec<Group> = Vec::new();
        for (day, unit, _, index) in accepted {
            let Some(unit) = province.units().get(usize::from(unit)) else {
                continue;
            };
            match groups.last_mut() {
                Some(group) if group.day == day && group.unit == unit.id => {
                    group.dossiers.push(index);
                }
                _ => groups.push(Group {
                    unit: unit.id.clone(),
                    day,
                    dossiers: vec![index],
                }),
            }
        }
        Codes {
            groups,
            next_group: AtomicUsize::new(0),
            sequences: plans.iter().map(|_| AtomicU32::new(0)).collect(),
            taken: Notify::new(),
            stopped: AtomicBool::new(false),
        }
    }

    /// One taker: takes the codes of the next group until none is left.
    pub async fn take(&self, store: &EventStore) -> Result<(), SeedError> {
        loop {
            let next = self.next_group.fetch_add(1, Ordering::Relaxed);
            let Some(group) = self.groups.get(next) else {
                return Ok(());
            };
            let count = u32::try_from(group.dossiers.len()).unwrap_or(u32::MAX);
            let codes = match store
                .next_dossier_codes(&group.unit, group.day, count)
                .await
            {
                Ok(codes) => codes,
                Err(error) => {
                    self.stop();
                    return Err(error.into());
                }
            };
            for (&index, code) in group.dossiers.iter().zip(&codes) {
                if let Some(slot) = self.sequences.get(index as usize) {
                    slot.store(code.sequence(), Ordering::Release);
                }
            }
            self.taken.notify_waiters();
        }
    }

    /// No more codes will come: wake everyone waiting for one.
    pub fn stop(&self) {
        self.stopped.store(true, Ordering::Release);
        self.taken.notify_waiters();
    }

    /// The code of dossier `index`, accepted by `unit` at `at`, once taken.
    pub async fn code(
        &self,
        index: u32,
        unit: &UnitId,
        at: DateTime<Utc>,
    ) -> Result<DossierCode, SeedError> {
        let slot = self
            .sequences
            .get(index as usize)
            .ok_or_else(|| SeedError::Generated {
                what: "dossier code",
                reason: format!("dossier {index} has no code slot"),
            })?;
        loop {
            let taken = self.taken.notified();
            tokio::pin!(taken);
            taken.as_mut().enable();
            let sequence = slot.load(Ordering::Acquire);
            if sequence != 0 {
                return DossierCode::new(unit.clone(), local_date(at), sequence).map_err(|error| {
                    SeedError::Generated {
                        what: "dossier code",
                        reason: error.to_string(),
                    }
                });
            }
            if self.stopped.load(Ordering::Acquire) {
                return Err(SeedError::Task(
                    "dossier codes stopped coming: the history is stopping".to_owned(),
                ));
            }
            taken.await;
        }
    }
}

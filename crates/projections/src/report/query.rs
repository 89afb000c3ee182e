//! Answering a Biểu 06 query from the counters: place every unit in the
//! requested view of the hierarchy, sum the counters of the units under the
//! requested one, and fold the sums into rows.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, NaiveDate};
use motcua_domain::unit::{UnitHierarchy, UnitId};

use super::{Bieu06, GroupBy, GroupKey, HierarchyView, Report, ReportQuery, ReportRow};
use crate::error::ProjectionError;
use crate::fold::{Column, end_of_day};
use crate::read_models::{CounterSums, CounterTable, ReadModels};

impl ReadModels {
    /// The Biểu 06 report for `query`, rolled up by `units`.
    pub async fn report(
        &self,
        units: &UnitHierarchy,
        query: &ReportQuery,
    ) -> Result<Report, ProjectionError> {
        if query.from > query.to {
            return Err(ProjectionError::InvalidQuery {
                field: "from",
                reason: format!(
                    "the period starts ({}) after it ends ({})",
                    query.from, query.to
                ),
            });
        }
        let tree = ViewTree::new(units, query)?;
        // The counters are read in several statements, all of one
        // generation. A rebuild promoted meanwhile drops the old one, which
        // would leave holes: read again until the live generation is the
        // same after the reads as before them (a retired one never returns).
        loop {
            let generation = self.live(crate::projector::DOSSIERS).await?.generation;
            let report = self.report_of(&tree, query, generation).await?;
            if self.live(crate::projector::DOSSIERS).await?.generation == generation {
                return Ok(report);
            }
        }
    }

    /// The report from the counters of `generation`.
    async fn report_of(
        &self,
        tree: &ViewTree,
        query: &ReportQuery,
        generation: i32,
    ) -> Result<Report, ProjectionError> {
        let members = tree.members();
        let unit_ids: Vec<String> = members.keys().map(ToString::to_string).collect();
        // Under the root of the whole tree: no need to name the units.
        let scope = (members.len() < tree.home.len()).then_some(unit_ids.as_slice());

        let mut report = Report {
            unit: tree.root.clone(),
            unit_alone: Bieu06::default(),
            subtree: Bieu06::default(),
            rows: Vec::new(),
        };
        let mut rows: BTreeMap<GroupKey, Bieu06> = BTreeMap::new();
        for sums in self
            .counter_sums(
                generation,
                CounterTable::PerUnit,
                scope,
                query.from,
                query.to,
            )
            .await?
        {
            let Some(group) = unit_id(&sums.unit).and_then(|unit| members.get(&unit)) else {
                continue;
            };
            let counts = counts(&sums);
            report.subtree += counts;
            match group {
                Some(child) if query.group_by == GroupBy::ChildUnit => {
                    *rows.entry(GroupKey::Unit(child.clone())).or_default() += counts;
                }
                Some(_) => {}
                None => report.unit_alone += counts,
            }
        }
        match query.group_by {
            GroupBy::ChildUnit => {}
            GroupBy::Field | GroupBy::Procedure => {
                for sums in self
                    .counter_sums(
                        generation,
                        CounterTable::PerProcedure,
                        scope,
                        query.from,
                        query.to,
                    )
                    .await?
                {
                    let Some((procedure, field)) = &sums.procedure else {
                        continue;
                    };
                    let key = if query.group_by == GroupBy::Field {
                        GroupKey::Field(field.clone())
                    } else {
                        match procedure.parse() {
                            Ok(code) => GroupKey::Procedure(code),
                            Err(_) => continue,
                        }
                    };
                    *rows.entry(key).or_default() += counts(&sums);
                }
            }
            GroupBy::Month => {
                for (year, month, from, to) in months(query.from, query.to) {
                    let mut counts_of_month = Bieu06::default();
                    for sums in self
                        .counter_sums(generation, CounterTable::PerUnit, scope, from, to)
                        .await?
                    {
                        counts_of_month += counts(&sums);
                    }
                    rows.insert(GroupKey::Month { year, month }, counts_of_month);
                }
            }
        }
        report.rows = rows
            .into_iter()
            .filter(|(_, counts)| *counts != Bieu06::default())
            .map(|(key, counts)| ReportRow { key, counts })
            .collect();
        Ok(report)
    }
}

fn unit_id(text: &str) -> Option<UnitId> {
    text.parse().ok()
}

/// A Biểu 06 row from summed counters.
fn counts(sums: &CounterSums) -> Bieu06 {
    let column = |column: Column| sums.columns[column.index()];
    let received_online = column(Column::ReceivedOnline);
    let received_offline = column(Column::ReceivedOffline);
    let resolved_early = column(Column::ResolvedEarly);
    let resolved_on_time = column(Column::ResolvedOnTime);
    let resolved_late = column(Column::ResolvedLate);
    let withdrawn = column(Column::Withdrawn);
    let stopped = column(Column::Stopped);
    let in_progress = sums.carried_over + received_online + received_offline
        - resolved_early
        - resolved_on_time
        - resolved_late
        - withdrawn
        - stopped;
    let overdue = column(Column::OverdueDelta);
    Bieu06 {
        received_online,
        received_offline,
        carried_over: sums.carried_over,
        resolved_early,
        resolved_on_time,
        resolved_late,
        in_progress_within_time: in_progress - overdue,
        in_progress_overdue: overdue,
        withdrawn,
        stopped,
        refused: column(Column::Refused),
        awaiting_supplement: column(Column::AwaitingSupplementDelta),
        awaiting_payment: column(Column::AwaitingPaymentDelta),
    }
}

/// Each calendar month overlapping [from, to]: (year, month, first, last day
/// inside the period).
fn months(from: NaiveDate, to: NaiveDate) -> Vec<(i32, u32, NaiveDate, NaiveDate)> {
    let mut months = Vec::new();
    let mut start = from;
    while start <= to {
        let next_month = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        };
        let Some(next_month) = next_month else {
            break;
        };
        let end = next_month.pred_opt().unwrap_or(next_month).min(to);
        months.push((start.year(), start.month(), start, end));
        start = next_month;
    }
    months
}

/// The hierarchy as a report sees it: where each unit's counts go (its
/// "home") and the parent of each home.
struct ViewTree {
    root: UnitId,
    /// Every unit known to the hierarchy, to the unit its counts join.
    home: HashMap<UnitId, UnitId>,
    parent: HashMap<UnitId, Option<UnitId>>,
}

impl ViewTree {
    fn new(units: &UnitHierarchy, query: &ReportQuery) -> Result<Self, ProjectionError> {
        let unknown = || ProjectionError::InvalidQuery {
            field: "unit",
            reason: format!("unit {} is not in the unit hierarchy", query.unit),
        };
        let mut tree = ViewTree {
            root: query.unit.clone(),
            home: HashMap::new(),
            parent: HashMap::new(),
        };
        let all: Vec<&UnitId> = {
            let mut ids: Vec<&UnitId> =
                units.versions().iter().map(|version| &version.id).collect();
            ids.dedup();
            ids
        };
        match query.view {
            HierarchyView::Recorded => {
                let at = end_of_day(query.to).ok_or_else(|| ProjectionError::InvalidQuery {
                    field: "to",
                    reason: format!("{} is out of range", query.to),
                })?;
                // A unit sits where its version at the period's end sits,
                // or, if it had ended by then, its last version.
                for &unit in &all {
                    let Some(version) = units
                        .history(unit)
                        .iter()
                        .rev()
                        .find(|version| version.valid_from <= at)
                    else {
                        continue;
                    };
                    tree.home.insert(unit.clone(), unit.clone());
                    tree.parent.insert(unit.clone(), version.parent.clone());
                }
                if !tree.home.contains_key(&query.unit) {
                    return Err(unknown());
                }
            }
            HierarchyView::Current => {
                let today = query.today;
                for &unit in &all {
                    if let Some(version) = units.version_at(unit, today) {
                        tree.parent.insert(unit.clone(), version.parent.clone());
                    }
                }
                for &unit in &all {
                    if let Some(home) = units.home_at(unit, today) {
                        tree.home.insert(unit.clone(), home);
                    }
                }
                tree.root = tree.home.get(&query.unit).cloned().ok_or_else(unknown)?;
            }
        }
        Ok(tree)
    }

    /// The units whose counts fall under the root, each with the root's
    /// child it rolls up into (`None`: the root itself).
    fn members(&self) -> HashMap<UnitId, Option<UnitId>> {
        let mut members = HashMap::new();
        for (unit, home) in &self.home {
            let mut below_root: Option<&UnitId> = None;
            let mut current = Some(home);
            // A walk longer than the number of units has met a cycle.
            for _ in 0..=self.parent.len() {
                let Some(node) = current else {
                    break;
                };
                if node == &self.root {
                    members.insert(unit.clone(), below_root.cloned());
                    break;
                }
                below_root = Some(node);
                current = self.parent.get(node).and_then(Option::as_ref);
            }
        }
        members
    }
}

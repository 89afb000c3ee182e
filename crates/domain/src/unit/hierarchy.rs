//! The versioned unit hierarchy: versions, succession edges, validation and
//! the queries the rest of the domain asks ("who sees whom at T", "who stands
//! for this unit today").

use std::collections::HashMap;
use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::tree::UnitTree;
use super::{UnitId, UnitLevel};

/// One version of a unit: its name, level and parent over the half-open
/// interval `[valid_from, valid_to)`. Renaming or moving a unit closes its
/// version and opens a new one under the same e-ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitVersion {
    pub id: UnitId,
    pub name: String,
    pub level: UnitLevel,
    /// `None` for a root (the provincial People's Committee).
    pub parent: Option<UnitId>,
    pub valid_from: DateTime<Utc>,
    /// `None` while still in force.
    pub valid_to: Option<DateTime<Utc>>,
}

impl UnitVersion {
    /// Is this version in force at `at`?
    pub fn is_valid_at(&self, at: DateTime<Utc>) -> bool {
        self.valid_from <= at && self.valid_to.is_none_or(|to| at < to)
    }

    /// Was this version in force at some instant just before `at`?
    fn is_valid_just_before(&self, at: DateTime<Utc>) -> bool {
        self.valid_from < at && self.valid_to.is_none_or(|to| at <= to)
    }
}

/// What a reorganisation did to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuccessionKind {
    /// `from` ended and `to` took it over (sáp nhập).
    MergedInto,
    /// The new unit `to` was split off `from` (chia tách); `from` may go on.
    SplitFrom,
    /// `from` was renamed; `to` is the unit under the new name (usually
    /// `from` itself, since a code is never rewritten).
    Renamed,
    /// `from` was moved under a new parent; `to` as for [`Self::Renamed`].
    Moved,
    /// `from` was abolished (giải thể); `to`, if any, took over its open dossiers.
    Dissolved,
}

/// A succession edge recorded by a reorganisation effective at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Succession {
    pub from: UnitId,
    /// Required except for [`SuccessionKind::Dissolved`].
    pub to: Option<UnitId>,
    pub kind: SuccessionKind,
    pub at: DateTime<Utc>,
}

impl Succession {
    /// Does `from` stop being in force at `at`, handing its work over to
    /// `to` (if any)? A rename or move under the same e-ID goes on as a new
    /// version; a split-off unit does not take over its source.
    fn hands_over(&self) -> bool {
        match self.kind {
            SuccessionKind::MergedInto | SuccessionKind::Dissolved => true,
            SuccessionKind::Renamed | SuccessionKind::Moved => self.to.as_ref() != Some(&self.from),
            SuccessionKind::SplitFrom => false,
        }
    }
}

/// Why a set of versions and successions is not a consistent hierarchy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HierarchyError {
    #[error("a version of {unit} ends at {valid_to}, not after it starts at {valid_from}")]
    EmptyInterval {
        unit: UnitId,
        valid_from: DateTime<Utc>,
        valid_to: DateTime<Utc>,
    },
    #[error(
        "two versions of {unit} overlap: the one from {earlier_from} is still in force when the one from {later_from} starts"
    )]
    Overlap {
        unit: UnitId,
        earlier_from: DateTime<Utc>,
        later_from: DateTime<Utc>,
    },
    #[error("{unit} names {parent} as its parent, but there is no such unit")]
    UnknownParent { unit: UnitId, parent: UnitId },
    #[error("{unit} names {parent} as its parent, but {parent} is not in force at {at}")]
    ParentNotValid {
        unit: UnitId,
        parent: UnitId,
        at: DateTime<Utc>,
    },
    #[error("{unit} ({level:?}) cannot be under {parent} ({parent_level:?}), a lower level")]
    ParentBelowChild {
        unit: UnitId,
        level: UnitLevel,
        parent: UnitId,
        parent_level: UnitLevel,
    },
    #[error("{unit} is its own ancestor at {at}")]
    Cycle { unit: UnitId, at: DateTime<Utc> },
    #[error("a {kind:?} succession names {unit}, but there is no such unit")]
    UnknownSuccessionUnit { kind: SuccessionKind, unit: UnitId },
    #[error("a {kind:?} succession from {from} must name the unit that succeeds it")]
    MissingSuccessor { kind: SuccessionKind, from: UnitId },
    #[error("a {kind:?} succession cannot lead from {unit} to itself")]
    SelfSuccession { kind: SuccessionKind, unit: UnitId },
    #[error("{from} is not in force just before its {kind:?} succession at {at}")]
    SourceNotValid {
        kind: SuccessionKind,
        from: UnitId,
        at: DateTime<Utc>,
    },
    #[error("{from} is still in force at {at}, when a {kind:?} succession ends it")]
    SourceStillValid {
        kind: SuccessionKind,
        from: UnitId,
        at: DateTime<Utc>,
    },
    #[error("{to} is not in force at {at}, when it succeeds {from} ({kind:?})")]
    SuccessorNotValid {
        kind: SuccessionKind,
        from: UnitId,
        to: UnitId,
        at: DateTime<Utc>,
    },
    #[error("{unit} is handed over to more than one unit at {at}")]
    AmbiguousSuccession { unit: UnitId, at: DateTime<Utc> },
    #[error("{unit} has no open version to change at {at}")]
    NoOpenVersion { unit: UnitId, at: DateTime<Utc> },
}

/// The versioned unit hierarchy of a province, validated on construction.
///
/// Invariants (checked by [`UnitHierarchy::new`]): versions of one unit do
/// not overlap; a parent is in force over its child's whole interval and is
/// not at a lower level; the parent graph has no cycle at any instant;
/// succession edges name known units in force when the edge takes effect,
/// and a unit is handed over to at most one unit at a time.
#[derive(Debug, Clone, Default)]
pub struct UnitHierarchy {
    /// Sorted by (id, valid_from), so each unit's history is contiguous.
    versions: Vec<UnitVersion>,
    history: HashMap<UnitId, Range<usize>>,
    /// Indices into `versions` of the versions naming the key as parent,
    /// in (id, valid_from) order.
    children: HashMap<UnitId, Vec<usize>>,
    successions: Vec<Succession>,
    /// Indices into `successions` of the edges ending the key and handing
    /// it over, by `at`.
    hand_overs: HashMap<UnitId, Vec<usize>>,
}

impl UnitHierarchy {
    /// Validates and indexes a hierarchy.
    pub fn new(
        mut versions: Vec<UnitVersion>,
        successions: Vec<Succession>,
    ) -> Result<Self, HierarchyError> {
        versions.sort_by(|a, b| (&a.id, a.valid_from).cmp(&(&b.id, b.valid_from)));
        let mut hierarchy = Self {
            history: index_histories(&versions)?,
            versions,
            ..Self::default()
        };
        hierarchy.check_parents()?;
        hierarchy.check_cycles()?;
        for (index, version) in hierarchy.versions.iter().enumerate() {
            if let Some(parent) = &version.parent {
                hierarchy
                    .children
                    .entry(parent.clone())
                    .or_default()
                    .push(index);
            }
        }
        hierarchy.index_successions(successions)?;
        Ok(hierarchy)
    }

    /// Every version, ordered by unit and start.
    pub fn versions(&self) -> &[UnitVersion] {
        &self.versions
    }

    /// Every succession edge, ordered by time.
    pub fn successions(&self) -> &[Succession] {
        &self.successions
    }

    /// The versions of `unit`, oldest first; empty for an unknown unit.
    pub fn history(&self, unit: &UnitId) -> &[UnitVersion] {
        self.history
            .get(unit)
            .and_then(|range| self.versions.get(range.clone()))
            .unwrap_or_default()
    }

    /// The version of `unit` in force at `at`.
    pub fn version_at(&self, unit: &UnitId, at: DateTime<Utc>) -> Option<&UnitVersion> {
        let history = self.history(unit);
        let started = history.partition_point(|version| version.valid_from <= at);
        started
            .checked_sub(1)
            .and_then(|latest| history.get(latest))
            .filter(|version| version.is_valid_at(at))
    }

    /// The units in force at `at` with their parents: the tree "as recorded".
    pub fn tree_at(&self, at: DateTime<Utc>) -> UnitTree<'_> {
        UnitTree::new(
            at,
            self.versions
                .iter()
                .filter(|version| version.is_valid_at(at)),
        )
    }

    /// The tenant scope of `viewer` at `at`: itself, then its descendants
    /// breadth-first; empty if `viewer` is not in force at `at`.
    pub fn visible_units(&self, viewer: &UnitId, at: DateTime<Utc>) -> Vec<UnitId> {
        let mut found: Vec<&UnitVersion> = self.version_at(viewer, at).into_iter().collect();
        let mut next = 0;
        while let Some(&version) = found.get(next) {
            found.extend(self.children_at(&version.id, at));
            next += 1;
        }
        found
            .into_iter()
            .map(|version| version.id.clone())
            .collect()
    }

    /// The unit in force at `at` whose counts take in `unit`'s ("as of
    /// today" reports): its successor, or, for a unit that ended with none,
    /// its last parent's. `None` if there is none in force at `at`.
    pub fn home_at(&self, unit: &UnitId, at: DateTime<Utc>) -> Option<UnitId> {
        let mut current = unit.clone();
        // Each step climbs to a parent: at most as many steps as versions.
        for _ in 0..=self.versions.len() {
            if let Some(successor) = self.successor_at(&current, at) {
                return Some(successor);
            }
            current = self.history(&current).last()?.parent.clone()?;
        }
        None
    }

    /// Every unit whose records a viewer of `viewer`'s subtree reads at
    /// `at`, by e-ID: those ever under it (communes since merged or moved
    /// away included), and those whose home at `at` ([`Self::home_at`]) is
    /// under it now.
    pub fn reachable_units(&self, viewer: &UnitId, at: DateTime<Utc>) -> Vec<UnitId> {
        let now_under: std::collections::HashSet<UnitId> =
            self.visible_units(viewer, at).into_iter().collect();
        let mut units = self.ever_visible_units(viewer);
        units.extend(
            self.history
                .keys()
                .filter(|unit| {
                    self.home_at(unit, at)
                        .is_some_and(|home| now_under.contains(&home))
                })
                .cloned(),
        );
        units.sort_unstable();
        units.dedup();
        units
    }

    /// Every unit that was `viewer` or under it at some instant, by e-ID:
    /// whose records a viewer's reports may reach back to (communes merged
    /// since, say). The tree changes only where a version starts, so the
    /// union of the scopes at those instants is exact.
    pub fn ever_visible_units(&self, viewer: &UnitId) -> Vec<UnitId> {
        let mut starts: Vec<DateTime<Utc>> = self
            .versions
            .iter()
            .map(|version| version.valid_from)
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut units: Vec<UnitId> = starts
            .into_iter()
            .flat_map(|at| self.visible_units(viewer, at))
            .collect();
        units.sort_unstable();
        units.dedup();
        units
    }

    /// Does `viewer` see `unit` at `at`: is `unit` the viewer itself or one
    /// of its descendants, both in force at `at`?
    pub fn sees(&self, viewer: &UnitId, unit: &UnitId, at: DateTime<Utc>) -> bool {
        let mut current = self.version_at(unit, at);
        while let Some(version) = current {
            if &version.id == viewer {
                return true;
            }
            current = version
                .parent
                .as_ref()
                .and_then(|parent| self.version_at(parent, at));
        }
        false
    }

    /// The unit in force at `at` that stands for `unit`: itself if in force,
    /// else whoever took it over when it last ended (merged into, renamed,
    /// moved, or dissolved with a receiver), followed transitively. `None`
    /// if it was dissolved without a receiver, split up, has not started
    /// yet, or ended with no recorded successor. "As of today" reports pass
    /// today as `at`.
    pub fn successor_at(&self, unit: &UnitId, at: DateTime<Utc>) -> Option<UnitId> {
        let mut current = unit;
        // Each step moves to a unit in force when `current` ended, so the end
        // instants strictly increase and the walk terminates.
        loop {
            if self.version_at(current, at).is_some() {
                return Some(current.clone());
            }
            let ended = self
                .history(current)
                .iter()
                .rev()
                .find_map(|version| version.valid_to.filter(|&to| to <= at))?;
            let hand_over = self
                .hand_overs
                .get(current)?
                .iter()
                .filter_map(|&index| self.successions.get(index))
                .find(|succession| succession.at == ended)?;
            current = hand_over.to.as_ref()?;
        }
    }

    fn children_at(&self, unit: &UnitId, at: DateTime<Utc>) -> impl Iterator<Item = &UnitVersion> {
        self.children
            .get(unit)
            .into_iter()
            .flatten()
            .filter_map(|&index| self.versions.get(index))
            .filter(move |version| version.is_valid_at(at))
    }

    /// Each parent is a known unit, in force over the child's whole
    /// interval, and not at a lower level than the child.
    fn check_parents(&self) -> Result<(), HierarchyError> {
        for child in &self.versions {
            let Some(parent) = &child.parent else {
                continue;
            };
            if !self.history.contains_key(parent) {
                return Err(HierarchyError::UnknownParent {
                    unit: child.id.clone(),
                    parent: parent.clone(),
                });
            }
            // Walk the parent's consecutive versions across the child's interval.
            let mut cursor = child.valid_from;
            loop {
                let Some(covering) = self.version_at(parent, cursor) else {
                    return Err(HierarchyError::ParentNotValid {
                        unit: child.id.clone(),
                        parent: parent.clone(),
                        at: cursor,
                    });
                };
                if covering.level > child.level {
                    return Err(HierarchyError::ParentBelowChild {
                        unit: child.id.clone(),
                        level: child.level,
                        parent: parent.clone(),
                        parent_level: covering.level,
                    });
                }
                match (covering.valid_to, child.valid_to) {
                    (None, _) => break,
                    (Some(parent_end), Some(child_end)) if parent_end >= child_end => break,
                    (Some(parent_end), _) => cursor = parent_end,
                }
            }
        }
        Ok(())
    }

    /// A cycle in force at some instant is in force when the latest-starting
    /// of its versions starts, and contains that version: checking each
    /// version at its own start covers every instant.
    fn check_cycles(&self) -> Result<(), HierarchyError> {
        let units = self.history.len();
        for version in &self.versions {
            let at = version.valid_from;
            let mut ancestor = version.parent.as_ref();
            // More steps than units means a cycle elsewhere, reported from its own start.
            for _ in 0..units {
                let Some(id) = ancestor else {
                    break;
                };
                if id == &version.id {
                    return Err(HierarchyError::Cycle {
                        unit: version.id.clone(),
                        at,
                    });
                }
                ancestor = self.version_at(id, at).and_then(|v| v.parent.as_ref());
            }
        }
        Ok(())
    }

    fn index_successions(
        &mut self,
        mut successions: Vec<Succession>,
    ) -> Result<(), HierarchyError> {
        successions.sort_by_key(|succession| succession.at);
        for (index, succession) in successions.iter().enumerate() {
            self.check_succession(succession)?;
            if succession.hands_over() {
                let hand_overs = self.hand_overs.entry(succession.from.clone()).or_default();
                let ambiguous = hand_overs
                    .iter()
                    .filter_map(|&earlier| successions.get(earlier))
                    .any(|earlier| earlier.at == succession.at);
                if ambiguous {
                    return Err(HierarchyError::AmbiguousSuccession {
                        unit: succession.from.clone(),
                        at: succession.at,
                    });
                }
                hand_overs.push(index);
            }
        }
        self.successions = successions;
        Ok(())
    }

    fn check_succession(&self, succession: &Succession) -> Result<(), HierarchyError> {
        let Succession { from, to, kind, at } = succession;
        let (kind, at) = (*kind, *at);
        for unit in std::iter::once(from).chain(to) {
            if !self.history.contains_key(unit) {
                return Err(HierarchyError::UnknownSuccessionUnit {
                    kind,
                    unit: unit.clone(),
                });
            }
        }
        if to.is_none() && kind != SuccessionKind::Dissolved {
            return Err(HierarchyError::MissingSuccessor {
                kind,
                from: from.clone(),
            });
        }
        let to_itself = to.as_ref() == Some(from);
        if to_itself
            && matches!(
                kind,
                SuccessionKind::MergedInto | SuccessionKind::SplitFrom | SuccessionKind::Dissolved
            )
        {
            return Err(HierarchyError::SelfSuccession {
                kind,
                unit: from.clone(),
            });
        }
        if !self
            .history(from)
            .iter()
            .any(|v| v.is_valid_just_before(at))
        {
            return Err(HierarchyError::SourceNotValid {
                kind,
                from: from.clone(),
                at,
            });
        }
        if succession.hands_over() && self.version_at(from, at).is_some() {
            return Err(HierarchyError::SourceStillValid {
                kind,
                from: from.clone(),
                at,
            });
        }
        if let Some(to) = to.as_ref().filter(|to| self.version_at(to, at).is_none()) {
            return Err(HierarchyError::SuccessorNotValid {
                kind,
                from: from.clone(),
                to: to.clone(),
                at,
            });
        }
        Ok(())
    }
}

/// Each unit's range in `versions` (sorted by id and start), rejecting
/// empty intervals and overlapping versions of one unit.
fn index_histories(
    versions: &[UnitVersion],
) -> Result<HashMap<UnitId, Range<usize>>, HierarchyError> {
    let mut history: HashMap<UnitId, Range<usize>> = HashMap::new();
    let mut previous: Option<&UnitVersion> = None;
    for (index, version) in versions.iter().enumerate() {
        if let Some(valid_to) = version.valid_to.filter(|&to| to <= version.valid_from) {
            return Err(HierarchyError::EmptyInterval {
                unit: version.id.clone(),
                valid_from: version.valid_from,
                valid_to,
            });
        }
        if let Some(earlier) = previous.filter(|earlier| earlier.id == version.id)
            && earlier.valid_to.is_none_or(|to| to > version.valid_from)
        {
            return Err(HierarchyError::Overlap {
                unit: version.id.clone(),
                earlier_from: earlier.valid_from,
                later_from: version.valid_from,
            });
        }
        history
            .entry(version.id.clone())
            .and_modify(|range| range.end = index + 1)
            .or_insert(index..index + 1);
        previous = Some(version);
    }
    Ok(history)
}

//! Writing a hierarchy as the history of reorganisations that made it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    HierarchyError, Succession, SuccessionKind, UnitHierarchy, UnitId, UnitLevel, UnitVersion,
};

/// Builds a [`UnitHierarchy`] from operations in the words of a
/// reorganisation decision: open a unit, rename it, move it, merge it,
/// dissolve it, split a unit off it. Each operation closes the unit's open
/// version and records the succession edge; [`Self::build`] validates the
/// whole through [`UnitHierarchy::new`].
///
/// Changes to one unit at the same instant (moved *and* renamed on
/// 2025-07-01) amend the one version starting then instead of opening
/// another.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnitHierarchyBuilder {
    versions: Vec<UnitVersion>,
    successions: Vec<Succession>,
}

impl UnitHierarchyBuilder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Goes on from an existing hierarchy's versions and successions.
    pub fn from_hierarchy(hierarchy: &UnitHierarchy) -> Self {
        Self {
            versions: hierarchy.versions().to_vec(),
            successions: hierarchy.successions().to_vec(),
        }
    }

    /// Whether any version of `unit` was opened.
    pub fn knows(&self, unit: &UnitId) -> bool {
        self.versions.iter().any(|version| &version.id == unit)
    }

    /// A unit in force from `from` until further notice.
    pub fn open(
        &mut self,
        id: UnitId,
        name: impl Into<String>,
        level: UnitLevel,
        parent: Option<&UnitId>,
        from: DateTime<Utc>,
    ) -> &mut Self {
        self.versions.push(UnitVersion {
            id,
            name: name.into(),
            level,
            parent: parent.cloned(),
            valid_from: from,
            valid_to: None,
        });
        self
    }

    /// `unit` goes on under `name` from `at`.
    pub fn rename(
        &mut self,
        unit: &UnitId,
        name: impl Into<String>,
        at: DateTime<Utc>,
    ) -> Result<&mut Self, HierarchyError> {
        self.version_from(unit, at)?.name = name.into();
        self.record(unit, Some(unit), SuccessionKind::Renamed, at);
        Ok(self)
    }

    /// `unit` goes on under `parent` (a root if `None`) from `at`.
    pub fn move_under(
        &mut self,
        unit: &UnitId,
        parent: Option<&UnitId>,
        at: DateTime<Utc>,
    ) -> Result<&mut Self, HierarchyError> {
        self.version_from(unit, at)?.parent = parent.cloned();
        self.record(unit, Some(unit), SuccessionKind::Moved, at);
        Ok(self)
    }

    /// `unit` ends at `at`, merged into `into`.
    pub fn merge_into(
        &mut self,
        unit: &UnitId,
        into: &UnitId,
        at: DateTime<Utc>,
    ) -> Result<&mut Self, HierarchyError> {
        self.close(unit, at)?;
        self.record(unit, Some(into), SuccessionKind::MergedInto, at);
        Ok(self)
    }

    /// `unit` is abolished at `at`; `receiver`, if any, takes over its open dossiers.
    pub fn dissolve(
        &mut self,
        unit: &UnitId,
        receiver: Option<&UnitId>,
        at: DateTime<Utc>,
    ) -> Result<&mut Self, HierarchyError> {
        self.close(unit, at)?;
        self.record(unit, receiver, SuccessionKind::Dissolved, at);
        Ok(self)
    }

    /// The new unit `new_unit` is split off `source` at `at`; `source` goes on.
    pub fn split_off(
        &mut self,
        source: &UnitId,
        new_unit: UnitId,
        name: impl Into<String>,
        level: UnitLevel,
        parent: Option<&UnitId>,
        at: DateTime<Utc>,
    ) -> &mut Self {
        self.record(source, Some(&new_unit), SuccessionKind::SplitFrom, at);
        self.open(new_unit, name, level, parent, at)
    }

    pub fn build(self) -> Result<UnitHierarchy, HierarchyError> {
        UnitHierarchy::new(self.versions, self.successions)
    }

    fn record(
        &mut self,
        from: &UnitId,
        to: Option<&UnitId>,
        kind: SuccessionKind,
        at: DateTime<Utc>,
    ) {
        self.successions.push(Succession {
            from: from.clone(),
            to: to.cloned(),
            kind,
            at,
        });
    }

    fn open_version(
        &mut self,
        unit: &UnitId,
        at: DateTime<Utc>,
    ) -> Result<&mut UnitVersion, HierarchyError> {
        self.versions
            .iter_mut()
            .rfind(|version| &version.id == unit && version.valid_to.is_none())
            .ok_or_else(|| HierarchyError::NoOpenVersion {
                unit: unit.clone(),
                at,
            })
    }

    fn close(&mut self, unit: &UnitId, at: DateTime<Utc>) -> Result<(), HierarchyError> {
        self.open_version(unit, at)?.valid_to = Some(at);
        Ok(())
    }

    /// The version of `unit` starting at `at`: the open one if it already
    /// starts then, else a copy of it that succeeds it.
    fn version_from(
        &mut self,
        unit: &UnitId,
        at: DateTime<Utc>,
    ) -> Result<&mut UnitVersion, HierarchyError> {
        let open = self.open_version(unit, at)?;
        if open.valid_from != at {
            let mut next = open.clone();
            open.valid_to = Some(at);
            next.valid_from = at;
            self.versions.push(next);
        }
        self.open_version(unit, at)
    }
}

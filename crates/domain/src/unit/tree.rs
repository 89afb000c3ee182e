//! A snapshot of the hierarchy at one instant.

use std::collections::HashMap;
use std::fmt;

use chrono::{DateTime, Utc};

use super::{UnitId, UnitVersion};

/// The units in force at one instant, with parent and children look-ups.
/// Everything is ordered by e-ID.
#[derive(Debug, Clone)]
pub struct UnitTree<'a> {
    at: DateTime<Utc>,
    /// Sorted by id: looked up by binary search.
    units: Vec<&'a UnitVersion>,
    roots: Vec<&'a UnitVersion>,
    children: HashMap<&'a UnitId, Vec<&'a UnitVersion>>,
}

impl<'a> UnitTree<'a> {
    /// `in_force` must be the versions in force at `at`, in id order.
    pub(super) fn new(at: DateTime<Utc>, in_force: impl Iterator<Item = &'a UnitVersion>) -> Self {
        let units: Vec<&UnitVersion> = in_force.collect();
        let mut roots = Vec::new();
        let mut children: HashMap<&UnitId, Vec<&UnitVersion>> = HashMap::new();
        for &version in &units {
            match &version.parent {
                Some(parent) => children.entry(parent).or_default().push(version),
                None => roots.push(version),
            }
        }
        Self {
            at,
            units,
            roots,
            children,
        }
    }

    /// The instant of the snapshot.
    pub fn at(&self) -> DateTime<Utc> {
        self.at
    }

    /// Every unit in force, in id order.
    pub fn units(&self) -> &[&'a UnitVersion] {
        &self.units
    }

    pub fn len(&self) -> usize {
        self.units.len()
    }

    pub fn is_empty(&self) -> bool {
        self.units.is_empty()
    }

    /// The version of `unit` in force, if it is.
    pub fn get(&self, unit: &UnitId) -> Option<&'a UnitVersion> {
        let index = self
            .units
            .binary_search_by(|version| version.id.cmp(unit))
            .ok()?;
        self.units.get(index).copied()
    }

    /// The units without a parent.
    pub fn roots(&self) -> &[&'a UnitVersion] {
        &self.roots
    }

    /// The direct children of `unit`; empty if it has none or is not in force.
    pub fn children(&self, unit: &UnitId) -> &[&'a UnitVersion] {
        self.children
            .get(unit)
            .map(Vec::as_slice)
            .unwrap_or_default()
    }

    /// The parent of `unit`, if `unit` is in force and not a root.
    pub fn parent(&self, unit: &UnitId) -> Option<&'a UnitVersion> {
        self.get(unit)?
            .parent
            .as_ref()
            .and_then(|parent| self.get(parent))
    }

    fn write_subtree(
        &self,
        f: &mut fmt::Formatter<'_>,
        version: &UnitVersion,
        depth: usize,
    ) -> fmt::Result {
        writeln!(
            f,
            "{:indent$}{} {}",
            "",
            version.id,
            version.name,
            indent = 2 * depth
        )?;
        for child in self.children(&version.id) {
            self.write_subtree(f, child, depth + 1)?;
        }
        Ok(())
    }
}

/// An outline, one unit a line (`<e-ID> <name>`), children indented by two
/// spaces under their parent.
impl fmt::Display for UnitTree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for root in &self.roots {
            self.write_subtree(f, root, 0)?;
        }
        Ok(())
    }
}

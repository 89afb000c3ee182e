//! Units (đơn vị): e-IDs, levels and the versioned hierarchy.
//!
//! Each unit is a tenant. Its e-ID ([`UnitId`]) never changes; everything
//! else (name, parent) lives in [`UnitVersion`]s with a validity interval,
//! and reorganisations (merges, splits, dissolutions) are recorded as
//! [`Succession`] edges. [`UnitHierarchy`] answers "who was where at T":
//! the tree as recorded, a unit's visible scope, and which unit stands for a
//! vanished one today.

mod builder;
mod hierarchy;
mod id;
mod tree;

use serde::{Deserialize, Serialize};

pub use builder::UnitHierarchyBuilder;
pub use hierarchy::{HierarchyError, Succession, SuccessionKind, UnitHierarchy, UnitVersion};
pub use id::{UnitId, UnitIdError};
pub use tree::UnitTree;

/// The administrative level of a unit.
///
/// Provincial departments (sở, ban, ngành) are province-level units under the
/// provincial People's Committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitLevel {
    Province,
    District,
    Commune,
}

//! The read models of motcua and the engine that keeps them up to date.
//!
//! Projections tail the event store's global log and fold each batch of
//! events into their tables in one transaction that also moves their
//! checkpoint, so a crash never applies an event twice or skips one.

pub mod dossiers;
mod error;
pub mod fold;
mod projector;
mod read_models;
pub mod reference;
pub mod report;
pub mod units;

pub use error::ProjectionError;
pub use projector::{DOSSIERS, Lag, Projector, ProjectorConfig, Rebuilt};
pub use read_models::{GenerationState, ProjectionStatus, ReadModels, ScopedPool, Visibility};

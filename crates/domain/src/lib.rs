//! The dossier domain of motcua: what a dossier (hồ sơ thủ tục hành chính) is
//! and what may happen to it.
//!
//! This crate is pure: it performs no I/O, reads no clock and opens no file
//! or socket. Every instant it needs arrives in a command; every piece of
//! reference data (units, procedures, calendars) arrives through
//! [`DossierServices`]. See `ARCHITECTURE.md` for the invariants.
//!
//! Where each rule of the domain reference (TTHC.md) lives:
//! - units, e-IDs and the versioned hierarchy: [`unit`];
//! - procedures, cases, processing times, clock policies: [`procedure`];
//! - office hours, holidays, due-date arithmetic: [`calendar`];
//! - roles and who may do what: [`role`];
//! - the lifecycle (status codes, steps, allowed transitions): [`dossier::status`];
//! - the commands and their validation: [`dossier::command`], [`dossier::decide`];
//! - the events: [`dossier::event`];
//! - timeliness: [`dossier::timeliness`];
//! - dossier codes: [`dossier::code`];
//! - the reference data as an aggregate (administrators' changes): [`reference`].

pub mod calendar;
pub mod dossier;
pub mod procedure;
pub mod reference;
pub mod role;
pub mod services;
pub mod unit;

pub use services::DossierServices;

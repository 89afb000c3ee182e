//! The query root: one file per group of fields.

mod audit;
mod dossiers;
mod me;
mod reference;
mod report;
mod worklists;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    me::MeQuery,
    dossiers::DossierQuery,
    report::ReportQuery,
    audit::AuditQuery,
    reference::ReferenceQuery,
    worklists::WorklistQuery,
);

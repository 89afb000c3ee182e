//! The query root: one file per group of fields.

mod audit;
mod dossiers;
mod me;
mod report;

use async_graphql::MergedObject;

#[derive(MergedObject, Default)]
pub struct Query(
    me::MeQuery,
    dossiers::DossierQuery,
    report::ReportQuery,
    audit::AuditQuery,
);

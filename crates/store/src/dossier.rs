//! Finding a dossier's stream by its code (`<unit e-ID>-<yyMMdd>-<NNNN>`),
//! which people quote, from the `DossierAccepted` event that issued it.
//!
//! The code sits in the event's payload at `change.code`. Migration 0005
//! indexes exactly that expression, for `DossierAccepted` events only (a
//! partial expression index on both backends); the queries below repeat the
//! index's expression and condition word for word so that the planner uses it.

use cqrs_es::Aggregate;
use motcua_domain::dossier::Dossier;

use crate::error::StoreError;
use crate::store::EventStore;

const FIND_POSTGRES: &str = "SELECT aggregate_id FROM events \
     WHERE event_type = 'DossierAccepted' AND (payload -> 'change' ->> 'code') = $1 \
       AND aggregate_type = $2 \
     ORDER BY transaction_id, position LIMIT 1";

const FIND_SQLITE: &str = "SELECT aggregate_id FROM events \
     WHERE event_type = 'DossierAccepted' AND json_extract(payload, '$.change.code') = ?1 \
       AND aggregate_type = ?2 \
     ORDER BY position LIMIT 1";

const OPERATION: &str = "look up a dossier by its code";

impl EventStore {
    /// The aggregate id of the dossier (aggregate type `Dossier`) whose
    /// acceptance issued `code`, if any. Codes are issued once
    /// ([`EventStore::next_dossier_code`]); should two acceptances carry the
    /// same code, the first in the log wins.
    pub async fn dossier_stream(&self, code: &str) -> Result<Option<String>, StoreError> {
        match self {
            EventStore::Postgres(store) => {
                sqlx::query_scalar(FIND_POSTGRES)
                    .bind(code)
                    .bind(Dossier::TYPE)
                    .fetch_optional(store.pool())
                    .await
            }
            EventStore::Sqlite(store) => {
                sqlx::query_scalar(FIND_SQLITE)
                    .bind(code)
                    .bind(Dossier::TYPE)
                    .fetch_optional(store.pool())
                    .await
            }
        }
        .map_err(StoreError::database(OPERATION))
    }
}

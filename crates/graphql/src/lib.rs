//! The motcua GraphQL API: the schema, who is asking, what they may see,
//! and the resolvers over the read models. The only crate that knows
//! async-graphql; the server crate hands each request its [`Principal`]
//! (from the bearer token) and executes it here.
//!
//! Tenancy is enforced here first: every query is confined to the units
//! the principal's unit sees in the hierarchy ([`Viewer`]), whatever
//! filter, code, cursor or report parameter the client sends.

mod context;
mod error;
mod graphiql;
mod http;
mod mutation;
mod personal_data;
mod query;
mod scalars;
mod sockets;
mod subscription;
mod telemetry;
mod types;

use async_graphql::Schema;

pub use async_graphql::Request;
pub use context::{ApiContext, Viewer};
pub use error::{ApiError, ErrorCode};
pub use http::{AuthFailure, Authenticator, RequestId};
pub use motcua_domain::role::Principal;
pub use personal_data::PERSONAL_DATA_READ;
pub use sockets::Sockets;
pub use telemetry::Telemetry;

/// The schema's type.
pub type MotcuaSchema = Schema<query::Query, mutation::Mutation, subscription::Subscription>;

/// Limits on what one request may ask: deep or wide queries are refused
/// before they reach the database.
pub const MAX_DEPTH: usize = 16;
pub const MAX_COMPLEXITY: usize = 2_000;

/// Builds the schema over `context`.
pub fn schema(context: ApiContext) -> MotcuaSchema {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .data(context)
    .limit_depth(MAX_DEPTH)
    .limit_complexity(MAX_COMPLEXITY)
    .finish()
}

/// The API's routes: `/graphql` and the GraphiQL page at `/graphiql`.
pub fn routes(
    schema: MotcuaSchema,
    api: ApiContext,
    authenticator: std::sync::Arc<dyn Authenticator>,
    development: bool,
) -> axum::Router {
    http::routes(schema, api, authenticator, development).merge(graphiql::routes())
}

/// The schema in SDL, as committed in `graphql/schema.graphql`.
pub fn sdl() -> String {
    Schema::build(
        query::Query::default(),
        mutation::Mutation::default(),
        subscription::Subscription,
    )
    .finish()
    .sdl()
}

//! GraphQL over HTTP: `POST /graphql` (JSON bodies) and `GET /graphql`
//! (queries only), with the response type negotiated from `Accept`:
//! `application/graphql-response+json` (request errors answered 4xx) or
//! `application/json` (the legacy 200). The bearer token becomes the
//! request's [`Viewer`]; the server supplies the [`Authenticator`].

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use async_graphql::parser::types::OperationType;
use axum::Router;
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Utc;
use serde_json::json;

use crate::MotcuaSchema;
use crate::context::{ApiContext, Viewer};
use crate::error::ErrorCode;
use motcua_domain::role::{Principal, Role};

/// Why a bearer token was not accepted (said to the client as
/// UNAUTHENTICATED, with this text).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct AuthFailure(pub String);

/// Turns a bearer token into the principal it stands for.
pub trait Authenticator: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Principal, AuthFailure>> + Send + 'a>>;
}

/// The id the server gave the request (echoed in INTERNAL errors).
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

#[derive(Clone)]
struct Endpoint {
    schema: MotcuaSchema,
    api: ApiContext,
    authenticator: Arc<dyn Authenticator>,
    /// Development mode: introspection for everyone.
    development: bool,
}

/// How a refused websocket `connection_init` begins its close reason.
const UNAUTHENTICATED_CLOSE: &str = "unauthenticated: ";

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";
const JSON: &str = "application/json";

/// The `/graphql` routes.
pub fn routes(
    schema: MotcuaSchema,
    api: ApiContext,
    authenticator: Arc<dyn Authenticator>,
    development: bool,
) -> Router {
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/ws", get(websocket))
        .with_state(Endpoint {
            schema,
            api,
            authenticator,
            development,
        })
}

async fn post_graphql(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let media = ResponseMedia::negotiate(&headers);
    let Some(media) = media else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    if !content_type.starts_with(JSON) {
        return request_error(
            media,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the request as application/json",
        );
    }
    let request: async_graphql::Request = match serde_json::from_slice(&body) {
        Ok(request) => request,
        Err(error) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                &format!("the body is not a GraphQL request: {error}"),
            );
        }
    };
    execute(&endpoint, &headers, media, request, false).await
}

/// Subscriptions over a websocket (graphql-transport-ws, or the legacy
/// graphql-ws), authenticated by the token in `connection_init`'s payload
/// (`{"Authorization": "Bearer …"}`, as browsers cannot set headers on a
/// websocket); a connection without a valid one is closed (4403).
async fn websocket(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, WebSocket, WebSocketProtocols, WsMessage};
    use futures_util::{SinkExt, StreamExt, future};

    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|protocols| {
            protocols
                .split(',')
                .find_map(|protocol| protocol.trim().parse::<WebSocketProtocols>().ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "ask for the graphql-transport-ws subprotocol",
        )
            .into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| async move {
            let (mut sink, stream) = socket.split();
            let incoming = stream
                .take_while(|message| future::ready(message.is_ok()))
                .filter_map(|message| {
                    future::ready(match message {
                        Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                        Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                        _ => None,
                    })
                });
            let authenticator = Arc::clone(&endpoint.authenticator);
            let api = endpoint.api.clone();
            let mut outgoing = WebSocket::new(endpoint.schema.clone(), incoming, protocol)
                .on_connection_init(move |payload| async move {
                    // Every refusal here is the client's token's fault.
                    let refused = |reason: String| {
                        async_graphql::Error::new(format!("{UNAUTHENTICATED_CLOSE}{reason}"))
                    };
                    let token = payload
                        .get("Authorization")
                        .or_else(|| payload.get("authorization"))
                        .and_then(|value| value.as_str())
                        .and_then(|value| value.strip_prefix("Bearer "))
                        .map(str::trim)
                        .ok_or_else(|| refused("a bearer token is required".to_owned()))?;
                    let principal = authenticator
                        .authenticate(token)
                        .await
                        .map_err(|failure| refused(failure.0))?;
                    let viewer = Viewer::new(principal, &api, Utc::now())
                        .map_err(|error| refused(error.to_string()))?;
                    let mut data = async_graphql::Data::default();
                    data.insert(viewer);
                    Ok(data)
                })
                .map(|message| match message {
                    WsMessage::Text(text) => Message::Text(text.into()),
                    // graphql-transport-ws closes a refused connection_init
                    // with 4403 Forbidden (async-graphql says 1002).
                    WsMessage::Close(code, reason) => {
                        let code = if reason.starts_with(UNAUTHENTICATED_CLOSE) {
                            4403
                        } else {
                            code
                        };
                        Message::Close(Some(CloseFrame {
                            code,
                            reason: reason.into(),
                        }))
                    }
                });
            let _open = endpoint.api.sockets.open();
            loop {
                tokio::select! {
                    message = outgoing.next() => {
                        let Some(message) = message else { break };
                        if sink.send(message).await.is_err() {
                            break;
                        }
                    }
                    () = endpoint.api.sockets.stopping() => {
                        // Going away: the client reconnects elsewhere.
                        let _ = sink
                            .send(Message::Close(Some(CloseFrame {
                                code: 1001,
                                reason: "the server is shutting down".into(),
                            })))
                            .await;
                        break;
                    }
                }
            }
        })
}

async fn get_graphql(
    State(endpoint): State<Endpoint>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match async_graphql::http::parse_query_string(query.as_deref().unwrap_or("")) {
        Ok(request) => request,
        Err(error) => {
            return request_error(
                media,
                StatusCode::BAD_REQUEST,
                &format!("the query string is not a GraphQL request: {error}"),
            );
        }
    };
    execute(&endpoint, &headers, media, request, true).await
}

async fn execute(
    endpoint: &Endpoint,
    headers: &HeaderMap,
    media: ResponseMedia,
    mut request: async_graphql::Request,
    over_get: bool,
) -> Response {
    if over_get && is_mutation(&request) {
        let mut response = request_error(
            media,
            StatusCode::METHOD_NOT_ALLOWED,
            "mutations are sent with POST",
        );
        response
            .headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
        return response;
    }
    let principal = match bearer(headers) {
        None => None,
        Some(token) => match endpoint.authenticator.authenticate(token).await {
            Ok(principal) => Some(principal),
            Err(failure) => return unauthenticated(media, &failure.0),
        },
    };
    let administrator = principal
        .as_ref()
        .is_some_and(|principal| principal.roles.contains(&Role::Administrator));
    if !(endpoint.development || administrator) {
        request = request.disable_introspection();
    }
    if let Some(principal) = principal {
        match Viewer::new(principal, &endpoint.api, Utc::now()) {
            Ok(viewer) => request = request.data(viewer),
            Err(error) => {
                // With its code, as every error: FORBIDDEN for a unit no
                // longer in force.
                let response = async_graphql::Response::from_errors(vec![
                    async_graphql::ErrorExtensions::extend(&error)
                        .into_server_error(Default::default()),
                ]);
                return respond(media, StatusCode::OK, &response);
            }
        }
    }
    let request_id = headers
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    if let Some(request_id) = &request_id {
        request = request.data(RequestId(request_id.clone()));
    }
    let operation_name = request.operation_name.clone();
    let mut response = endpoint.schema.execute(request).await;
    let outcome = response.errors.first().map_or("ok", |error| {
        error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .and_then(|code| match code {
                async_graphql::Value::String(code) => ErrorCode::ALL
                    .into_iter()
                    .map(ErrorCode::as_str)
                    .find(|known| known == code),
                _ => None,
            })
            // Parse and validation errors carry no code of ours.
            .unwrap_or("INVALID_REQUEST")
    });
    endpoint
        .api
        .telemetry
        .operation(operation_name.as_deref(), outcome);
    for error in &mut response.errors {
        let internal = error
            .extensions
            .as_ref()
            .and_then(|extensions| extensions.get("code"))
            .is_some_and(|code| *code == async_graphql::Value::from(ErrorCode::Internal.as_str()));
        if internal && let Some(request_id) = &request_id {
            error
                .extensions
                .get_or_insert_with(Default::default)
                .set("requestId", request_id.clone());
        }
    }
    // Errors before execution (parse, validation, limits) are request
    // errors: no `data` entry, and 400 under the GraphQL response media type.
    let request_error = response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|error| error.path.is_empty());
    if request_error {
        let status = match media {
            ResponseMedia::GraphqlResponse => StatusCode::BAD_REQUEST,
            ResponseMedia::Json => StatusCode::OK,
        };
        let body = serde_json::json!({ "errors": response.errors });
        return (
            status,
            [(header::CONTENT_TYPE, media.content_type())],
            body.to_string(),
        )
            .into_response();
    }
    respond(media, StatusCode::OK, &response)
}

fn is_mutation(request: &async_graphql::Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    document.operations.iter().any(|(name, operation)| {
        let chosen = match (&request.operation_name, name) {
            (Some(wanted), Some(name)) => wanted.as_str() == name.as_str(),
            _ => true,
        };
        chosen && operation.node.ty == OperationType::Mutation
    })
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        // "Bearer " alone (GraphiQL's blank header) is no token at all.
        .filter(|token| !token.is_empty())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ResponseMedia {
    GraphqlResponse,
    Json,
}

impl ResponseMedia {
    /// The response type the client accepts, preferring the GraphQL one;
    /// no `Accept` means the legacy JSON.
    fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
        else {
            return Some(ResponseMedia::Json);
        };
        let types: Vec<&str> = accept
            .split(',')
            .map(|part| part.split(';').next().unwrap_or("").trim())
            .collect();
        if types.contains(&GRAPHQL_RESPONSE) {
            Some(ResponseMedia::GraphqlResponse)
        } else if types
            .iter()
            .any(|media| *media == JSON || *media == "*/*" || *media == "application/*")
        {
            Some(ResponseMedia::Json)
        } else {
            None
        }
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            ResponseMedia::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            ResponseMedia::Json => "application/json; charset=utf-8",
        })
    }
}

fn respond(
    media: ResponseMedia,
    status: StatusCode,
    response: &async_graphql::Response,
) -> Response {
    let body = serde_json::to_vec(response).unwrap_or_else(|_| {
        br#"{"errors":[{"message":"internal error","extensions":{"code":"INTERNAL"}}]}"#.to_vec()
    });
    (status, [(header::CONTENT_TYPE, media.content_type())], body).into_response()
}

fn error_body(message: &str, code: ErrorCode) -> Vec<u8> {
    json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] })
        .to_string()
        .into_bytes()
}

/// A request that could not be read as GraphQL: 4xx under the GraphQL
/// media type, and also under legacy JSON (nothing was executed).
fn request_error(media: ResponseMedia, status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        error_body(message, ErrorCode::BadUserInput),
    )
        .into_response()
}

fn unauthenticated(media: ResponseMedia, message: &str) -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [
            (header::CONTENT_TYPE, media.content_type()),
            (header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer")),
        ],
        error_body(message, ErrorCode::Unauthenticated),
    )
        .into_response()
}

fn not_acceptable() -> Response {
    (
        StatusCode::NOT_ACCEPTABLE,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        error_body(
            "accept application/graphql-response+json or application/json",
            ErrorCode::BadUserInput,
        ),
    )
        .into_response()
}

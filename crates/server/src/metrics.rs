//! `/metrics` in the Prometheus text format: HTTP requests and their
//! latency by route and status, the API's operation and command counters,
//! and each projection's lag behind the log.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use motcua_graphql::Telemetry;
use motcua_projections::{GenerationState, ReadModels};
use motcua_store::EventStore;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0,
];

#[derive(Debug, Default)]
struct Latency {
    /// Requests at or under each bucket's bound.
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// What `/metrics` reports.
pub struct Metrics {
    store: EventStore,
    read_models: ReadModels,
    telemetry: Arc<Telemetry>,
    /// (route, status) → count.
    requests: Mutex<BTreeMap<(String, u16), u64>>,
    latency: Mutex<BTreeMap<String, Latency>>,
}

impl Metrics {
    pub fn new(store: EventStore, read_models: ReadModels, telemetry: Arc<Telemetry>) -> Self {
        Metrics {
            store,
            read_models,
            telemetry,
            requests: Mutex::default(),
            latency: Mutex::default(),
        }
    }

    fn record(&self, route: &str, status: u16, seconds: f64) {
        if let Ok(mut requests) = self.requests.lock() {
            *requests.entry((route.to_owned(), status)).or_default() += 1;
        }
        if let Ok(mut latency) = self.latency.lock() {
            let entry = latency.entry(route.to_owned()).or_default();
            for (bucket, bound) in entry.buckets.iter_mut().zip(BUCKETS) {
                if seconds <= bound {
                    *bucket += 1;
                }
            }
            entry.count += 1;
            entry.sum += seconds;
        }
    }

    async fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "# HELP motcua_http_requests_total HTTP requests by route and status.\n\
             # TYPE motcua_http_requests_total counter"
        );
        if let Ok(requests) = self.requests.lock() {
            for ((route, status), count) in requests.iter() {
                let _ = writeln!(
                    out,
                    "motcua_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP motcua_http_request_duration_seconds HTTP request latency by route.\n\
             # TYPE motcua_http_request_duration_seconds histogram"
        );
        if let Ok(latency) = self.latency.lock() {
            for (route, entry) in latency.iter() {
                for (bucket, bound) in entry.buckets.iter().zip(BUCKETS) {
                    let _ = writeln!(
                        out,
                        "motcua_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {bucket}"
                    );
                }
                let _ = writeln!(
                    out,
                    "motcua_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                     motcua_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                     motcua_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                    entry.count, entry.sum, entry.count
                );
            }
        }
        self.telemetry.render(&mut out);
        let _ = writeln!(
            out,
            "# HELP motcua_projection_lag_events Events between the log's head and each projection's checkpoint (by position).\n\
             # TYPE motcua_projection_lag_events gauge"
        );
        match (self.store.head().await, self.read_models.statuses().await) {
            (Ok(head), Ok(statuses)) => {
                for status in statuses {
                    if status.state == GenerationState::Retired {
                        continue;
                    }
                    let lag = (head.position - status.cursor.position).max(0);
                    let _ = writeln!(
                        out,
                        "motcua_projection_lag_events{{projection=\"{}\",generation=\"{}\"}} {lag}",
                        status.name, status.generation
                    );
                }
            }
            (Err(error), _) => tracing::warn!(%error, "metrics: cannot read the log's head"),
            (_, Err(error)) => tracing::warn!(%error, "metrics: cannot read the projections"),
        }
        out
    }
}

/// Counts every request by its route (the pattern, never the raw path).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics.record(
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

pub fn routes(metrics: Arc<Metrics>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(metrics)
}

async fn render(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
        )],
        metrics.render().await,
    )
        .into_response()
}

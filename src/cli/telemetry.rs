//! Logs and traces of the long-running commands (`serve`, `project`): JSON
//! lines on stderr, filtered by `RUST_LOG` (default `info`), and, when a
//! collector is named, the same spans exported over OTLP/HTTP (protobuf) to
//! an OpenTelemetry collector. A request's span joins the caller's trace
//! when it sends a W3C `traceparent` header.

use anyhow::Context;
use opentelemetry::trace::TracerProvider;
use opentelemetry_otlp::WithExportConfig;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

#[derive(Debug, Clone, clap::Args)]
pub struct TelemetryArgs {
    /// An OpenTelemetry collector's OTLP/HTTP address, e.g.
    /// http://otel-collector:4318: spans are sent to its /v1/traces in
    /// batches. `OTEL_EXPORTER_OTLP_HEADERS`, `OTEL_RESOURCE_ATTRIBUTES` and
    /// `OTEL_TRACES_SAMPLER` apply as the OpenTelemetry specification says.
    #[arg(long, env = "OTEL_EXPORTER_OTLP_ENDPOINT", value_name = "URL")]
    otlp_endpoint: Option<String>,
}

/// The installed logs and, if any, the trace exporter, which must be shut
/// down to send the spans it still holds.
pub struct Telemetry {
    traces: Option<SdkTracerProvider>,
}

/// Installs the logs and the trace export; call once, first thing.
pub fn init(args: &TelemetryArgs) -> anyhow::Result<Telemetry> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt::layer()
        .json()
        .with_writer(std::io::stderr);
    let traces = args
        .otlp_endpoint
        .as_deref()
        .map(tracer_provider)
        .transpose()?;
    let export = traces.as_ref().map(|provider| {
        tracing_opentelemetry::layer().with_tracer(provider.tracer(env!("CARGO_PKG_NAME")))
    });
    // A second initialisation (never in the binary) is harmless.
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(logs)
        .with(export)
        .try_init();
    Ok(Telemetry { traces })
}

/// A tracer provider exporting to the collector at `endpoint`, and the
/// W3C trace-context propagator the server reads `traceparent` with.
fn tracer_provider(endpoint: &str) -> anyhow::Result<SdkTracerProvider> {
    let traces_url = format!("{}/v1/traces", endpoint.trim_end_matches('/'));
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_endpoint(&traces_url)
        .build()
        .with_context(|| format!("setting up the trace export to {traces_url}"))?;
    let resource = opentelemetry_sdk::Resource::builder()
        .with_service_name(env!("CARGO_PKG_NAME"))
        .with_attribute(opentelemetry::KeyValue::new(
            "service.version",
            env!("CARGO_PKG_VERSION"),
        ))
        .build();
    opentelemetry::global::set_text_map_propagator(
        opentelemetry_sdk::propagation::TraceContextPropagator::new(),
    );
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource)
        .build())
}

impl Telemetry {
    /// Sends the spans still held; the exporter's thread blocks, so not on
    /// the runtime's.
    pub async fn shutdown(self) {
        let Some(provider) = self.traces else { return };
        let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
        if let Ok(Err(error)) = flushed {
            tracing::warn!(%error, "the last spans could not be exported");
        }
    }
}

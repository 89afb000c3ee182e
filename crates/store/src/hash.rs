//! The hash chain: each event's hash is SHA-256 over the previous event's
//! hash in the same stream (32 zero bytes for the first) and the event's
//! canonical bytes: stream, sequence, type, version, payload, metadata,
//! unit, actor, client command id and recording time.
//!
//! Canonical bytes are independent of how a database stores JSON: every
//! field is length-prefixed, and JSON is re-encoded with object keys sorted
//! and no insignificant whitespace. The recording time is counted in whole
//! microseconds, the precision both databases keep.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::record::NewEvent;

/// The hash that precedes the first event of a stream.
pub const GENESIS: [u8; 32] = [0; 32];

/// The hash of `event` recorded at `recorded_at`, following `previous`.
pub fn chain(previous: &[u8; 32], event: &NewEvent, recorded_at: DateTime<Utc>) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(event.aggregate_type.as_bytes());
    field(event.aggregate_id.as_bytes());
    field(&event.sequence.to_be_bytes());
    field(event.event_type.as_bytes());
    field(event.event_version.as_bytes());
    field(canonical_json(&event.payload).as_bytes());
    field(canonical_json(&event.metadata).as_bytes());
    field(event.unit_id.as_bytes());
    field(event.actor.as_bytes());
    // Absent and empty differ: a presence byte precedes the command id.
    match &event.command_id {
        Some(command_id) => field(&[&[1u8][..], command_id.as_bytes()].concat()),
        None => field(&[0u8]),
    }
    field(&recorded_at.timestamp_micros().to_be_bytes());
    hasher.finalize().into()
}

/// JSON with object keys sorted at every depth, whatever the map's own order.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_unstable_by_key(|(key, _)| *key);
            out.push('{');
            for (index, (key, value)) in entries.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(value, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

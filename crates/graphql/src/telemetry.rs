//! Counters of what the API did, for the server's `/metrics`: GraphQL
//! operations by name and outcome, and dossier commands by action and
//! outcome. Rendered in the Prometheus text format.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;

/// Shared by every request (in the [`crate::ApiContext`]).
#[derive(Debug, Default)]
pub struct Telemetry {
    /// (operation name, outcome) → count; outcome is `ok` or an error code.
    operations: Mutex<BTreeMap<(String, String), u64>>,
    /// (action, outcome) → count.
    commands: Mutex<BTreeMap<(String, String), u64>>,
}

/// Operation names are the client's: kept short and to a safe alphabet so
/// that a client cannot blow up the label set's size or the format.
fn label(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|character| character.is_ascii_alphanumeric() || *character == '_')
        .take(64)
        .collect();
    if cleaned.is_empty() {
        "anonymous".to_owned()
    } else {
        cleaned
    }
}

impl Telemetry {
    pub fn operation(&self, name: Option<&str>, outcome: &str) {
        let key = (label(name.unwrap_or_default()), outcome.to_owned());
        if let Ok(mut operations) = self.operations.lock() {
            *operations.entry(key).or_default() += 1;
        }
    }

    pub fn command(&self, action: &str, outcome: &str) {
        if let Ok(mut commands) = self.commands.lock() {
            *commands
                .entry((action.to_owned(), outcome.to_owned()))
                .or_default() += 1;
        }
    }

    /// Appends the counters in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP motcua_graphql_operations_total GraphQL operations by name and outcome (ok or the first error's code).\n\
             # TYPE motcua_graphql_operations_total counter"
        );
        if let Ok(operations) = self.operations.lock() {
            for ((name, outcome), count) in operations.iter() {
                let _ = writeln!(
                    out,
                    "motcua_graphql_operations_total{{operation=\"{name}\",outcome=\"{outcome}\"}} {count}"
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP motcua_commands_total Dossier commands by action and outcome (ok or the error code).\n\
             # TYPE motcua_commands_total counter"
        );
        if let Ok(commands) = self.commands.lock() {
            for ((action, outcome), count) in commands.iter() {
                let _ = writeln!(
                    out,
                    "motcua_commands_total{{action=\"{action}\",outcome=\"{outcome}\"}} {count}"
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_render_with_safe_labels() {
        let telemetry = Telemetry::default();
        telemetry.operation(Some("MyQueue"), "ok");
        telemetry.operation(Some("MyQueue"), "ok");
        telemetry.operation(Some("bad\"} 1\nname"), "FORBIDDEN");
        telemetry.operation(None, "ok");
        telemetry.command("accept", "ok");
        let mut out = String::new();
        telemetry.render(&mut out);
        assert!(
            out.contains("motcua_graphql_operations_total{operation=\"MyQueue\",outcome=\"ok\"} 2"),
            "{out}"
        );
        assert!(
            out.contains("operation=\"bad1name\",outcome=\"FORBIDDEN\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("operation=\"anonymous\",outcome=\"ok\"} 1"),
            "{out}"
        );
        assert!(
            out.contains("motcua_commands_total{action=\"accept\",outcome=\"ok\"} 1"),
            "{out}"
        );
    }
}

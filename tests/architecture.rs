//! The architecture's dependency rules, checked against `cargo metadata`.
//!
//! * (a) `motcua-domain` is pure: no normal or build dependency on an I/O
//!   crate, and a normal `tokio` dependency enables no I/O feature.
//!   Dev-dependencies (proptest, insta, tokio for async tests) are fine.
//! * (b) only the store crates may depend on `sqlx`: the `motcua-store*`
//!   packages (the event store and its benchmark) and `motcua-projections`
//!   (the read-model store).
//! * (c) only `motcua-graphql` may depend on `async-graphql*`.
//! * (d) the resolved dependency graph holds at most one major of `sqlx`.
//!
//! Rules (a) to (c) look at the dependencies each workspace member declares;
//! third-party crates may depend on whatever they like. `cargo metadata` is
//! asked about the host platform only, so that it works offline with just the
//! crates a build downloaded (other platforms' crates such as `windows-sys`
//! are never fetched then).

use std::collections::BTreeSet;
use std::process::Command;

use serde_json::{Value, json};

/// Crates that do I/O (databases, HTTP, messaging, the async runtime's
/// reactor). An entry ending in `*` matches every crate with that prefix.
const IO_CRATES: &[&str] = &[
    "sqlx*",
    "axum*",
    "hyper*",
    "reqwest*",
    "async-graphql*",
    "tower*",
    "tokio-postgres",
    "postgres",
    "rusqlite",
    "libsqlite3-sys",
    "redis",
    "lapin",
    "async-nats",
    "tonic",
    "mio",
    // The persistent event stores of the cqrs-es family.
    "postgres-es",
    "mysql-es",
    "dynamo-es",
];

/// `tokio` features that reach the operating system.
const TOKIO_IO_FEATURES: &[&str] = &["fs", "net", "io-util", "process", "signal", "full"];

#[test]
fn the_workspace_follows_the_architecture() {
    let violations = violations(&cargo_metadata());
    assert!(
        violations.is_empty(),
        "architecture violations:\n  {}",
        violations.join("\n  ")
    );
}

/// The rules must be able to fail: feed them a workspace that breaks each
/// one, and one that bends them as far as they allow.
#[test]
fn the_rules_catch_violations() {
    let broken = metadata(
        &[
            member(
                "motcua-domain",
                &[
                    dep("sqlx", None, &[]),
                    dep("mio", Some("build"), &[]),
                    dep("tokio", None, &["rt", "net"]),
                ],
                json!({ "server": ["tokio/fs"] }),
            ),
            member(
                "motcua-api",
                &[dep("sqlx", None, &[]), dep("async-graphql-axum", None, &[])],
                json!({}),
            ),
        ],
        &[("sqlx", "0.7.4"), ("sqlx", "0.8.6")],
    );
    let found = violations(&broken);
    for expected in [
        "motcua-domain: normal dependency on I/O crate `sqlx`",
        "motcua-domain: build dependency on I/O crate `mio`",
        "motcua-domain: tokio feature `net` enabled by its dependency on tokio",
        "motcua-domain: tokio feature `fs` enabled by its feature `server`",
        "motcua-domain: depends on `sqlx`",
        "motcua-api: depends on `sqlx`",
        "motcua-api: depends on `async-graphql-axum`",
        "several majors of sqlx",
    ] {
        assert!(
            found.iter().any(|v| v.contains(expected)),
            "no violation mentions {expected:?}; found:\n  {}",
            found.join("\n  ")
        );
    }
    assert_eq!(
        found.len(),
        8,
        "unexpected violations:\n  {}",
        found.join("\n  ")
    );

    let allowed = metadata(
        &[
            member(
                "motcua-domain",
                &[
                    dep("tokio", None, &["sync", "time"]),
                    dep("tokio", Some("dev"), &["full"]),
                    dep("sqlx", Some("dev"), &[]),
                ],
                json!({}),
            ),
            member(
                "motcua-store-postgres",
                &[dep("sqlx", None, &["postgres"])],
                json!({}),
            ),
            member(
                "motcua-store-sqlite",
                &[dep("sqlx", None, &["sqlite"])],
                json!({}),
            ),
            member("motcua-projections", &[dep("sqlx", None, &[])], json!({})),
            member(
                "motcua-graphql",
                &[dep("async-graphql", None, &[])],
                json!({}),
            ),
        ],
        &[("sqlx", "0.8.1"), ("sqlx", "0.8.6")],
    );
    assert_eq!(violations(&allowed), Vec::<String>::new());
}

/// The crates that store things: the event store and the read models.
fn is_store(package_name: &str) -> bool {
    package_name.starts_with("motcua-store") || package_name == "motcua-projections"
}

/// Every rule's violations, one message per offence.
fn violations(metadata: &Value) -> Vec<String> {
    let members = workspace_members(metadata);
    let mut found = Vec::new();

    // (a) The domain is pure.
    match members.iter().find(|p| name(p) == "motcua-domain") {
        None => found.push("motcua-domain: not a workspace member any more".to_owned()),
        Some(domain) => found.extend(impure_dependencies(domain)),
    }

    for package in &members {
        let package_name = name(package);
        for dependency in dependencies(package) {
            if dependency.kind == "dev" {
                continue;
            }
            // (b) Only the stores talk SQL.
            let is_sqlx = dependency.name == "sqlx" || dependency.name.starts_with("sqlx-");
            if dependency.kind == "normal" && is_sqlx && !is_store(package_name) {
                found.push(format!(
                    "{package_name}: depends on `{}`{}, but only the store crates (motcua-store*, motcua-projections) may use sqlx",
                    dependency.name,
                    dependency.renamed_note()
                ));
            }
            // (c) Only the GraphQL adapter knows GraphQL.
            if dependency.name.starts_with("async-graphql") && package_name != "motcua-graphql" {
                found.push(format!(
                    "{package_name}: depends on `{}`{}, but only motcua-graphql may use async-graphql",
                    dependency.name,
                    dependency.renamed_note()
                ));
            }
        }
    }

    // (d) One sqlx for everyone.
    let sqlx_majors: BTreeSet<String> = packages(metadata)
        .iter()
        .filter(|p| name(p) == "sqlx")
        .map(|p| semver_major(str_field(p, "version")))
        .collect();
    if sqlx_majors.len() > 1 {
        found.push(format!(
            "several majors of sqlx are resolved ({}); the workspace must agree on one",
            sqlx_majors.into_iter().collect::<Vec<_>>().join(", ")
        ));
    }

    found
}

/// What makes `domain` impure: I/O crates among its normal and build
/// dependencies, and I/O features of a normal `tokio` dependency, whether
/// enabled on the dependency or through one of the domain's own features.
fn impure_dependencies(domain: &Value) -> Vec<String> {
    let domain_name = name(domain);
    let mut found = Vec::new();
    let mut tokio_keys = Vec::new();
    for dependency in dependencies(domain) {
        if dependency.kind == "dev" {
            continue;
        }
        if is_io_crate(dependency.name) {
            found.push(format!(
                "{domain_name}: {} dependency on I/O crate `{}`{}",
                dependency.kind,
                dependency.name,
                dependency.renamed_note()
            ));
        }
        if dependency.kind == "normal" && dependency.name == "tokio" {
            tokio_keys.push(dependency.key());
            for feature in &dependency.features {
                if TOKIO_IO_FEATURES.contains(feature) {
                    found.push(format!(
                        "{domain_name}: tokio feature `{feature}` enabled by its dependency on tokio"
                    ));
                }
            }
        }
    }
    // `[features] server = ["tokio/net"]` enables the feature as well.
    let own_features = domain["features"].as_object().into_iter().flatten();
    for (own_feature, enables) in own_features {
        for enabled in enables
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let Some((key, feature)) = enabled.split_once('/') else {
                continue;
            };
            let key = key.trim_end_matches('?');
            if tokio_keys.contains(&key) && TOKIO_IO_FEATURES.contains(&feature) {
                found.push(format!(
                    "{domain_name}: tokio feature `{feature}` enabled by its feature `{own_feature}`"
                ));
            }
        }
    }
    found
}

fn is_io_crate(crate_name: &str) -> bool {
    IO_CRATES
        .iter()
        .any(|pattern| match pattern.strip_suffix('*') {
            Some(prefix) => crate_name.starts_with(prefix),
            None => crate_name == *pattern,
        })
}

/// The part of a version that semver compatibility turns on: `1.2.3` → `1`,
/// `0.8.6` → `0.8`, `0.0.3` → `0.0.3`.
fn semver_major(version: &str) -> String {
    let release = version.split(['-', '+']).next().unwrap_or(version);
    let parts: Vec<&str> = release.split('.').collect();
    match parts.as_slice() {
        [major, ..] if *major != "0" => (*major).to_owned(),
        ["0", minor, ..] if *minor != "0" => format!("0.{minor}"),
        _ => release.to_owned(),
    }
}

/// One dependency as a package declares it.
struct Dependency<'a> {
    /// The package depended on (its real name, even when renamed).
    name: &'a str,
    rename: Option<&'a str>,
    /// `normal`, `build` or `dev`.
    kind: &'a str,
    features: Vec<&'a str>,
}

impl<'a> Dependency<'a> {
    /// The name the depending package's manifest uses for it.
    fn key(&self) -> &'a str {
        self.rename.unwrap_or(self.name)
    }

    fn renamed_note(&self) -> String {
        self.rename
            .map(|rename| format!(" (renamed `{rename}`)"))
            .unwrap_or_default()
    }
}

fn dependencies(package: &Value) -> Vec<Dependency<'_>> {
    package["dependencies"]
        .as_array()
        .expect("a package has a dependencies list")
        .iter()
        .map(|dependency| Dependency {
            name: str_field(dependency, "name"),
            rename: dependency["rename"].as_str(),
            kind: dependency["kind"].as_str().unwrap_or("normal"),
            features: dependency["features"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect(),
        })
        .collect()
}

fn packages(metadata: &Value) -> &[Value] {
    metadata["packages"]
        .as_array()
        .expect("cargo metadata lists packages")
}

fn workspace_members(metadata: &Value) -> Vec<&Value> {
    let ids: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .expect("cargo metadata lists the workspace members")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    packages(metadata)
        .iter()
        .filter(|package| ids.contains(&str_field(package, "id")))
        .collect()
}

fn name(package: &Value) -> &str {
    str_field(package, "name")
}

fn str_field<'a>(value: &'a Value, field: &str) -> &'a str {
    value[field]
        .as_str()
        .unwrap_or_else(|| panic!("`{field}` is not a string in {value}"))
}

/// `cargo metadata` of this workspace, resolved for the host platform.
fn cargo_metadata() -> Value {
    let manifest = concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml");
    let output = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--manifest-path",
            manifest,
        ])
        .args(["--filter-platform", &host_triple()])
        .output()
        .expect("cargo metadata runs");
    assert!(
        output.status.success(),
        "cargo metadata failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON")
}

/// The platform cargo builds for by default, from `cargo -vV`.
fn host_triple() -> String {
    let output = Command::new(env!("CARGO"))
        .arg("-vV")
        .output()
        .expect("cargo -vV runs");
    assert!(output.status.success(), "cargo -vV failed: {output:?}");
    String::from_utf8(output.stdout)
        .expect("cargo -vV prints UTF-8")
        .lines()
        .find_map(|line| line.strip_prefix("host: "))
        .expect("cargo -vV names the host")
        .to_owned()
}

// Builders for the synthetic metadata of `the_rules_catch_violations`.

fn metadata(members: &[Value], resolved: &[(&str, &str)]) -> Value {
    let mut packages = members.to_vec();
    packages.extend(resolved.iter().map(|(name, version)| {
        json!({
            "name": name,
            "version": version,
            "id": format!("registry+https://github.com/rust-lang/crates.io-index#{name}@{version}"),
            "dependencies": [],
            "features": {},
        })
    }));
    json!({
        "packages": packages,
        "workspace_members": members.iter().map(|m| m["id"].clone()).collect::<Vec<_>>(),
    })
}

fn member(name: &str, dependencies: &[Value], features: Value) -> Value {
    json!({
        "name": name,
        "version": "0.1.0",
        "id": format!("path+file:///work/crates/{name}#{name}@0.1.0"),
        "dependencies": dependencies,
        "features": features,
    })
}

fn dep(name: &str, kind: Option<&str>, features: &[&str]) -> Value {
    json!({ "name": name, "kind": kind, "rename": null, "features": features })
}

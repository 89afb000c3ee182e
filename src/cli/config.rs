//! The optional configuration file (`--config FILE` or `MOTCUA_CONFIG`):
//! TOML whose keys are the long flags' names, at the top for global ones
//! (`database-url`) and under `[serve]` for the server's. A file's value
//! stands beneath the environment and the command line: it becomes the
//! flag's default.
//!
//! ```toml
//! database-url = "postgres://motcua_app@db/motcua"
//! [serve]
//! listen = "0.0.0.0:8080"
//! cors-origin = ["https://motcua.example.gov.vn"]
//! jwks-url = "https://sso.example.gov.vn/realms/motcua/protocol/openid-connect/certs"
//! ```

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::Command;

/// The file named on the command line or in the environment, if any.
fn named_file(args: &[String]) -> Option<PathBuf> {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("MOTCUA_CONFIG").map(PathBuf::from)
}

/// `command` with the named file's settings as defaults.
pub fn apply(command: Command, args: &[String]) -> anyhow::Result<Command> {
    let Some(path) = named_file(args) else {
        return Ok(command);
    };
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    apply_text(command, &text, &path)
}

fn apply_text(mut command: Command, text: &str, path: &Path) -> anyhow::Result<Command> {
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("reading the configuration file {}", path.display()))?;
    for (key, value) in table {
        if key == "serve" {
            let toml::Value::Table(serve) = value else {
                bail!("{}: [serve] must be a table", path.display());
            };
            let mut subcommand = command
                .find_subcommand("serve")
                .cloned()
                .context("the serve command")?;
            for (key, value) in serve {
                subcommand = with_default(subcommand, &key, &value, path)?;
            }
            command = command.mut_subcommand("serve", |_| subcommand);
        } else {
            command = with_default(command, &key, &value, path)?;
        }
    }
    Ok(command)
}

/// `command` whose flag `--key` defaults to `value`.
fn with_default(
    command: Command,
    key: &str,
    value: &toml::Value,
    path: &Path,
) -> anyhow::Result<Command> {
    let Some(id) = command
        .get_arguments()
        .find(|arg| arg.get_long() == Some(key) && key != "config")
        .map(|arg| arg.get_id().clone())
    else {
        bail!(
            "{}: unknown setting {key:?} for `{}`",
            path.display(),
            command.get_name()
        );
    };
    let values: Vec<String> = match value {
        toml::Value::String(text) => vec![text.clone()],
        toml::Value::Integer(number) => vec![number.to_string()],
        toml::Value::Boolean(flag) => vec![flag.to_string()],
        toml::Value::Array(items) => items
            .iter()
            .map(|item| match item {
                toml::Value::String(text) => Ok(text.clone()),
                other => bail!("{}: {key}: {other:?} is not text", path.display()),
            })
            .collect::<anyhow::Result<_>>()?,
        other => bail!(
            "{}: {key}: {other:?} is not a setting's value",
            path.display()
        ),
    };
    Ok(command.mut_arg(id, |arg| arg.default_values(values)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, FromArgMatches};

    use crate::cli::{Cli, Command as Subcommand};

    fn parse(file: &str, args: &[&str]) -> anyhow::Result<Cli> {
        let command = apply_text(Cli::command(), file, Path::new("motcua.toml"))?;
        let matches = command.try_get_matches_from(args)?;
        Ok(Cli::from_arg_matches(&matches)?)
    }

    #[test]
    fn a_file_sets_defaults_that_the_command_line_overrides() {
        let file = r#"
            database-url = "sqlite:from-file.db"
            [serve]
            listen = "127.0.0.1:9090"
            cors-origin = ["https://a.example", "https://b.example"]
            body-limit-bytes = 2048
            demo-data = true
        "#;
        // The environment (DATABASE_URL, set by the test runner) would beat
        // the file's database-url: look at the default the file gave.
        let command = apply_text(Cli::command(), file, Path::new("motcua.toml")).expect("applied");
        let database_url = command
            .get_arguments()
            .find(|arg| arg.get_id() == "database_url")
            .map(|arg| arg.get_default_values().to_vec());
        assert_eq!(database_url, Some(vec!["sqlite:from-file.db".into()]));
        let cli = parse(file, &["motcua", "serve"]).expect("parsed");
        let Some(Subcommand::Serve(serve)) = cli.command else {
            panic!("serve");
        };
        let debug = format!("{serve:?}");
        assert!(debug.contains("listen: 127.0.0.1:9090"), "{debug}");
        assert!(
            debug.contains(r#"cors_origins: ["https://a.example", "https://b.example"]"#),
            "{debug}"
        );
        assert!(debug.contains("body_limit_bytes: 2048"), "{debug}");
        assert!(debug.contains("demo_data: true"), "{debug}");

        let cli = parse(
            file,
            &[
                "motcua",
                "--database-url",
                "sqlite:flag.db",
                "serve",
                "--listen",
                "127.0.0.1:7070",
            ],
        )
        .expect("parsed");
        assert_eq!(cli.database_url, "sqlite:flag.db");
        assert!(format!("{:?}", cli.command).contains("listen: 127.0.0.1:7070"));
    }

    #[test]
    fn an_unknown_setting_or_a_bad_value_is_refused() {
        let unknown =
            parse("[serve]\nlisten-port = 80\n", &["motcua", "serve"]).expect_err("unknown");
        assert!(
            unknown
                .to_string()
                .contains("unknown setting \"listen-port\""),
            "{unknown}"
        );
        let bad = parse(
            "[serve]\nbody-limit-bytes = \"lots\"\n",
            &["motcua", "serve"],
        )
        .expect_err("not a number");
        assert!(bad.to_string().contains("lots"), "{bad}");
        assert!(parse("database-url = [1]\n", &["motcua"]).is_err());
        assert!(parse("not toml", &["motcua"]).is_err());
    }

    #[test]
    fn the_file_is_named_by_the_flag_first() {
        let args: Vec<String> = ["motcua", "--config", "a.toml", "serve"]
            .map(String::from)
            .to_vec();
        assert_eq!(named_file(&args), Some(PathBuf::from("a.toml")));
        let args: Vec<String> = ["motcua", "serve", "--config=b.toml"]
            .map(String::from)
            .to_vec();
        assert_eq!(named_file(&args), Some(PathBuf::from("b.toml")));
    }
}

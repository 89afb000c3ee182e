//! End-to-end tests of the `motcua` binary: they run the executable that
//! cargo built and check what a user sees.

use std::process::{Command, Output};

/// Runs the built `motcua` binary with `args` and returns what it did.
fn motcua(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_motcua"))
        .args(args)
        .output()
        .expect("the motcua binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8(output.stdout.clone()).expect("stdout is UTF-8")
}

fn stderr(output: &Output) -> String {
    String::from_utf8(output.stderr.clone()).expect("stderr is UTF-8")
}

#[test]
fn help_describes_the_tool() {
    let output = motcua(&["--help"]);

    assert!(output.status.success(), "--help failed: {output:?}");
    let help = stdout(&output);
    assert!(
        help.contains("event-sourced, multi-tenant backend"),
        "help does not describe the tool:\n{help}"
    );
    assert!(
        help.contains("Usage: motcua"),
        "help has no usage line:\n{help}"
    );
    assert!(help.contains("--version"), "help omits --version:\n{help}");
    assert_eq!(stderr(&output), "", "--help wrote to stderr");
}

#[test]
fn version_prints_the_package_version() {
    let output = motcua(&["--version"]);

    assert!(output.status.success(), "--version failed: {output:?}");
    assert_eq!(
        stdout(&output),
        format!("motcua {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_argument_is_a_usage_error() {
    let output = motcua(&["no-such-command"]);

    // clap's exit code for usage errors.
    assert_eq!(
        output.status.code(),
        Some(2),
        "unknown argument: {output:?}"
    );
    assert!(
        stderr(&output).contains("no-such-command"),
        "the error does not name the argument: {}",
        stderr(&output)
    );
}

/// Every operations command answers `--help` with its usage and what it
/// does (what an operator reads first).
#[test]
fn every_command_explains_itself() {
    let commands: [(&[&str], &str); 12] = [
        (&["migrate"], "Applies the database migrations"),
        (&["serve"], "--no-projector"),
        (&["project"], "--lease-seconds"),
        (
            &["projections", "status"],
            "Usage: motcua projections status",
        ),
        (&["projections", "rebuild"], "NAME"),
        (&["audit", "verify"], "--checkpoint"),
        (
            &["audit", "checkpoint", "create"],
            "Usage: motcua audit checkpoint create",
        ),
        (&["audit", "checkpoint", "export"], "--output"),
        (&["token"], "--role"),
        (&["sdl"], "Usage: motcua sdl"),
        (&["seed"], "--scale <SCALE>"),
        (&["seed"], "province"),
    ];
    for (command, expected) in commands {
        let mut args = command.to_vec();
        args.push("--help");
        let output = motcua(&args);
        assert!(output.status.success(), "{args:?}: {output:?}");
        let help = stdout(&output);
        assert!(
            help.contains(&format!("Usage: motcua {}", command.join(" "))),
            "{args:?}:\n{help}"
        );
        assert!(
            help.contains(expected),
            "{args:?} lacks {expected:?}:\n{help}"
        );
    }
}

/// `motcua sdl` prints the schema the server serves, as committed.
#[test]
fn sdl_prints_the_committed_schema() {
    let output = motcua(&["sdl"]);
    assert!(output.status.success(), "{output:?}");
    let committed = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/graphql/schema.graphql"
    ))
    .expect("graphql/schema.graphql is committed");
    assert_eq!(stdout(&output), committed);
}

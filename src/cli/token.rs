//! `motcua token`: signs a development token for a unit and roles, with the
//! key the development server accepts (a file, made on first use).

use std::path::PathBuf;

use anyhow::Context;
use motcua_domain::role::{Principal, Role};
use motcua_domain::unit::UnitId;
use motcua_server::DevelopmentTokens;

/// Where the development key is kept: shared by `serve` and `token`.
#[derive(Debug, Clone, clap::Args)]
pub struct DevelopmentKey {
    /// The file holding the key that signs development tokens (created,
    /// readable by its owner only, if missing).
    #[arg(long, env = "MOTCUA_DEV_KEY_FILE", default_value = DEFAULT_KEY_FILE)]
    dev_key_file: PathBuf,
}

const DEFAULT_KEY_FILE: &str = "motcua-dev.key";

impl DevelopmentKey {
    pub fn tokens(&self) -> anyhow::Result<DevelopmentTokens> {
        Ok(DevelopmentTokens::load_or_create(&self.dev_key_file)?)
    }

    /// ` --dev-key-file FILE` when it is not the default, for printed commands.
    pub fn flag_if_not_default(&self) -> String {
        if self.dev_key_file.as_path() == std::path::Path::new(DEFAULT_KEY_FILE) {
            String::new()
        } else {
            format!(" --dev-key-file {}", self.dev_key_file.display())
        }
    }
}

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The unit the token acts for (its e-ID, e.g. 000.00.00.H56).
    #[arg(long)]
    unit: UnitId,
    /// A role at that unit; repeat for several.
    #[arg(long = "role", required = true, value_parser = parse_role)]
    roles: Vec<Role>,
    /// Who the token names.
    #[arg(long, default_value = "developer")]
    user: String,
    /// Hours the token is valid.
    #[arg(long, default_value_t = 12)]
    hours: i64,
    #[command(flatten)]
    key: DevelopmentKey,
}

fn parse_role(text: &str) -> Result<Role, String> {
    let name = text.trim().to_lowercase().replace('-', "_");
    serde_json::from_value(serde_json::Value::String(name)).map_err(|_| {
        let names: Vec<String> = Role::ALL
            .iter()
            .filter_map(|role| serde_json::to_value(role).ok())
            .filter_map(|value| value.as_str().map(str::to_owned))
            .collect();
        format!("unknown role {text:?}; one of {}", names.join(", "))
    })
}

pub fn run(args: Args) -> anyhow::Result<()> {
    // Production settings present: tokens come from the identity provider.
    if std::env::var_os("MOTCUA_JWKS_URL").is_some() {
        anyhow::bail!(
            "development tokens are refused where MOTCUA_JWKS_URL is set: get a token from the identity provider"
        );
    }
    if args.hours < 1 {
        anyhow::bail!("--hours must be at least 1");
    }
    let tokens = args.key.tokens()?;
    let principal = Principal {
        user_id: args.user,
        unit: args.unit,
        roles: args.roles,
    };
    let token = tokens
        .sign(&principal, args.hours)
        .context("signing the token")?;
    println!("{token}");
    Ok(())
}

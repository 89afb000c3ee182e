//! Bearer tokens. Development: HS256 tokens signed with a random key kept
//! in a file beside the database (`motcua token` signs them, the server
//! accepts them). Production JWKS verification (RS256/ES256 with issuer and
//! audience) is not built yet.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;

use chrono::Utc;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use motcua_domain::role::{Principal, Role};
use motcua_graphql::{AuthFailure, Authenticator};
use serde::{Deserialize, Serialize};

/// Who development tokens say they come from, and are for.
const ISSUER: &str = "motcua-development";
const AUDIENCE: &str = "motcua";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("cannot read or create the development key {path}: {source}")]
    Key {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the development key {0} is not 64 hexadecimal digits")]
    BadKey(PathBuf),
    #[error("no randomness for a new key: {0}")]
    Random(String),
    #[error("cannot sign the token: {0}")]
    Sign(#[from] jsonwebtoken::errors::Error),
}

/// The claims of a development token.
#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    /// The unit's e-ID.
    unit: String,
    roles: Vec<Role>,
    iss: String,
    aud: String,
    iat: i64,
    exp: i64,
}

/// Signs and checks development tokens with one key.
#[derive(Clone)]
pub struct DevelopmentTokens {
    key: Vec<u8>,
}

impl std::fmt::Debug for DevelopmentTokens {
    // The key is a secret: never printed.
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("DevelopmentTokens { key: <secret> }")
    }
}

impl DevelopmentTokens {
    /// The key in `path`, made (random, readable by its owner only) if the
    /// file does not exist.
    pub fn load_or_create(path: &Path) -> Result<Self, TokenError> {
        let io = |source| TokenError::Key {
            path: path.to_owned(),
            source,
        };
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let key =
                    decode_hex(text.trim()).ok_or_else(|| TokenError::BadKey(path.to_owned()))?;
                Ok(DevelopmentTokens { key })
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).map_err(|error| TokenError::Random(error.to_string()))?;
                let text: String = key.iter().map(|byte| format!("{byte:02x}")).collect();
                write_private(path, &text).map_err(io)?;
                Ok(DevelopmentTokens { key })
            }
            Err(error) => Err(io(error)),
        }
    }

    /// A token for `principal`, valid for `hours`.
    pub fn sign(&self, principal: &Principal, hours: i64) -> Result<String, TokenError> {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: principal.user_id.clone(),
            unit: principal.unit.to_string(),
            roles: principal.roles.clone(),
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            iat: now,
            exp: now + hours * 3600,
        };
        Ok(jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.key),
        )?)
    }

    fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        let claims = jsonwebtoken::decode::<Claims>(
            token,
            &DecodingKey::from_secret(&self.key),
            &validation,
        )
        .map_err(|error| AuthFailure(format!("the token is not valid: {error}")))?
        .claims;
        let unit = claims.unit.parse().map_err(|_| {
            AuthFailure(format!(
                "the token's unit {:?} is not a unit e-ID",
                claims.unit
            ))
        })?;
        Ok(Principal {
            user_id: claims.sub,
            unit,
            roles: claims.roles,
        })
    }
}

impl Authenticator for DevelopmentTokens {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Principal, AuthFailure>> + Send + 'a>> {
        Box::pin(async move { self.verify(token) })
    }
}

fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if text.len() != 64 {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|index| u8::from_str_radix(text.get(index..index + 2)?, 16).ok())
        .collect()
}

#[cfg(unix)]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    std::fs::write(path, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal() -> Principal {
        Principal {
            user_id: "officer-1".to_owned(),
            unit: "000.01.20.H56".parse().expect("a unit e-ID"),
            roles: vec![Role::ReceptionOfficer],
        }
    }

    fn temporary_key() -> PathBuf {
        std::env::temp_dir().join(format!(
            "motcua-test-key-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ))
    }

    #[test]
    fn a_signed_token_verifies_and_another_key_refuses_it() {
        let path = temporary_key();
        let tokens = DevelopmentTokens::load_or_create(&path).expect("a new key");
        let again = DevelopmentTokens::load_or_create(&path).expect("the same key");
        let token = tokens.sign(&principal(), 1).expect("signed");
        assert_eq!(again.verify(&token).expect("verified"), principal());

        let other = DevelopmentTokens { key: vec![7; 32] };
        assert!(other.verify(&token).is_err());
        let expired = tokens.sign(&principal(), -2).expect("signed");
        assert!(tokens.verify(&expired).is_err());
        assert!(tokens.verify("not a token").is_err());
        std::fs::remove_file(&path).expect("removed");
    }

    #[test]
    fn a_key_file_that_is_not_a_key_is_refused() {
        let path = temporary_key();
        std::fs::write(&path, "short").expect("written");
        assert!(matches!(
            DevelopmentTokens::load_or_create(&path),
            Err(TokenError::BadKey(_))
        ));
        std::fs::remove_file(&path).expect("removed");
    }
}

//! Production tokens: RS256 or ES256 JWTs signed by the province's identity
//! provider (Keycloak or another), checked against its published keys
//! (JWKS), its issuer and the API's audience. Keys are cached and fetched
//! again when a token names a key not seen yet (the provider rotated), at
//! most every few seconds.
//!
//! The principal: `sub`; the unit from a `unit` claim; roles from a plain
//! `roles` claim, Keycloak's realm roles (`realm_access.roles`) or its
//! client roles for the audience (`resource_access.<audience>.roles`).
//! Names not among motcua's roles are ignored; a token with none is refused.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use motcua_domain::role::{Principal, Role};
use motcua_graphql::{AuthFailure, Authenticator};
use serde_json::Value;
use tokio::sync::RwLock;

/// The least time between two fetches of the key set.
const REFETCH_AFTER: Duration = Duration::from_secs(10);

/// Where the keys come from and what tokens must say.
#[derive(Debug, Clone)]
pub struct JwksSettings {
    pub jwks_url: String,
    pub issuer: String,
    pub audience: String,
}

struct KeySet {
    keys: HashMap<String, (Algorithm, DecodingKey)>,
    fetched: Option<Instant>,
}

pub struct JwksTokens {
    settings: JwksSettings,
    client: reqwest::Client,
    keys: RwLock<KeySet>,
}

impl std::fmt::Debug for JwksTokens {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JwksTokens")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl JwksTokens {
    pub fn new(settings: JwksSettings) -> Self {
        JwksTokens {
            settings,
            client: reqwest::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap_or_default(),
            keys: RwLock::new(KeySet {
                keys: HashMap::new(),
                fetched: None,
            }),
        }
    }

    /// The key named `kid`, fetching the set again if it is unknown.
    async fn key(&self, kid: &str) -> Result<(Algorithm, DecodingKey), AuthFailure> {
        if let Some(key) = self.keys.read().await.keys.get(kid) {
            return Ok(key.clone());
        }
        let mut set = self.keys.write().await;
        let recently = set
            .fetched
            .is_some_and(|fetched| fetched.elapsed() < REFETCH_AFTER);
        if !set.keys.contains_key(kid) && !recently {
            set.keys = self.fetch().await?;
            set.fetched = Some(Instant::now());
        }
        set.keys.get(kid).cloned().ok_or_else(|| {
            AuthFailure(format!(
                "the token's key {kid:?} is not the identity provider's"
            ))
        })
    }

    async fn fetch(&self) -> Result<HashMap<String, (Algorithm, DecodingKey)>, AuthFailure> {
        let unavailable = |error: reqwest::Error| {
            tracing::error!(%error, url = %self.settings.jwks_url, "cannot fetch the identity provider's keys");
            AuthFailure("the identity provider's keys are not available".to_owned())
        };
        let set: JwkSet = self
            .client
            .get(&self.settings.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(unavailable)?
            .json()
            .await
            .map_err(unavailable)?;
        let mut keys = HashMap::new();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk))
            else {
                continue;
            };
            let algorithm = match &jwk.algorithm {
                jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                _ => continue,
            };
            keys.insert(kid, (algorithm, key));
        }
        tracing::info!(keys = keys.len(), "fetched the identity provider's keys");
        Ok(keys)
    }

    async fn verify(&self, token: &str) -> Result<Principal, AuthFailure> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|error| AuthFailure(format!("the token is not valid: {error}")))?;
        if !matches!(header.alg, Algorithm::RS256 | Algorithm::ES256) {
            return Err(AuthFailure(format!(
                "tokens are signed with RS256 or ES256, not {:?}",
                header.alg
            )));
        }
        let kid = header
            .kid
            .ok_or_else(|| AuthFailure("the token names no key (kid)".to_owned()))?;
        let (algorithm, key) = self.key(&kid).await?;
        if algorithm != header.alg {
            return Err(AuthFailure(
                "the token's algorithm is not its key's".to_owned(),
            ));
        }
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.audience]);
        let claims = jsonwebtoken::decode::<Value>(token, &key, &validation)
            .map_err(|error| AuthFailure(format!("the token is not valid: {error}")))?
            .claims;
        principal(&claims, &self.settings.audience)
    }
}

/// The principal a verified token's claims name.
fn principal(claims: &Value, audience: &str) -> Result<Principal, AuthFailure> {
    let user_id = claims["sub"]
        .as_str()
        .filter(|sub| !sub.is_empty())
        .ok_or_else(|| AuthFailure("the token names no subject".to_owned()))?
        .to_owned();
    let unit_text = claims["unit"]
        .as_str()
        .ok_or_else(|| AuthFailure("the token has no unit claim".to_owned()))?;
    let unit = unit_text
        .parse()
        .map_err(|_| AuthFailure(format!("the token's unit {unit_text:?} is not a unit e-ID")))?;
    let names = [
        &claims["roles"],
        &claims["realm_access"]["roles"],
        &claims["resource_access"][audience]["roles"],
    ];
    let mut roles: Vec<Role> = names
        .iter()
        .filter_map(|list| list.as_array())
        .flatten()
        .filter_map(Value::as_str)
        .filter_map(role)
        .collect();
    roles.sort_unstable();
    roles.dedup();
    if roles.is_empty() {
        return Err(AuthFailure("the token grants no motcua role".to_owned()));
    }
    Ok(Principal {
        user_id,
        unit,
        roles,
    })
}

/// A role by its name: `reception_officer`, `RECEPTION_OFFICER` or
/// `reception-officer`.
fn role(name: &str) -> Option<Role> {
    let name = name.trim().to_lowercase().replace('-', "_");
    serde_json::from_value(Value::String(name)).ok()
}

impl Authenticator for JwksTokens {
    fn authenticate<'a>(
        &'a self,
        token: &'a str,
    ) -> Pin<Box<dyn Future<Output = Result<Principal, AuthFailure>> + Send + 'a>> {
        Box::pin(self.verify(token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header};
    use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    /// An ES256 key: (its PKCS#8 document, its public JWK with `kid`).
    fn key(kid: &str) -> (Vec<u8>, Value) {
        let random = ring::rand::SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &random)
            .expect("a key")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &random)
            .expect("the key reads back");
        // Uncompressed point: 0x04, then x and y.
        let point = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "kid": kid, "use": "sig", "alg": "ES256",
            "x": URL_SAFE_NO_PAD.encode(&point[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&point[33..65]),
        });
        (pkcs8, jwk)
    }

    fn sign(pkcs8: &[u8], kid: &str, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(kid.to_owned());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(pkcs8)).expect("signed")
    }

    fn claims(extra: Value) -> Value {
        let now = chrono::Utc::now().timestamp();
        let mut claims = json!({
            "sub": "nguyen.van.an", "unit": "000.01.20.H56",
            "iss": "https://sso.example.gov.vn/realms/motcua", "aud": "motcua-api",
            "iat": now, "exp": now + 600,
        });
        if let (Some(claims), Some(extra)) = (claims.as_object_mut(), extra.as_object()) {
            claims.extend(extra.clone());
        }
        claims
    }

    /// Serves a key set that the test may change; its URL.
    async fn provider(keys: Arc<Mutex<Vec<Value>>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bound");
        let address = listener.local_addr().expect("an address");
        let app = axum::Router::new().route(
            "/certs",
            axum::routing::get(move || {
                let keys = keys.lock().map(|keys| keys.clone()).unwrap_or_default();
                async move { axum::Json(json!({ "keys": keys })) }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{address}/certs")
    }

    #[tokio::test]
    async fn tokens_are_checked_against_the_providers_keys_issuer_and_audience() {
        let (first, first_jwk) = key("k1");
        let published = Arc::new(Mutex::new(vec![first_jwk]));
        let tokens = JwksTokens::new(JwksSettings {
            jwks_url: provider(Arc::clone(&published)).await,
            issuer: "https://sso.example.gov.vn/realms/motcua".to_owned(),
            audience: "motcua-api".to_owned(),
        });

        // Keycloak-style realm and client roles, in any case.
        let keycloak = claims(json!({
            "realm_access": { "roles": ["offline_access", "RECEPTION_OFFICER"] },
            "resource_access": { "motcua-api": { "roles": ["department-head"] } },
        }));
        let principal = tokens
            .verify(&sign(&first, "k1", &keycloak))
            .await
            .expect("valid");
        assert_eq!(principal.user_id, "nguyen.van.an");
        assert_eq!(principal.unit.as_str(), "000.01.20.H56");
        assert_eq!(
            principal.roles,
            vec![Role::ReceptionOfficer, Role::DepartmentHead]
        );
        // A plain roles claim.
        let plain = claims(json!({ "roles": ["auditor"] }));
        assert_eq!(
            tokens
                .verify(&sign(&first, "k1", &plain))
                .await
                .expect("valid")
                .roles,
            vec![Role::Auditor]
        );

        // Refused: another issuer, another audience, expired, no motcua role, no unit.
        for bad in [
            claims(json!({ "roles": ["auditor"], "iss": "https://elsewhere" })),
            claims(json!({ "roles": ["auditor"], "aud": "another-api" })),
            claims(json!({ "roles": ["auditor"], "exp": 1 })),
            claims(json!({ "roles": ["offline_access"] })),
            claims(json!({ "roles": ["auditor"], "unit": "nowhere" })),
        ] {
            assert!(
                tokens.verify(&sign(&first, "k1", &bad)).await.is_err(),
                "{bad}"
            );
        }
        // An HS256 token made with the public key as a secret is refused.
        let mut header = Header::new(Algorithm::HS256);
        header.kid = Some("k1".to_owned());
        let forged = jsonwebtoken::encode(&header, &plain, &EncodingKey::from_secret(b"k1"))
            .expect("signed");
        assert!(tokens.verify(&forged).await.is_err());

        // The provider rotates its key: an unknown kid fetches the set again.
        let (second, second_jwk) = key("k2");
        if let Ok(mut keys) = published.lock() {
            keys.push(second_jwk);
        }
        // Within the refetch pause of the first fetch the new key is not
        // looked for yet...
        let rotated = sign(&second, "k2", &plain);
        assert!(tokens.verify(&rotated).await.is_err());
        // ...and afterwards it is.
        tokens.keys.write().await.fetched = Some(Instant::now() - REFETCH_AFTER);
        assert!(tokens.verify(&rotated).await.is_ok());
        // A key the provider never published stays unknown.
        let (stranger, _) = key("k3");
        assert!(tokens.verify(&sign(&stranger, "k3", &plain)).await.is_err());
    }
}

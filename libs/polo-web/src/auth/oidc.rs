//! The OpenID provider a deployment signs people in with: its discovery document, its
//! signing keys (fetched once per container, again every hour and when a token names an
//! unknown key),
//! the authorization-code exchange, and ID-token validation.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use time::OffsetDateTime;
use tokio::sync::{Mutex, OnceCell};

/// How a function reaches its OpenID provider (`OIDC_*` variables).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OidcSettings {
    /// `OIDC_ISSUER`: the `iss` of its tokens; discovery is `{issuer}/.well-known/openid-configuration`.
    pub issuer: String,
    /// `OIDC_CLIENT_ID`: the `aud` of its ID tokens.
    pub client_id: String,
    /// `OIDC_CLIENT_SECRET`: only for a confidential client (a public client uses PKCE alone).
    pub client_secret: Option<String>,
    /// `OIDC_LOGOUT_ENDPOINT`: a sign-out URL the discovery document does not name (Cognito's
    /// `https://{domain}/logout`, which takes `client_id` and `logout_uri`).
    pub logout_endpoint: Option<String>,
    /// `PUBLIC_URL`: the dashboard's origin as browsers see it (the callback and the return
    /// from the issuer's logout are made from it, never from the request's `Host`).
    pub public_url: String,
}

/// The parts of the discovery document Polo uses.
#[derive(Clone, Debug, Deserialize)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub jwks_uri: String,
    #[serde(default)]
    pub end_session_endpoint: Option<String>,
}

/// Why a token or a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is not one this deployment accepts (signature, `alg`, `iss`, `aud`, time, nonce).
    #[error("invalid token: {0}")]
    InvalidToken(String),
    /// The provider could not be asked (discovery, keys or token endpoint).
    #[error("the identity provider failed: {0}")]
    Provider(String),
}

/// What a valid ID token says about the person.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    /// `email` when it is a non-empty string, else `sub`.
    pub user: String,
    /// The `email` claim when the token marks it verified (`email_verified: true`).
    pub verified_email: Option<String>,
    /// `cognito:groups`, else `groups` (Entra ID, Okta, Keycloak): the strings of the list.
    pub groups: Vec<String>,
    /// When the token expires.
    pub expires_at: OffsetDateTime,
}

/// The claims Polo reads; anything else in the token is ignored, and claims of an
/// unexpected type are treated as absent rather than failing the whole token.
#[derive(Debug, Deserialize)]
struct Claims {
    #[serde(default)]
    sub: serde_json::Value,
    #[serde(default)]
    email: serde_json::Value,
    #[serde(default)]
    nonce: serde_json::Value,
    #[serde(default)]
    exp: serde_json::Value,
    #[serde(default)]
    nbf: serde_json::Value,
    #[serde(default)]
    email_verified: serde_json::Value,
    #[serde(default, rename = "cognito:groups")]
    cognito_groups: serde_json::Value,
    #[serde(default)]
    groups: serde_json::Value,
    /// Cognito: `id` or `access`.
    #[serde(default)]
    token_use: serde_json::Value,
    /// Keycloak: `ID`, `Bearer`, `Refresh`.
    #[serde(default)]
    typ: serde_json::Value,
}

impl Claims {
    /// Refuses a token that says it is not an ID token: Cognito's `token_use`, Keycloak's
    /// `typ` claim, or an access token's `typ` header (RFC 9068 `at+jwt`). An access token
    /// of the same issuer carries other claims and must not open a session.
    fn check_is_id_token(&self, header_typ: Option<&str>) -> Result<(), AuthError> {
        if let Some(use_) = self.token_use.as_str()
            && use_ != "id"
        {
            return Err(AuthError::InvalidToken(format!("token_use is {use_:?}, not an ID token")));
        }
        if let Some(typ) = self.typ.as_str()
            && !typ.eq_ignore_ascii_case("id")
        {
            return Err(AuthError::InvalidToken(format!("typ is {typ:?}, not an ID token")));
        }
        if let Some(typ) = header_typ
            && (typ.eq_ignore_ascii_case("at+jwt") || typ.eq_ignore_ascii_case("application/at+jwt"))
        {
            return Err(AuthError::InvalidToken("the token is an access token (typ at+jwt)".into()));
        }
        Ok(())
    }

    fn groups(&self) -> Vec<String> {
        let list = if self.cognito_groups.is_array() { &self.cognito_groups } else { &self.groups };
        list.as_array()
            .map(|items| items.iter().filter_map(|g| g.as_str().map(str::to_owned)).collect())
            .unwrap_or_default()
    }
}

/// Clock skew tolerated on `exp` and `nbf`.
pub(crate) const LEEWAY: Duration = Duration::from_mins(1);
/// Keys are fetched again for an unknown `kid` at most this often.
const KEY_REFRESH_MIN_INTERVAL: Duration = Duration::from_secs(30);
/// Keys are fetched again this long after the last fetch, so a key the issuer withdrew stops
/// validating within the hour even when no token names an unknown one.
pub(crate) const KEY_MAX_AGE: Duration = Duration::from_hours(1);
/// The only signature algorithm accepted (what Cognito and most providers sign ID tokens with).
pub(crate) const ALGORITHM: Algorithm = Algorithm::RS256;

struct Keys {
    by_kid: HashMap<String, DecodingKey>,
    fetched: Option<Instant>,
}

/// The provider of one deployment, shared by every request of a container.
pub struct Oidc {
    pub settings: OidcSettings,
    http: reqwest::Client,
    discovery: OnceCell<Discovery>,
    keys: Mutex<Keys>,
}

impl std::fmt::Debug for Oidc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Oidc").field("issuer", &self.settings.issuer).finish_non_exhaustive()
    }
}

/// The token endpoint's answer.
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

impl Oidc {
    /// A provider client; nothing is fetched until the first sign-in or token.
    pub fn new(settings: OidcSettings) -> Result<Oidc, AuthError> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| AuthError::Provider(format!("http client: {e}")))?;
        Ok(Oidc {
            settings,
            http,
            discovery: OnceCell::new(),
            keys: Mutex::new(Keys { by_kid: HashMap::new(), fetched: None }),
        })
    }

    /// Whether browsers reach the dashboard over HTTPS (`PUBLIC_URL`): its cookies are then
    /// `Secure`, and the session cookie `__Host-`.
    pub fn secure_cookies(&self) -> bool {
        !self.settings.public_url.starts_with("http://")
    }

    /// Whether the issuer is a Cognito user pool (`https://cognito-idp.{region}.amazonaws.com/{pool}`),
    /// whose sign-out takes Cognito's own parameters.
    pub fn is_cognito(&self) -> bool {
        url::Url::parse(&self.settings.issuer)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .is_some_and(|h| h.starts_with("cognito-idp.") && h.ends_with(".amazonaws.com"))
    }

    /// The discovery document, fetched once (a failure is tried again on the next request).
    pub async fn discovery(&self) -> Result<&Discovery, AuthError> {
        self.discovery
            .get_or_try_init(|| async {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    self.settings.issuer.trim_end_matches('/')
                );
                let found: Discovery = self.get_json(&url).await?;
                if found.issuer != self.settings.issuer {
                    return Err(AuthError::Provider(format!(
                        "discovery at {url} names issuer {:?}, expected {:?}",
                        found.issuer, self.settings.issuer
                    )));
                }
                Ok(found)
            })
            .await
    }

    async fn get_json<T: serde::de::DeserializeOwned>(&self, url: &str) -> Result<T, AuthError> {
        let answer =
            self.http.get(url).send().await.map_err(|e| AuthError::Provider(format!("{url}: {e}")))?;
        if !answer.status().is_success() {
            return Err(AuthError::Provider(format!("{url}: HTTP {}", answer.status())));
        }
        answer.json().await.map_err(|e| AuthError::Provider(format!("{url}: {e}")))
    }

    async fn refresh_keys(&self, keys: &mut Keys) -> Result<(), AuthError> {
        let jwks_uri = self.discovery().await?.jwks_uri.clone();
        let set: JwkSet = self.get_json(&jwks_uri).await?;
        keys.by_kid.clear();
        for jwk in &set.keys {
            let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) else {
                continue;
            };
            keys.by_kid.insert(kid, key);
        }
        keys.fetched = Some(Instant::now());
        Ok(())
    }

    /// The key named `kid`: from the cache, else after fetching the keys again (at most every
    /// 30 s, so a flood of forged `kid`s cannot hammer the provider). Keys older than an hour
    /// are fetched again first; should that fail, the old ones serve until the next try.
    async fn key(&self, kid: &str) -> Result<DecodingKey, AuthError> {
        let mut keys = self.keys.lock().await;
        if keys.fetched.is_some_and(|at| at.elapsed() >= KEY_MAX_AGE)
            && let Err(e) = self.refresh_keys(&mut keys).await
        {
            tracing::warn!(error = %e, "could not fetch the issuer's keys again; using the ones fetched before");
            // Try again in 30 s, not on every request.
            let retry_in = KEY_MAX_AGE.saturating_sub(KEY_REFRESH_MIN_INTERVAL);
            keys.fetched = Some(Instant::now().checked_sub(retry_in).unwrap_or_else(Instant::now));
        }
        if let Some(key) = keys.by_kid.get(kid) {
            return Ok(key.clone());
        }
        if keys.fetched.is_none_or(|at| at.elapsed() >= KEY_REFRESH_MIN_INTERVAL) {
            self.refresh_keys(&mut keys).await?;
        }
        keys.by_kid
            .get(kid)
            .cloned()
            .ok_or_else(|| AuthError::InvalidToken(format!("no signing key {kid:?} at the issuer")))
    }

    /// Validates an ID token at `now`: RS256 signature by one of the issuer's keys, `iss`,
    /// `aud`, `exp`, `nbf` (60 s leeway), and `nonce` when one is expected.
    pub async fn validate(
        &self,
        token: &str,
        now: OffsetDateTime,
        expected_nonce: Option<&str>,
    ) -> Result<Identity, AuthError> {
        let invalid = |e: &dyn std::fmt::Display| AuthError::InvalidToken(e.to_string());
        let header = jsonwebtoken::decode_header(token).map_err(|e| invalid(&e))?;
        if header.alg != ALGORITHM {
            return Err(AuthError::InvalidToken(format!("algorithm {:?} is not accepted", header.alg)));
        }
        let kid = header.kid.ok_or_else(|| AuthError::InvalidToken("the token names no key (kid)".into()))?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(ALGORITHM);
        validation.set_issuer(&[&self.settings.issuer]);
        validation.set_audience(&[&self.settings.client_id]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        // Time is checked below against the caller's `now`, not the system clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        let claims =
            jsonwebtoken::decode::<Claims>(token, &key, &validation).map_err(|e| invalid(&e))?.claims;
        claims.check_is_id_token(header.typ.as_deref())?;
        let leeway = i64::try_from(LEEWAY.as_secs()).unwrap_or(60);
        let exp = claims.exp.as_i64().ok_or_else(|| AuthError::InvalidToken("exp is not a number".into()))?;
        if exp + leeway < now.unix_timestamp() {
            return Err(AuthError::InvalidToken("the token has expired".into()));
        }
        if let Some(nbf) = claims.nbf.as_i64()
            && nbf - leeway > now.unix_timestamp()
        {
            return Err(AuthError::InvalidToken("the token is not valid yet".into()));
        }
        if let Some(expected) = expected_nonce
            && claims.nonce.as_str() != Some(expected)
        {
            return Err(AuthError::InvalidToken("the nonce does not match this sign-in".into()));
        }
        let text = |v: &serde_json::Value| v.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
        let user = text(&claims.email)
            .or_else(|| text(&claims.sub))
            .ok_or_else(|| AuthError::InvalidToken("the token names no user (email or sub)".into()))?;
        let expires_at = OffsetDateTime::from_unix_timestamp(exp)
            .map_err(|_| AuthError::InvalidToken("exp is out of range".into()))?;
        // Verified only when the issuer says so (some write booleans as strings): an issuer
        // that never says (Entra ID) may let people set their own address.
        let verified =
            claims.email_verified.as_bool() == Some(true) || claims.email_verified.as_str() == Some("true");
        let verified_email = text(&claims.email).filter(|_| verified);
        Ok(Identity { user, verified_email, groups: claims.groups(), expires_at })
    }

    /// Exchanges an authorization code (with its PKCE verifier) for an ID token.
    pub async fn exchange(
        &self,
        code: &str,
        verifier: &str,
        redirect_uri: &str,
    ) -> Result<String, AuthError> {
        let endpoint = self.discovery().await?.token_endpoint.clone();
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect_uri),
            ("client_id", self.settings.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.settings.client_secret {
            form.push(("client_secret", secret.as_str()));
        }
        let answer = self
            .http
            .post(&endpoint)
            .form(&form)
            .send()
            .await
            .map_err(|e| AuthError::Provider(format!("{endpoint}: {e}")))?;
        let status = answer.status();
        let body: TokenAnswer = answer
            .json()
            .await
            .map_err(|e| AuthError::Provider(format!("{endpoint}: HTTP {status}, unreadable answer: {e}")))?;
        match (body.id_token, body.error) {
            (Some(token), None) if status.is_success() => Ok(token),
            (_, error) => Err(AuthError::Provider(format!(
                "{endpoint}: HTTP {status} {} {}",
                error.unwrap_or_default(),
                body.error_description.unwrap_or_default()
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oidc(issuer: &str) -> Oidc {
        Oidc::new(OidcSettings {
            issuer: issuer.to_owned(),
            client_id: "c".into(),
            client_secret: None,
            logout_endpoint: None,
            public_url: "https://polo.example.com".into(),
        })
        .unwrap()
    }

    #[test]
    fn cognito_pools_are_recognised_by_their_issuer() {
        assert!(oidc("https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_AbC").is_cognito());
        assert!(!oidc("https://login.example.com").is_cognito());
        assert!(!oidc("https://cognito-idp.eu-west-1.amazonaws.com.evil.example/x").is_cognito());
    }
}

//! Access tokens are short-lived HS256 JWTs carrying only identity (`sub`, `org`, `sid`):
//! nothing about rights is baked in, so changes apply on the next request. Refresh tokens are
//! opaque: `{org}.{session id}.{256 random bits}`, stored as a SHA-256 hash.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::clock::Random;
use crate::domain::{OrgSlug, SessionId, UserId};

pub const ISSUER: &str = "guardpost";
pub const AUDIENCE: &str = "guardpost-api";
/// Access token lifetime: at most 15 minutes.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;
/// A session lasts this long without a new login, however often it is refreshed.
pub const SESSION_TTL_SECS: i64 = 30 * 24 * 3600;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    pub sub: String,
    pub org: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
}

/// The signing key, from the environment on AWS and from the data directory locally.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// Built once: every request checks a token against it.
    validation: Validation,
    /// Tokens whose signature and claims were checked, and their claims ([`VerifiedTokens`]).
    verified: VerifiedTokens,
}

impl std::fmt::Debug for TokenKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKeys(..)")
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is malformed or its signature is wrong")]
    Invalid,
    #[error("the token has expired")]
    Expired,
}

impl TokenKeys {
    /// At least 32 bytes of secret.
    pub fn from_secret(secret: &[u8]) -> anyhow::Result<Self> {
        anyhow::ensure!(secret.len() >= 32, "the JWT signing secret must be at least 32 bytes");
        Ok(Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation: validation(),
            verified: VerifiedTokens::new(MAX_VERIFIED),
        })
    }

    pub fn issue(
        &self,
        org: &OrgSlug,
        user: &UserId,
        session: &SessionId,
        now: DateTime<Utc>,
    ) -> anyhow::Result<String> {
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: AUDIENCE.into(),
            sub: user.to_string(),
            org: org.to_string(),
            sid: session.to_string(),
            iat: now.timestamp(),
            exp: now.timestamp() + ACCESS_TTL_SECS,
        };
        Ok(jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)?)
    }

    /// Checks signature, algorithm (HS256 only), issuer and audience; expiry is checked against
    /// the injected clock rather than the library's wall clock.
    /// A token checked before is not checked again: its signature and claims cannot have
    /// changed, and only its expiry depends on when it is presented.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, TokenError> {
        let claims = match self.verified.get(token) {
            Some(claims) => claims,
            None => {
                let claims = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
                    .map_err(|_| TokenError::Invalid)?
                    .claims;
                if claims.exp > now.timestamp() {
                    self.verified.insert(token, &claims, now.timestamp());
                }
                claims
            }
        };
        if claims.exp <= now.timestamp() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Most tokens remembered as verified: each entry is about 600 bytes (the token and its
/// claims), so at most about 10 MB; a process serving more distinct live tokens than this in
/// 15 minutes verifies some of them again.
const MAX_VERIFIED: usize = 16_384;

/// The access tokens this process has verified, with their claims: checking an HS256
/// signature was a fifth of the instructions of `GET /v1/me` (docs/BENCHMARKS.md), and a
/// client presents the same token for up to 15 minutes. Only tokens that passed every check
/// and had not expired are kept, so neither forged nor stale tokens take room. When full, the
/// expired ones go; if too few have, a quarter of the others (in the map's own, unpredictable
/// order) go too. Whether the session behind a token is still live is not remembered here: it
/// is read on every request.
struct VerifiedTokens {
    tokens: std::sync::RwLock<std::collections::HashMap<Box<str>, AccessClaims>>,
    capacity: usize,
}

impl VerifiedTokens {
    fn new(capacity: usize) -> Self {
        Self { tokens: Default::default(), capacity: capacity.max(4) }
    }

    fn get(&self, token: &str) -> Option<AccessClaims> {
        self.tokens.read().unwrap_or_else(std::sync::PoisonError::into_inner).get(token).cloned()
    }

    fn insert(&self, token: &str, claims: &AccessClaims, now: i64) {
        let mut tokens = self.tokens.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if tokens.len() >= self.capacity {
            tokens.retain(|_, claims| claims.exp > now);
            if tokens.len() >= self.capacity {
                let gone: Vec<Box<str>> = tokens.keys().take(self.capacity / 4).cloned().collect();
                for token in gone {
                    tokens.remove(&token);
                }
            }
        }
        tokens.insert(token.into(), claims.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.tokens.read().unwrap_or_else(std::sync::PoisonError::into_inner).len()
    }
}

/// HS256 only, our issuer and audience, and the claims we read; expiry is checked by
/// [`TokenKeys::verify`] against the injected clock rather than the library's wall clock.
fn validation() -> Validation {
    let mut validation = Validation::new(Algorithm::HS256);
    validation.algorithms = vec![Algorithm::HS256];
    validation.set_issuer(&[ISSUER]);
    validation.set_audience(&[AUDIENCE]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.validate_exp = false;
    validation
}

/// A refresh token as presented by a client.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub org: OrgSlug,
    pub session: SessionId,
    secret: String,
}

impl std::fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RefreshToken({}, {}, ..)", self.org, self.session)
    }
}

impl RefreshToken {
    pub fn generate(org: &OrgSlug, session: &SessionId, random: &dyn Random) -> Self {
        Self { org: org.clone(), session: *session, secret: URL_SAFE_NO_PAD.encode(random.bytes(32)) }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        let mut parts = raw.trim().splitn(3, '.');
        let org = OrgSlug::parse(parts.next()?).ok()?;
        let session = SessionId::parse(parts.next()?).ok()?;
        let secret = parts.next()?;
        if secret.len() != 43 || URL_SAFE_NO_PAD.decode(secret).is_err() {
            return None;
        }
        Some(Self { org, session, secret: secret.to_owned() })
    }

    /// The value handed to the client, once.
    pub fn reveal(&self) -> String {
        format!("{}.{}.{}", self.org, self.session, self.secret)
    }

    /// What is stored.
    pub fn hash(&self) -> String {
        hash_secret(&self.secret)
    }
}

/// SHA-256, hex: for high-entropy secrets (refresh tokens, invitation links), never passwords.
pub fn hash_secret(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::OsRandom;
    use chrono::Duration;

    /// Signing keys made of one repeated byte: two calls with different bytes are different keys.
    fn keys_from(byte: u8) -> TokenKeys {
        TokenKeys::from_secret(&[byte; 32]).unwrap_or_else(|e| panic!("{e}"))
    }

    fn ids() -> (OrgSlug, UserId, SessionId) {
        let now = Utc::now();
        (
            OrgSlug::parse("demo").unwrap_or_else(|e| panic!("{e}")),
            UserId::from_ulid(OsRandom.ulid(now)),
            SessionId::from_ulid(OsRandom.ulid(now)),
        )
    }

    #[test]
    fn access_tokens_verify_until_they_expire() {
        let keys = keys_from(7);
        let (org, user, sid) = ids();
        let now = Utc::now();
        let token = keys.issue(&org, &user, &sid, now).unwrap_or_default();
        let claims = keys.verify(&token, now + Duration::seconds(60)).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((claims.sub, claims.sid, claims.org), (user.to_string(), sid.to_string(), "demo".to_owned()));
        assert_eq!(keys.verify(&token, now + Duration::seconds(ACCESS_TTL_SECS)), Err(TokenError::Expired));
    }

    #[test]
    fn tokens_signed_with_another_key_or_algorithm_are_refused() {
        let keys = keys_from(7);
        let other = keys_from(8);
        let (org, user, sid) = ids();
        let now = Utc::now();
        let token = other.issue(&org, &user, &sid, now).unwrap_or_default();
        assert_eq!(keys.verify(&token, now), Err(TokenError::Invalid));
        // alg "none" with the same claims
        let mut parts =
            keys.issue(&org, &user, &sid, now).unwrap_or_default().split('.').map(str::to_owned).collect::<Vec<_>>();
        parts[0] = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert_eq!(keys.verify(&format!("{}.{}.", parts[0], parts[1]), now), Err(TokenError::Invalid));
    }

    #[test]
    fn a_remembered_token_still_expires_and_forged_tokens_are_not_remembered() {
        let keys = keys_from(7);
        let other = keys_from(8);
        let (org, user, sid) = ids();
        let now = Utc::now();
        let token = keys.issue(&org, &user, &sid, now).unwrap_or_default();
        assert!(keys.verify(&token, now).is_ok());
        assert_eq!(keys.verified.len(), 1);
        assert!(keys.verify(&token, now + Duration::seconds(60)).is_ok());
        assert_eq!(keys.verify(&token, now + Duration::seconds(ACCESS_TTL_SECS)), Err(TokenError::Expired));
        for _ in 0..3 {
            let forged = other.issue(&org, &user, &sid, now).unwrap_or_default();
            assert_eq!(keys.verify(&forged, now), Err(TokenError::Invalid));
        }
        assert_eq!(keys.verified.len(), 1);
        // A token differing from a remembered one in its signature only is checked, not remembered.
        let at = token.len() - 10;
        let swapped = if &token[at..=at] == "A" { "B" } else { "A" };
        let tampered = format!("{}{swapped}{}", &token[..at], &token[at + 1..]);
        assert_eq!(keys.verify(&tampered, now), Err(TokenError::Invalid));
    }

    #[test]
    fn a_full_memory_of_tokens_forgets_the_expired_ones_first_and_never_keeps_an_expired_one() {
        let mut keys = keys_from(7);
        keys.verified = VerifiedTokens::new(8);
        let (org, user, sid) = ids();
        let then = Utc::now();
        let old = keys.issue(&org, &user, &sid, then).unwrap_or_default();
        assert!(keys.verify(&old, then).is_ok());
        let now = then + Duration::seconds(ACCESS_TTL_SECS + 1);
        // Presented after it expired, a valid token is refused and not remembered again.
        assert_eq!(keys.verify(&old, now), Err(TokenError::Expired));
        let live: Vec<String> =
            (0..7).map(|i| keys.issue(&org, &user, &sid, now + Duration::seconds(i)).unwrap_or_default()).collect();
        for token in &live {
            assert!(keys.verify(token, now).is_ok());
        }
        assert_eq!(keys.verified.len(), 8, "the expired token and seven live ones");
        let next = keys.issue(&org, &user, &sid, now + Duration::seconds(100)).unwrap_or_default();
        assert!(keys.verify(&next, now).is_ok());
        // Full: the expired one made room; every live one stayed.
        assert_eq!(keys.verified.len(), 8);
        assert!(live.iter().chain([&next]).all(|t| keys.verified.get(t).is_some()));
        assert!(keys.verified.get(&old).is_none());
        // Full of live tokens: a quarter of them go to make room, not all.
        let last = keys.issue(&org, &user, &sid, now + Duration::seconds(200)).unwrap_or_default();
        assert!(keys.verify(&last, now).is_ok());
        assert_eq!(keys.verified.len(), 8 - 2 + 1);
        assert!(keys.verified.get(&last).is_some());
    }

    #[test]
    fn refresh_tokens_round_trip_and_reject_garbage() {
        let (org, _, sid) = ids();
        let token = RefreshToken::generate(&org, &sid, &OsRandom);
        let parsed = RefreshToken::parse(&token.reveal());
        assert_eq!(parsed.as_ref().map(RefreshToken::hash), Some(token.hash()));
        assert!(RefreshToken::parse("demo.nope.secret").is_none());
        assert!(RefreshToken::parse("").is_none());
    }
}

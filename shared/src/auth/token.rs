//! Access tokens: HS256 JWTs with `sub` = userId, `iat` and `exp`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::UserId;

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    ttl: Duration,
}

/// A token that is malformed, wrongly signed, of another algorithm, expired
/// or naming no valid user id. Which of these is not told.
#[derive(Debug, thiserror::Error)]
#[error("invalid or expired token")]
pub struct InvalidToken;

/// Signing failed (a key jsonwebtoken cannot use).
#[derive(Debug, thiserror::Error)]
#[error("the access token could not be signed")]
pub struct SigningFailed(#[source] jsonwebtoken::errors::Error);

impl Tokens {
    pub fn new(secret: &str, ttl: Duration) -> Self {
        // Pinned to HS256: a token naming any other algorithm, `none`
        // included, fails before its signature is looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_required_spec_claims(&["sub", "exp", "iat"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
            ttl,
        }
    }

    pub fn issue(&self, user: UserId) -> Result<String, SigningFailed> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims = Claims { sub: user.to_string(), iat: now, exp: now + self.ttl.as_secs() };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(SigningFailed)
    }

    /// The user a valid token was issued to.
    pub fn verify(&self, token: &str) -> Result<UserId, InvalidToken> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| InvalidToken)?;
        UserId::parse(&data.claims.sub).map_err(|_| InvalidToken)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const USER: &str = "5f9f1c9b9c9c9c9c9c9c9c9c";

    fn tokens() -> Tokens {
        Tokens::new(SECRET, Duration::from_secs(60))
    }

    fn b64(json: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let tokens = tokens();
        let token = tokens.issue(UserId::parse(USER).unwrap()).unwrap();
        assert_eq!(tokens.verify(&token).unwrap().to_string(), USER);
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Tokens::new("another-secret-another-secret-32", Duration::from_secs(60));
        let token = other.issue(UserId::parse(USER).unwrap()).unwrap();
        assert!(tokens().verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let claims = Claims { sub: USER.into(), iat: now - 120, exp: now - 60 };
        let token =
            encode(&Header::new(Algorithm::HS256), &claims, &EncodingKey::from_secret(SECRET.as_bytes())).unwrap();
        assert!(tokens().verify(&token).is_err());
    }

    #[test]
    fn an_alg_none_token_is_refused() {
        let header = b64(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = b64(&format!(r#"{{"sub":"{USER}","iat":1,"exp":99999999999}}"#));
        assert!(tokens().verify(&format!("{header}.{payload}.")).is_err());
    }

    #[test]
    fn garbage_is_refused() {
        for token in ["", "abc", "a.b.c", "Bearer x"] {
            assert!(tokens().verify(token).is_err(), "{token:?}");
        }
    }
}

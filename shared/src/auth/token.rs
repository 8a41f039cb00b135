//! Access tokens: HS256 JWTs with `sub` = userId, `iat` and `exp`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use jsonwebtoken::{decode, encode, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::domain::{User, UserId};

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    iat: u64,
    exp: u64,
    /// The user's token version when issued (0 for tokens from before versions).
    #[serde(default)]
    ver: u32,
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

    pub fn issue(&self, user: &User) -> Result<String, SigningFailed> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let claims =
            Claims { sub: user.id.to_string(), iat: now, exp: now + self.ttl.as_secs(), ver: user.token_version };
        encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).map_err(SigningFailed)
    }

    /// The user a valid token was issued to.
    pub fn verify(&self, token: &str) -> Result<UserId, InvalidToken> {
        self.verify_versioned(token).map(|(user, _)| user)
    }

    /// The user a valid token was issued to, and the token version it carries.
    pub fn verify_versioned(&self, token: &str) -> Result<(UserId, u32), InvalidToken> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|_| InvalidToken)?;
        Ok((UserId::parse(&data.claims.sub).map_err(|_| InvalidToken)?, data.claims.ver))
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

    fn user(version: u32) -> User {
        User {
            id: UserId::parse(USER).unwrap(),
            user_name: crate::domain::UserName::parse("Ada").unwrap(),
            email: crate::domain::Email::parse("ada@example.com").unwrap(),
            password_hash: crate::domain::PasswordHash::parse("$argon2id$stub").unwrap(),
            role: crate::domain::Role::User,
            customer_id: None,
            token_version: version,
        }
    }

    fn b64(json: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    #[test]
    fn an_issued_token_verifies_to_its_user() {
        let tokens = tokens();
        let token = tokens.issue(&user(3)).unwrap();
        let (id, version) = tokens.verify_versioned(&token).unwrap();
        assert_eq!((id.to_string(), version), (USER.to_owned(), 3));
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Tokens::new("another-secret-another-secret-32", Duration::from_secs(60));
        let token = other.issue(&user(0)).unwrap();
        assert!(tokens().verify(&token).is_err());
    }

    #[test]
    fn an_expired_token_is_refused() {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        let claims = Claims { sub: USER.into(), iat: now - 120, exp: now - 60, ver: 0 };
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

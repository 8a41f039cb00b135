//! Password hashing: argon2id with OWASP's recommended parameters
//! (m = 19 MiB, t = 2, p = 1).

use argon2::{
    password_hash::{rand_core::OsRng, PasswordHash as Phc, SaltString},
    Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version,
};

use crate::domain::{Password, PasswordHash};

/// Hashing failed: argon2 refused, or its worker thread died.
#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("argon2 could not hash the password: {0}")]
    Argon2(argon2::password_hash::Error),
    #[error("the hashing task did not finish")]
    Task(#[source] tokio::task::JoinError),
}

fn argon2() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("OWASP argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes off the async executor: ~20 ms of CPU per call.
pub async fn hash(password: &Password) -> Result<PasswordHash, HashError> {
    let password = password.clone();
    let phc = tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2().hash_password(password.expose().as_bytes(), &salt).map(|phc| phc.to_string())
    })
    .await
    .map_err(HashError::Task)?
    .map_err(HashError::Argon2)?;
    PasswordHash::parse(&phc).map_err(|_| HashError::Argon2(argon2::password_hash::Error::PhcStringField))
}

/// What an unknown email is verified against: a hash with our parameters
/// over random bytes, no one's password. Compiled in, so the first unknown
/// email in a container costs one argon2 pass like every other, not two.
const DECOY: &str = "$argon2id$v=19$m=19456,t=2,p=1$eWNdrFfZt2a6RpbAGQzgvw$M72ofsvbI+p/YEbiuivm8rwnelnXBYVkmF/kftWzLNw";

/// Checks a password against a stored hash. `None` (no such user) still
/// costs one verification, so response time does not reveal which emails
/// are registered.
pub async fn verify(password: &Password, stored: Option<&PasswordHash>) -> bool {
    let password = password.clone();
    let stored = stored.map(|hash| hash.as_phc().to_owned());
    let known = stored.is_some();
    tokio::task::spawn_blocking(move || {
        let phc = stored.unwrap_or_else(|| DECOY.to_owned());
        let matches =
            Phc::new(&phc).is_ok_and(|parsed| argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok());
        known && matches
    })
    .await
    .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_verifies_its_own_password_only() {
        let password = Password::parse("correct horse battery").unwrap();
        let hash = hash(&password).await.unwrap();
        assert!(verify(&password, Some(&hash)).await);
        assert!(!verify(&Password::parse("wrong horse battery").unwrap(), Some(&hash)).await);
    }

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters() {
        let hash = hash(&Password::parse("correct horse battery").unwrap()).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
    }

    #[tokio::test]
    async fn no_stored_hash_never_verifies() {
        assert!(!verify(&Password::parse("decoy password").unwrap(), None).await);
    }

    #[test]
    fn the_decoy_costs_what_a_real_hash_costs() {
        let decoy = Phc::new(DECOY).expect("a valid PHC string");
        let salt = SaltString::generate(&mut OsRng);
        let real = argon2().hash_password(b"some password", &salt).unwrap();
        assert_eq!((decoy.algorithm, decoy.version), (real.algorithm, real.version));
        assert_eq!(decoy.params, real.params, "the same m, t and p");
        assert_eq!(decoy.hash.map(|h| h.len()), real.hash.map(|h| h.len()));
    }
}

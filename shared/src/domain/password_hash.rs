use std::fmt;

use super::Invalid;

/// A stored password hash in PHC string form (`$argon2id$v=19$...`). Never
/// printed, never sent.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn parse(phc: &str) -> Result<Self, Invalid> {
        if phc.starts_with('$') && phc.len() > 1 {
            Ok(Self(phc.to_owned()))
        } else {
            Err(Invalid("must be a PHC string"))
        }
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for PasswordHash {
    type Error = Invalid;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<PasswordHash> for String {
    fn from(hash: PasswordHash) -> Self {
        hash.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

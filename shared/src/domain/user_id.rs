use std::fmt;

use mongodb::bson::oid::ObjectId;

use super::Invalid;

/// A user's id: a MongoDB ObjectId, shown to clients as 24 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(from = "ObjectId", into = "ObjectId")]
pub struct UserId(ObjectId);

impl UserId {
    /// A fresh id for a new user.
    pub fn generate() -> Self {
        Self(ObjectId::new())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let well_formed = raw.len() == 24 && raw.bytes().all(|b| b.is_ascii_hexdigit());
        match well_formed.then(|| ObjectId::parse_str(raw)) {
            Some(Ok(oid)) => Ok(Self(oid)),
            _ => Err(Invalid("must be a 24-character hexadecimal id")),
        }
    }

    pub fn object_id(&self) -> ObjectId {
        self.0
    }
}

impl From<ObjectId> for UserId {
    fn from(oid: ObjectId) -> Self {
        Self(oid)
    }
}

impl From<UserId> for ObjectId {
    fn from(id: UserId) -> Self {
        id.0
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_hex())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twenty_four_hex_digits_round_trip() {
        let id = UserId::parse("5f9f1c9b9c9c9c9c9c9c9c9c").unwrap();
        assert_eq!(id.to_string(), "5f9f1c9b9c9c9c9c9c9c9c9c");
    }

    #[test]
    fn anything_but_twenty_four_hex_digits_is_rejected() {
        for raw in [
            "",
            "123",
            "5f9f1c9b9c9c9c9c9c9c9c9",
            "5f9f1c9b9c9c9c9c9c9c9c9cc",
            "zf9f1c9b9c9c9c9c9c9c9c9c",
            "../etc/passwd",
        ] {
            assert!(UserId::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}

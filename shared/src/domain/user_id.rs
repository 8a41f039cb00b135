use std::fmt;

use super::{Invalid, RecordId};

/// A user's id, shown to clients as 24 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserId(RecordId);

impl UserId {
    /// A fresh id for a new user.
    pub fn generate() -> Self {
        Self(RecordId::generate())
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        RecordId::parse(raw).map(Self)
    }

    pub fn record(self) -> RecordId {
        self.0
    }
}

impl From<RecordId> for UserId {
    fn from(record: RecordId) -> Self {
        Self(record)
    }
}

impl fmt::Display for UserId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
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

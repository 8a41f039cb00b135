use super::Invalid;

pub const MAX_LEN: usize = 100;

/// A display name: trimmed, non-empty, at most 100 characters, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct UserName(String);

impl UserName {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(Invalid("must not be empty"));
        }
        if name.chars().count() > MAX_LEN {
            return Err(Invalid("must be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(Invalid("must not contain control characters"));
        }
        Ok(Self(name.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_value!(UserName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_is_trimmed() {
        assert_eq!(UserName::parse(" Alan Turing ").unwrap().as_str(), "Alan Turing");
    }

    #[test]
    fn a_hundred_characters_are_accepted_and_more_are_not() {
        assert!(UserName::parse(&"é".repeat(MAX_LEN)).is_ok());
        assert!(UserName::parse(&"é".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn blank_and_control_characters_are_rejected() {
        for (raw, why) in [("", "empty"), ("  ", "blank"), ("Al\u{0}an", "NUL"), ("A\nB", "newline")] {
            assert!(UserName::parse(raw).is_err(), "{why}: {raw:?} was accepted");
        }
    }
}

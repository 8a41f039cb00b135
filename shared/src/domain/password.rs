use std::fmt;

use super::Invalid;

pub const MIN_LEN: usize = 8;
/// Hashing cost grows with input length; the cap keeps one request from
/// buying a lot of CPU.
pub const MAX_LEN: usize = 128;

/// A plain-text password as the client sent it. Never printed, never stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let len = raw.chars().count();
        if len < MIN_LEN {
            return Err(Invalid("must be at least 8 characters"));
        }
        if len > MAX_LEN {
            return Err(Invalid("must be at most 128 characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seven_characters_are_too_short() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
    }

    #[test]
    fn over_128_characters_is_too_long() {
        assert!(Password::parse(&"x".repeat(MAX_LEN)).is_ok());
        assert!(Password::parse(&"x".repeat(MAX_LEN + 1)).is_err());
    }

    #[test]
    fn debug_output_hides_the_password() {
        let shown = format!("{:?}", Password::parse("hunter2hunter2").unwrap());
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}

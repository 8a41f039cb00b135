use super::Invalid;

/// A client-chosen idempotency key in cuid/cuid2 form: a lowercase letter,
/// then lowercase letters and digits, 7–32 characters in all.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Cuid(String);

impl Cuid {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let well_formed = (7..=32).contains(&raw.len())
            && raw.starts_with(|c: char| c.is_ascii_lowercase())
            && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid("must be a cuid: a lowercase letter then lowercase letters or digits, 7-32 characters"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_value!(Cuid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuid_and_cuid2_values_are_accepted() {
        for raw in ["cjld2cjxh0000qzrmn831i7rn", "tz4a98xxat96iws9zmbrgj3a", "abcdefg"] {
            assert!(Cuid::parse(raw).is_ok(), "{raw}");
        }
    }

    #[test]
    fn other_strings_are_rejected() {
        let too_long = format!("c{}", "a".repeat(32));
        for raw in ["", "abcdef", "1bcdefgh", "Cjld2cjxh0000", "cjld2-cjxh0000", "cjld2 cjxh0000", too_long.as_str()] {
            assert!(Cuid::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}

use super::Invalid;

const MAX_LEN: usize = 254;
const MAX_LOCAL_LEN: usize = 64;

/// An email address, trimmed and case-folded so that one mailbox has one
/// spelling (the unique index relies on that).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Invalid("must not be empty"));
        }
        if email.chars().count() > MAX_LEN {
            return Err(Invalid("must be at most 254 characters"));
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(Invalid("must be a valid email address"));
        };
        let well_formed = !local.is_empty()
            && local.len() <= MAX_LOCAL_LEN
            && !domain.contains('@')
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !well_formed {
            return Err(Invalid("must be a valid email address"));
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_value!(Email);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_is_trimmed_and_case_folded() {
        let email = Email::parse("  ATuring@Example.COM ").unwrap();
        assert_eq!(email.as_str(), "aturing@example.com");
    }

    #[test]
    fn invalid_emails_are_rejected() {
        let long_local = format!("{}@example.com", "a".repeat(65));
        let too_long = format!("a@{}.com", "b".repeat(260));
        let cases = [
            ("", "empty"),
            ("   ", "blank"),
            ("aturing.example.com", "missing @"),
            ("@example.com", "missing local part"),
            ("aturing@", "missing domain"),
            ("aturing@localhost", "domain without a dot"),
            ("a@b@example.com", "two @"),
            ("a b@example.com", "inner space"),
            ("a@example..com", "empty domain label"),
            ("a@.example.com", "domain starts with a dot"),
            (long_local.as_str(), "local part over 64"),
            (too_long.as_str(), "over 254 characters"),
        ];
        for (raw, why) in cases {
            assert!(Email::parse(raw).is_err(), "{why}: {raw:?} was accepted");
        }
    }
}

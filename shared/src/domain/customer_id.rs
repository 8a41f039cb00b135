use super::Invalid;

const MAX_LEN: usize = 255;

/// A Stripe customer id, `cus_` followed by letters and digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerId(String);

impl CustomerId {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let well_formed = raw.len() <= MAX_LEN
            && raw
                .strip_prefix("cus_")
                .is_some_and(|rest| !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric()));
        if well_formed {
            Ok(Self(raw.to_owned()))
        } else {
            Err(Invalid("must be a Stripe customer id (cus_...)"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripe_customer_ids_are_accepted() {
        assert_eq!(CustomerId::parse("cus_1234567890").unwrap().as_str(), "cus_1234567890");
    }

    #[test]
    fn other_strings_are_rejected() {
        for raw in ["", "cus_", "1234", "cus_12 34", "pi_123", "cus_$where"] {
            assert!(CustomerId::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}

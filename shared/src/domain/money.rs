use super::Invalid;

/// An ISO 4217 currency code, lower-cased as Stripe writes it (`usd`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let code = raw.trim().to_lowercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_lowercase()) {
            Ok(Self(code))
        } else {
            Err(Invalid("must be a three-letter ISO currency code"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::string_value!(Currency);

/// What the product costs: an amount in the currency's smallest unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price {
    pub amount: i64,
    pub currency: Currency,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currency_codes_are_lower_cased() {
        assert_eq!(Currency::parse("EUR").unwrap().as_str(), "eur");
    }

    #[test]
    fn anything_but_three_letters_is_not_a_currency() {
        for raw in ["", "us", "usdd", "u$d", "12a"] {
            assert!(Currency::parse(raw).is_err(), "{raw:?} was accepted");
        }
    }
}

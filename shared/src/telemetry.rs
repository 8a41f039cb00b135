//! What goes into log lines. The subscriber is the Lambda runtime's own
//! (JSON under Lambda's JSON log format, at `AWS_LAMBDA_LOG_LEVEL`); request
//! bodies, tokens and secrets are never logged.

use std::error::Error;

/// An error and every cause under it, `outer: inner: root`, with any
/// credentials in a connection string taken out.
pub fn chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cause = err.source();
    while let Some(inner) = cause {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        cause = inner.source();
    }
    redacted(&text)
}

/// Driver messages can echo a connection string; strip its credentials.
pub fn redacted(text: &str) -> String {
    match (text.find("://"), text.find('@')) {
        (Some(scheme), Some(at)) if at > scheme => format!("{}://<redacted>{}", &text[..scheme], &text[at..]),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_chain_names_every_cause() {
        let err = Outer(std::io::Error::other("mongodb://user:hunter2@db.example.com refused"));
        assert_eq!(chain(&err), "outer: mongodb://<redacted>@db.example.com refused");
    }
}

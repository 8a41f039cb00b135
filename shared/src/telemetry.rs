//! What goes into log lines. The subscriber is the Lambda runtime's own
//! (JSON under Lambda's JSON log format, at `AWS_LAMBDA_LOG_LEVEL`); request
//! bodies, tokens and secrets are never logged.

use std::{
    error::Error,
    sync::OnceLock,
    time::{SystemTime, UNIX_EPOCH},
};

/// The CloudWatch namespace of the business metrics.
const NAMESPACE: &str = "PaymentsApi";

/// Counts one business event (a payment created, a login throttled, ...):
/// one line in CloudWatch's embedded metric format, which CloudWatch Logs
/// turns into the metric `PaymentsApi/<name>` by `Stage` (`STAGE`).
pub fn count(metric: &'static str) {
    println!("{}", emf_line(metric, stage(), now_ms()));
}

fn emf_line(metric: &str, stage: &str, timestamp_ms: u128) -> String {
    serde_json::json!({
        "_aws": {
            "Timestamp": timestamp_ms as u64,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Stage"]],
                "Metrics": [{ "Name": metric, "Unit": "Count" }],
            }],
        },
        "Stage": stage,
        metric: 1,
    })
    .to_string()
}

fn stage() -> &'static str {
    static STAGE: OnceLock<String> = OnceLock::new();
    STAGE.get_or_init(|| std::env::var("STAGE").ok().filter(|s| !s.is_empty()).unwrap_or_else(|| "local".into()))
}

fn now_ms() -> u128 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis())
}

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

/// Messages can echo connection strings (the driver's, an endpoint's):
/// every `scheme://user:pass@` loses its credentials, wherever it appears.
/// An email address, with no scheme before it, is left as it is.
pub fn redacted(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(scheme_end) = rest.find("://") {
        let (before, after) = rest.split_at(scheme_end + 3);
        out.push_str(before);
        // The authority ends at `/`, `?`, `#` or whitespace (a password may
        // hold `'`, `(` and `)`); a quote or angle bracket ends a quoted URI.
        let end = after.find(|c: char| "/?#\"<>".contains(c) || c.is_whitespace()).unwrap_or(after.len());
        let authority = &after[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("<redacted>");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn a_count_is_one_embedded_metric_format_line() {
        let line: serde_json::Value =
            serde_json::from_str(&emf_line("LoginsFailed", "prod", 1_700_000_000_000)).unwrap();
        assert_eq!(line["LoginsFailed"], 1);
        assert_eq!(line["Stage"], "prod");
        let metric = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(metric["Namespace"], "PaymentsApi");
        assert_eq!(metric["Metrics"][0]["Name"], "LoginsFailed");
        assert_eq!(metric["Dimensions"][0][0], "Stage");
    }

    #[test]
    fn a_chain_names_every_cause() {
        let err = Outer(std::io::Error::other("mongodb://user:hunter2@db.example.com refused"));
        assert_eq!(chain(&err), "outer: mongodb://<redacted>@db.example.com refused");
    }

    #[test]
    fn every_credential_in_a_message_is_redacted_and_emails_are_kept() {
        let text = "user ops@example.com: mongodb+srv://admin:s3cret@a.example.net,b.example.net/db failed, \
                    then mongodb://u:p@ss@127.0.0.1:27017/?x=1 (see https://docs.example.com/a@b) \
                    and \"mongodb://admin:pa(ss)@h\"";
        let clean = redacted(text);
        assert_eq!(
            clean,
            "user ops@example.com: mongodb+srv://<redacted>@a.example.net,b.example.net/db failed, \
                    then mongodb://<redacted>@127.0.0.1:27017/?x=1 (see https://docs.example.com/a@b) \
                    and \"mongodb://<redacted>@h\""
        );
        for secret in ["s3cret", "admin:", "u:p", "ss@127", "pa(ss)"] {
            assert!(!clean.contains(secret), "{secret} in {clean}");
        }
    }
}

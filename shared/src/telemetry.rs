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
}

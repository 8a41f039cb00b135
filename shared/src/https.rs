//! The HTTPS client for outbound calls that have no client of their own
//! (the deploy's answer to CloudFormation): hyper over rustls on ring,
//! trusting the compiled-in webpki roots, the crates async-stripe's client
//! is built from, so a cold start reads no certificate file and the binary
//! carries one TLS stack.

use bytes::Bytes;
use http_body_util::Full;
use hyper_rustls::HttpsConnector;
use hyper_util::{
    client::legacy::{connect::HttpConnector, Client},
    rt::TokioExecutor,
};

pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client for `https://` (and `http://`, which only the local stand-ins use) URLs.
pub fn client() -> Result<HttpsClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
        .map_err(|err| err.to_string())?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(https))
}

/// `base` without a trailing slash, if it is an absolute http(s) URL.
pub fn origin(base: &str) -> Result<String, String> {
    let base = base.trim_end_matches('/').to_owned();
    let uri: http::Uri = base.parse().map_err(|err| format!("{base}: {err}"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
        return Err(format!("{base} is not an http(s) URL"));
    }
    Ok(base)
}

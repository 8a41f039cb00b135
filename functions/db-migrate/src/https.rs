//! The HTTPS client of the deploy's answer to CloudFormation (a pre-signed
//! S3 URL): hyper over rustls on ring, trusting the compiled-in webpki
//! roots, the crates async-stripe's client is built from, so the binary
//! carries one TLS stack and reads no certificate file. Only this function
//! calls a URL it is handed, so the client lives here, not in `shared`.

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

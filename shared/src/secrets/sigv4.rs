//! AWS Signature Version 4 for the one kind of request we send: a JSON body
//! to a path without a query string. HMAC and SHA-256 are ring's, the
//! primitives rustls already links.
//!
//! The tests hold it to AWS's published vectors and to botocore's signer;
//! the local stack's moto recomputes every signature with botocore and
//! refuses a mismatch, so every test that reads the secret checks it too.

use std::{
    fmt,
    fmt::Write,
    time::{SystemTime, UNIX_EPOCH},
};

use ring::{digest, hmac};

use crate::hex;

pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Present for temporary credentials (a Lambda execution role's).
    pub session_token: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credentials(<redacted>)")
    }
}

/// What is signed: the method, path, host, body and the other headers
/// (lower-case names; `host`, `x-amz-date` and `x-amz-security-token` are
/// added here).
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub host: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// Where the signature is valid: a region and a service's signing name.
pub struct Scope<'a> {
    pub region: &'a str,
    pub service: &'a str,
}

/// The headers that make `request` signed at `now`: `x-amz-date`, the
/// session token when there is one, and `authorization`.
pub fn sign(
    credentials: &Credentials,
    scope: &Scope,
    request: &Request,
    now: SystemTime,
) -> Vec<(&'static str, String)> {
    let amz_date = amz_date(now);
    let date = &amz_date[..8];
    let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
    headers.push(("host", request.host));
    headers.push(("x-amz-date", &amz_date));
    if let Some(token) = &credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.sort_unstable_by_key(|(name, _)| *name);

    let signed_headers = headers.iter().map(|(name, _)| *name).collect::<Vec<_>>().join(";");
    let mut canonical = format!("{}\n{}\n\n", request.method, request.path);
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{}", value.trim());
    }
    let _ = write!(
        canonical,
        "\n{signed_headers}\n{}",
        hex::encode(digest::digest(&digest::SHA256, request.body).as_ref())
    );

    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{credential_scope}\n{}",
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let key = signing_key(&credentials.secret_access_key, date, scope);
    let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let authorization = format!(
        "AWS4-HMAC-SHA256 Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    );

    let mut signed = vec![("x-amz-date", amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        signed.push(("x-amz-security-token", token.clone()));
    }
    signed.push(("authorization", authorization));
    signed
}

fn signing_key(secret: &str, date: &str, scope: &Scope) -> hmac::Key {
    let step = |key: &[u8], data: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes());
    let k_date = step(format!("AWS4{secret}").as_bytes(), date);
    let k_region = step(k_date.as_ref(), scope.region);
    let k_service = step(k_region.as_ref(), scope.service);
    let k_signing = step(k_service.as_ref(), "aws4_request");
    hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref())
}

/// `YYYYMMDDTHHMMSSZ`, in UTC.
fn amz_date(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (year, month, day) = civil_from_days((secs / 86_400) as i64);
    let time = secs % 86_400;
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", time / 3600, time % 3600 / 60, time % 60)
}

/// The proleptic Gregorian date of a count of days since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * shifted_month + 2) / 5 + 1) as u32;
    let month = if shifted_month < 10 { shifted_month + 3 } else { shifted_month - 9 } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    /// AWS's example credentials, from the SigV4 documentation and test suite.
    fn example(session_token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
            session_token: session_token.map(str::to_owned),
        }
    }

    fn at(unix_seconds: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(unix_seconds)
    }

    #[test]
    fn the_documented_signing_key_is_derived() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            &Scope { region: "us-east-1", service: "iam" },
        );
        // The key cannot be read back; what it signs is compared instead.
        let expected = hmac::Key::new(
            hmac::HMAC_SHA256,
            &[
                0xf4, 0x78, 0x0e, 0x2d, 0x9f, 0x65, 0xfa, 0x89, 0x5f, 0x9c, 0x67, 0xb3, 0x2c, 0xe1, 0xba, 0xf0, 0xb0,
                0xd8, 0xa4, 0x35, 0x05, 0xa0, 0x00, 0xa1, 0xa9, 0xe0, 0x90, 0xd4, 0x14, 0xdb, 0x40, 0x4d,
            ],
        );
        assert_eq!(hmac::sign(&key, b"probe").as_ref(), hmac::sign(&expected, b"probe").as_ref());
    }

    #[test]
    fn the_test_suites_get_vanilla_request_is_signed_as_published() {
        let request = Request { method: "GET", path: "/", host: "example.amazonaws.com", headers: &[], body: b"" };
        let signed =
            sign(&example(None), &Scope { region: "us-east-1", service: "service" }, &request, at(1_440_938_160));
        assert_eq!(
            signed,
            [
                ("x-amz-date", "20150830T123600Z".to_owned()),
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
                     SignedHeaders=host;x-amz-date, \
                     Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
                        .to_owned()
                ),
            ]
        );
    }

    #[test]
    fn a_get_secret_value_with_a_session_token_is_signed_as_botocore_signs_it() {
        // The signature botocore's SigV4Auth computes for the same request.
        let request = Request {
            method: "POST",
            path: "/",
            host: "secretsmanager.us-east-1.amazonaws.com",
            headers: &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", "secretsmanager.GetSecretValue"),
            ],
            body: br#"{"SecretId":"payments-api/local"}"#,
        };
        let scope = Scope { region: "us-east-1", service: "secretsmanager" };
        let signed = sign(&example(Some("FQoGZXIvYXdzEXAMPLE")), &scope, &request, at(1_796_126_400));
        assert_eq!(signed[0], ("x-amz-date", "20261201T120000Z".to_owned()));
        assert_eq!(signed[1], ("x-amz-security-token", "FQoGZXIvYXdzEXAMPLE".to_owned()));
        assert_eq!(
            signed[2].1,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261201/us-east-1/secretsmanager/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, \
             Signature=391f0c31ad9bd2a4cb3e80dbdd0ac93b8655f48f6f75abd6ebc275117e2c0eda"
        );
    }

    #[test]
    fn dates_are_utc_across_leap_days_and_year_ends() {
        for (unix_seconds, expected) in [
            (0, "19700101T000000Z"),
            (951_868_799, "20000229T235959Z"),
            (951_868_800, "20000301T000000Z"),
            (1_798_761_599, "20261231T235959Z"),
            (4_107_542_400, "21000301T000000Z"),
        ] {
            assert_eq!(amz_date(at(unix_seconds)), expected, "{unix_seconds}");
        }
    }

    #[test]
    fn credentials_never_show_in_debug_output() {
        let shown = format!("{:?}", example(Some("token")));
        assert!(!shown.contains("EXAMPLEKEY") && !shown.contains("token"), "{shown}");
    }
}

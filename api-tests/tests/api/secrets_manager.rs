//! The Secrets Manager stand-in checks what AWS checks (moto with its own
//! authentication switched on by tools/standins/services.py): a request is answered
//! only when its access key is known and its SigV4 signature matches, so
//! every test that reads the secret also proves the SDK's signing as we
//! configure it.

use api_tests::service_env;
use shared::secrets::{SecretsClient, SecretsError};

fn signed_with(access_key_id: &str, secret_access_key: &str) -> SecretsClient {
    // The stand-in's endpoint, never AWS itself.
    service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    SecretsClient::with_keys(&service_env("AWS_REGION"), access_key_id, secret_access_key).expect("a valid endpoint")
}

/// Whether AWS refused (AWS answers a JSON 400, `InvalidSignatureException`
/// or `UnrecognizedClientException`; moto an XML 403), rather than failing.
async fn refused(client: SecretsClient) -> bool {
    match client.secret_string(&service_env("APP_SECRET_ID")).await {
        Err(SecretsError::Refused(_)) => true,
        other => panic!("expected a refusal, got {:?}", other.map(|text| text.map(|_| "<the secret>"))),
    }
}

#[tokio::test]
async fn the_functions_client_signs_requests_aws_accepts() {
    service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER");
    let client = SecretsClient::from_lambda_env().expect("the AWS environment of `make services`");
    let text = client.secret_string(&service_env("APP_SECRET_ID")).await.unwrap();
    assert!(text.is_some_and(|text| text.contains("mongodbUri")));
}

#[tokio::test]
async fn a_request_signed_with_another_secret_key_is_refused() {
    assert!(refused(signed_with(&service_env("AWS_ACCESS_KEY_ID"), "not-the-secret-access-key")).await);
}

#[tokio::test]
async fn an_unknown_access_key_is_refused() {
    assert!(refused(signed_with("AKIAUNKNOWNKEY000000", "whatever")).await);
}

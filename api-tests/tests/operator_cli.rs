//! `payments-admin`, run the way an operator runs it: with an AWS profile
//! and a shared credentials file, no key variables, the region from the
//! profile; and needing no AWS at all to show its usage.

use std::process::{Command, Output};

use api_tests::{binary, service_env, unique};

/// The CLI with nothing of this process's environment but `PATH` and `env`.
fn admin(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(binary("payments-admin"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs(env.iter().copied())
        .output()
        .expect("running payments-admin")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_needs_no_aws() {
    let output = admin(&["--help"], &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    assert!(text(&output.stdout).starts_with("usage: payments-admin"), "{}", text(&output.stdout));
}

#[test]
fn a_usage_error_needs_no_aws_and_exits_2() {
    for (args, says) in
        [(&["frobnicate"][..], "unknown command"), (&[], "no command"), (&["promote", "nope"], "USER_ID ")]
    {
        let output = admin(args, &[]);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {}", text(&output.stderr));
        assert!(text(&output.stderr).contains(says), "{args:?}: {}", text(&output.stderr));
    }
}

#[test]
fn migrate_runs_with_only_a_profile_and_its_shared_credentials() {
    let home = std::env::temp_dir().join(unique("operator-home-"));
    let aws = home.join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    let (key, secret) = (service_env("AWS_ACCESS_KEY_ID"), service_env("AWS_SECRET_ACCESS_KEY"));
    std::fs::write(
        aws.join("credentials"),
        format!("[operator]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n"),
    )
    .unwrap();
    std::fs::write(aws.join("config"), format!("[profile operator]\nregion = {}\n", service_env("AWS_REGION")))
        .unwrap();
    let database = unique("operator_");
    let output = admin(
        &["migrate"],
        &[
            ("HOME", home.to_str().unwrap()),
            ("AWS_PROFILE", "operator"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL_SECRETS_MANAGER", &service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER")),
            ("APP_SECRET_ID", &service_env("APP_SECRET_ID")),
            ("MONGODB_DATABASE", &database),
        ],
    );
    std::fs::remove_dir_all(&home).ok();
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    assert!(text(&output.stdout).starts_with("indexes are in place"), "{}", text(&output.stdout));
}

#[test]
fn promote_shows_the_account_and_changes_it_only_when_confirmed() {
    let rt = api_tests::runtime();
    let app = rt.block_on(api_tests::TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let env = [
        ("AWS_ACCESS_KEY_ID", service_env("AWS_ACCESS_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", service_env("AWS_SECRET_ACCESS_KEY")),
        ("AWS_REGION", service_env("AWS_REGION")),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER")),
        ("APP_SECRET_ID", service_env("APP_SECRET_ID")),
        ("MONGODB_DATABASE", app.state.settings.database.clone()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let id = shared::domain::UserId::parse(&user.id).unwrap();
    let is_admin = || rt.block_on(app.state.users.get(id)).unwrap().unwrap().is_admin();

    let shown = admin(&["promote", &user.id], &env);
    assert!(shown.status.success(), "{}", text(&shown.stderr));
    assert!(text(&shown.stdout).contains(&user.email), "{}", text(&shown.stdout));
    assert!(text(&shown.stdout).contains("nothing changed"), "{}", text(&shown.stdout));
    assert!(!is_admin());

    let promoted = admin(&["promote", &user.id, "--yes"], &env);
    assert!(promoted.status.success(), "{}", text(&promoted.stderr));
    assert!(is_admin());
}

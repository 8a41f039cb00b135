//! `payments-admin`, run the way an operator runs it: with an AWS profile
//! and a shared credentials file, no key variables, the region from the
//! profile; and needing no AWS at all to show its usage.

use std::process::{Command, Output};

use api_tests::{binary, service_env, stripe, unique, TestApp};
use mongodb::bson::{doc, Document};
use serde_json::json;
use shared::domain::{Cuid, PaymentIntentId, RefundAmount};

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

/// An operator's environment with key variables, on `app`'s database.
fn operator_env(app: &TestApp) -> Vec<(&'static str, String)> {
    vec![
        ("AWS_ACCESS_KEY_ID", service_env("AWS_ACCESS_KEY_ID")),
        ("AWS_SECRET_ACCESS_KEY", service_env("AWS_SECRET_ACCESS_KEY")),
        ("AWS_REGION", service_env("AWS_REGION")),
        ("AWS_EC2_METADATA_DISABLED", "true".into()),
        ("AWS_ENDPOINT_URL_SECRETS_MANAGER", service_env("AWS_ENDPOINT_URL_SECRETS_MANAGER")),
        ("APP_SECRET_ID", service_env("APP_SECRET_ID")),
        ("MONGODB_DATABASE", app.state.settings.database.clone()),
        ("STRIPE_API_BASE", service_env("STRIPE_API_BASE")),
    ]
}

/// `payments-admin reconcile --since 1h` on `app`'s database: its report.
fn reconcile(app: &TestApp) -> String {
    let env = operator_env(app);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let output = admin(&["reconcile", "--since", "1h"], &env);
    assert!(output.status.success(), "stdout: {}\nstderr: {}", text(&output.stdout), text(&output.stderr));
    text(&output.stdout)
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
    for (args, says) in [
        (&["frobnicate"][..], "unknown command"),
        (&[], "no command"),
        (&["promote", "nope"], "USER_ID "),
        (&["reconcile", "--since", "3 days"], "DURATION"),
        (&["reconcile", "--since", "0h"], "DURATION"),
        (&["reconcile", "--since"], "unknown command"),
    ] {
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
    let env = operator_env(&app);
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

fn cuid() -> String {
    unique("c")[..25].to_owned()
}

#[test]
fn reconcile_moves_a_payment_whose_webhooks_were_lost_to_stripes_truth_once() {
    let rt = api_tests::runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let created = rt.block_on(app.create_payment(&user.token, &cuid()));
    let (id, secret) = (created.body["id"].as_str().unwrap(), created.body["clientSecret"].as_str().unwrap());
    // Paid in the browser and partly refunded from the dashboard; none of
    // Stripe's webhooks reached us.
    assert_eq!(stripe::confirm_in_browser(id, secret, "pm_card_visa").0, 200);
    stripe::refund_at_stripe(id, 500);
    let stored = || rt.block_on(app.list_payments(&user.token, &[])).body[0].clone();
    assert_eq!(stored()["status"], "requires_payment_method");

    let report = reconcile(&app);
    assert!(
        report.contains(&format!("{id}: requires_payment_method -> succeeded, amountRefunded 0 -> 500")),
        "{report}"
    );
    assert_eq!((stored()["status"].clone(), stored()["amountRefunded"].clone()), (json!("succeeded"), json!(500)));
    assert_eq!(reconcile(&app).trim(), "0 record(s) changed", "a second run changes nothing");
}

#[test]
fn reconcile_records_a_payment_whose_record_was_lost() {
    let rt = api_tests::runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let created = rt.block_on(app.create_payment(&user.token, &cuid()));
    let id = created.body["id"].as_str().unwrap();
    let records = app.state.db.collection::<Document>("payments");
    rt.block_on(async { records.delete_one(doc! { "intentId": id }).await }).unwrap();

    let report = reconcile(&app);
    assert!(report.contains(&format!("{id}: recorded, requires_payment_method")), "{report}");
    assert_eq!(rt.block_on(app.list_payments(&user.token, &[])).body[0]["id"], json!(id));
}

#[test]
fn reconcile_settles_a_refund_whose_answer_was_lost() {
    let rt = api_tests::runtime();
    let app = rt.block_on(TestApp::spawn());
    let user = rt.block_on(app.signed_up());
    let raw_cuid = cuid();
    let created = rt.block_on(app.create_payment(&user.token, &raw_cuid));
    let id = created.body["id"].as_str().unwrap();
    rt.block_on(app.confirm_payment(&user.token, &raw_cuid, id, "pm_card_visa")).assert_status(201);
    // A refund request killed after Stripe refunded: the reservation and
    // Stripe's refund, not its answer.
    let (intent, refund_cuid) = (PaymentIntentId::parse(id).unwrap(), Cuid::parse(&cuid()).unwrap());
    let amount = RefundAmount::of(700).unwrap();
    assert!(rt.block_on(app.payments.refunds.reserve(&intent, &refund_cuid, amount)).unwrap().is_none());
    let made = rt.block_on(app.payments.stripe.refund(&intent, &refund_cuid, amount)).unwrap();

    let report = reconcile(&app);
    assert!(report.contains(&format!("{} of {id}: succeeded", made.id)), "{report}");
    assert!(report.contains(&format!("{id}: succeeded -> succeeded, amountRefunded 0 -> 700")), "{report}");
    let kept = rt.block_on(app.payments.refunds.by_cuid(&intent, &refund_cuid)).unwrap().unwrap();
    assert_eq!(kept.refund.map(|refund| refund.id), Some(made.id));
}

#[test]
fn reconcile_leaves_the_refunds_of_another_deployments_payments_alone() {
    let rt = api_tests::runtime();
    // Two deployments (say dev and prod) on one Stripe account.
    let (here, there) = (rt.block_on(TestApp::spawn()), rt.block_on(TestApp::spawn()));
    let (user, admin) = (rt.block_on(there.signed_up()), rt.block_on(there.admin()));
    let raw_cuid = cuid();
    let id = rt.block_on(there.create_payment(&user.token, &raw_cuid)).body["id"].as_str().unwrap().to_owned();
    rt.block_on(there.confirm_payment(&user.token, &raw_cuid, &id, "pm_card_visa")).assert_status(201);
    rt.block_on(there.refund_payment(&admin.token, &id, json!({ "cuid": cuid(), "amount": 300 }))).assert_status(201);

    let report = reconcile(&here);
    assert!(!report.contains(&id), "{report}");
    let refunds = here.state.db.collection::<Document>("refunds");
    assert_eq!(rt.block_on(async { refunds.count_documents(doc! {}).await }).unwrap(), 0);
}

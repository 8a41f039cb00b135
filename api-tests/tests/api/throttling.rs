//! Login throttling per account: five failures, then 429 with Retry-After
//! without the password being checked, a back-off that doubles, and
//! concurrent attempts that cannot slip past it.

use std::time::Duration;

use api_tests::TestApp;
use futures_util::future::join_all;

fn retry_after(response: &api_tests::TestResponse) -> u64 {
    response.headers["retry-after"].to_str().unwrap().parse().expect("Retry-After in seconds")
}

#[tokio::test]
async fn the_sixth_attempt_after_five_failures_is_429_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for _ in 0..5 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    let throttled = app.login(&user.email, &user.password).await;
    throttled.assert_status(429);
    assert_eq!(throttled.message(), "Too many failed logins for this account, please retry later.");
    assert!((29..=30).contains(&retry_after(&throttled)), "{:?}", throttled.headers);
}

#[tokio::test]
async fn unknown_emails_are_throttled_the_same_way() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        app.login("nobody@example.com", "some password").await.assert_status(401);
    }
    let throttled = app.login("nobody@example.com", "some password").await;
    throttled.assert_status(429);
    assert!((29..=30).contains(&retry_after(&throttled)));
}

#[tokio::test]
async fn a_success_starts_the_count_over() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for _ in 0..4 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    app.login(&user.email, &user.password).await.assert_status(201);
    for _ in 0..5 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    app.login(&user.email, &user.password).await.assert_status(429);
}

#[tokio::test]
async fn the_back_off_doubles_with_each_further_failure() {
    let app = TestApp::with_login_backoff(Duration::from_secs(1)).await;
    let user = app.signed_up().await;
    for _ in 0..5 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    assert_eq!(retry_after(&app.login(&user.email, &user.password).await), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    app.login(&user.email, "wrong password").await.assert_status(401);
    let throttled = app.login(&user.email, &user.password).await;
    throttled.assert_status(429);
    assert_eq!(retry_after(&throttled), 2, "doubled after the sixth failure");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.login(&user.email, &user.password).await.assert_status(201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn twenty_concurrent_guesses_get_five_password_checks() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let guesses = (0..20).map(|n| {
        let email = user.email.clone();
        tokio::spawn(async move { app.login(&email, &format!("guess number {n}")).await.status })
    });
    let statuses: Vec<u16> = join_all(guesses).await.into_iter().map(|r| r.expect("task ran")).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
    app.login(&user.email, &user.password).await.assert_status(429);
}

#[tokio::test]
async fn an_attempt_whose_outcome_was_lost_stops_blocking_the_owner_after_the_back_off() {
    let app = TestApp::with_login_backoff(Duration::from_secs(2)).await;
    let user = app.signed_up().await;
    for _ in 0..4 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    // The fifth failure's lock is never written: the database goes away
    // mid-attempt. (A standalone server gets no retried writes; the 503
    // below proves the write failed.)
    app.state
        .db
        .run_command(mongodb::bson::doc! { "nxFailNext": "update", "code": 91, "times": 1 })
        .await
        .expect("the MongoDB stand-in's test hook");
    app.login(&user.email, "wrong password").await.assert_status(503);

    let waiting = app.login(&user.email, &user.password).await;
    waiting.assert_status(429);
    assert!(retry_after(&waiting) <= 2, "{:?}", waiting.headers);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    app.login(&user.email, &user.password).await.assert_status(201);
}

#[tokio::test]
async fn failures_from_another_address_cannot_keep_the_owner_out() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for _ in 0..6 {
        app.login_from("198.51.100.7", &user.email, "wrong password").await;
    }
    app.login_from("198.51.100.7", &user.email, &user.password).await.assert_status(429);
    app.login_from("203.0.113.10", &user.email, &user.password).await.assert_status(201);
}

#[tokio::test]
async fn one_address_spraying_many_accounts_is_slowed() {
    let app = TestApp::spawn().await;
    for n in 0..30 {
        let email = format!("sprayed{n}@example.com");
        app.login_from("198.51.100.8", &email, "password123").await.assert_status(401);
    }
    let user = app.signed_up().await;
    app.login_from("198.51.100.8", &user.email, &user.password).await.assert_status(429);
    app.login_from("203.0.113.10", &user.email, &user.password).await.assert_status(201);
}

#[tokio::test]
async fn a_password_reset_lifts_the_accounts_locks() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    for _ in 0..5 {
        app.login(&user.email, "wrong password").await.assert_status(401);
    }
    app.login(&user.email, &user.password).await.assert_status(429);
    let email = shared::domain::Email::parse(&user.email).unwrap();
    let new = shared::domain::Password::parse("a brand new password").unwrap();
    shared::users::seed_admin(&app.state.users, &app.state.throttle, &email, &new).await.unwrap();
    app.login(&user.email, "a brand new password").await.assert_status(201);
}

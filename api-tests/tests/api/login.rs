use api_tests::TestApp;

#[tokio::test]
async fn login_with_the_right_password_is_201_with_a_token_for_that_user() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.login(&user.email, &user.password).await;
    response.assert_status(201);
    let token = response.body["access_token"].as_str().expect("access_token");
    assert_eq!(app.state.tokens.verify(token).unwrap().to_string(), user.id);
    assert_eq!(response.body.as_object().unwrap().len(), 1, "only the token: {}", response.text);
}

#[tokio::test]
async fn login_accepts_the_email_in_any_case_and_padding() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.login(&format!(" {} ", user.email.to_uppercase()), &user.password).await;
    response.assert_status(201);
}

#[tokio::test]
async fn login_with_wrong_password_is_401() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    let response = app.login(&user.email, "not the password").await;
    response.assert_status(401);
    assert_eq!(response.message(), "Invalid email or password.");
}

#[tokio::test]
async fn login_with_unknown_email_is_401_with_the_same_message() {
    let app = TestApp::spawn().await;
    let response = app.login("nobody@example.com", "whatever-password").await;
    response.assert_status(401);
    assert_eq!(response.message(), "Invalid email or password.");
}

#[tokio::test]
async fn login_after_the_account_is_deleted_is_401() {
    let app = TestApp::spawn().await;
    let user = app.signed_up().await;
    app.delete_user(&user.token, &user.id).await.assert_status(200);
    app.login(&user.email, &user.password).await.assert_status(401);
}

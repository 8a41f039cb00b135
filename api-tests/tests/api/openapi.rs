//! The OpenAPI document (`GET /openapi.json`) against the router, the
//! template and the API's real answers; `GET /config`.

use std::collections::BTreeSet;

use api_tests::{routes::api_routes, unique, Event, TestApp, TestResponse};
use serde_json::{json, Value};
use shared::{
    domain::{Cursor, PageLimit, UserName},
    http::openapi::DOCUMENT,
    secrets::AppSecret,
    PublicConfig,
};

fn document() -> Value {
    serde_json::from_str(DOCUMENT).expect("the document is JSON")
}

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(reference) => reference.trim_start_matches("#/").split('/').fold(doc, |node, key| &node[key]),
        None => schema,
    }
}

/// Where `value` breaks `schema` (the subset of JSON Schema the document uses).
fn violations(doc: &Value, schema: &Value, value: &Value, at: &str) -> Vec<String> {
    let schema = resolve(doc, schema);
    let mut found = Vec::new();
    if let Some(all) = schema["allOf"].as_array() {
        for part in all {
            found.extend(violations(doc, part, value, at));
        }
    }
    let type_of = |v: &Value| match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !allowed.is_empty() && !allowed.contains(&type_of(value)) {
        found.push(format!("{at}: {} is not {allowed:?}", type_of(value)));
    }
    if let Some(options) = schema["enum"].as_array() {
        if !options.contains(value) {
            found.push(format!("{at}: {value} is not one of {options:?}"));
        }
    }
    for name in schema["required"].as_array().into_iter().flatten().filter_map(Value::as_str) {
        if value.get(name).is_none() {
            found.push(format!("{at}: {name} is missing"));
        }
    }
    if let (Some(properties), Some(object)) = (schema["properties"].as_object(), value.as_object()) {
        for (name, field) in object {
            match properties.get(name) {
                Some(property) => found.extend(violations(doc, property, field, &format!("{at}.{name}"))),
                None if schema["additionalProperties"] == false => found.push(format!("{at}.{name} is not documented")),
                None => {}
            }
        }
    }
    if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
        for (i, item) in array.iter().enumerate() {
            found.extend(violations(doc, items, item, &format!("{at}[{i}]")));
        }
    }
    found
}

/// Asserts that `response` is one of the operation's documented answers,
/// with the documented body and headers.
#[track_caller]
fn assert_documented(method: &str, path: &str, response: &TestResponse) {
    let doc = document();
    let operation = &doc["paths"][path][method];
    assert!(operation.is_object(), "{method} {path} is not documented");
    let documented = &operation["responses"][response.status.to_string()];
    assert!(
        documented.is_object(),
        "{method} {path} answered {}, which is not documented: {}",
        response.status,
        response.text
    );
    let schema = &documented["content"]["application/json"]["schema"];
    let problems = violations(&doc, schema, &response.body, "body");
    assert!(problems.is_empty(), "{method} {path} {}: {problems:?}\n{}", response.status, response.text);
    for header in ["x-next-cursor", "retry-after"] {
        if response.headers.contains_key(header) {
            let names: Vec<String> =
                documented["headers"].as_object().into_iter().flatten().map(|(k, _)| k.to_lowercase()).collect();
            assert!(names.contains(&header.to_owned()), "{method} {path}: {header} is not documented");
        }
    }
}

#[test]
fn the_document_has_exactly_the_routes_of_the_template() {
    let doc = document();
    assert_eq!(doc["openapi"], json!("3.1.0"));
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "patch", "delete", "put"] {
            if item.get(method).is_some() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    let routed: BTreeSet<String> = api_routes().into_iter().map(|(_, route)| route).collect();
    assert_eq!(documented, routed);
}

#[test]
fn every_error_answer_has_the_error_shape_and_every_secured_route_says_bearer() {
    let doc = document();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap().iter().filter(|(m, _)| *m != "parameters") {
            for (status, response) in operation["responses"].as_object().unwrap() {
                if status.starts_with('4') || status.starts_with('5') {
                    let schema = &response["content"]["application/json"]["schema"]["$ref"];
                    assert_eq!(schema, &json!("#/components/schemas/Error"), "{method} {path} {status}");
                }
            }
            let secured = operation["security"].as_array().is_some_and(|s| !s.is_empty());
            assert_eq!(
                secured,
                operation["responses"].get("401").is_some() && path != "/user/login",
                "{method} {path}"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn real_answers_are_the_documented_ones() {
    let app = TestApp::spawn().await;
    let admin = app.admin().await;
    let user = app.signed_up().await;
    let body = json!({ "userName": "Doc User", "email": format!("{}@example.com", unique("doc")), "password": "correct horse battery" });
    assert_documented("post", "/user/register", &app.register(body.clone()).await);
    assert_documented("post", "/user/register", &app.register(body).await);
    assert_documented("post", "/user/register", &app.register(json!({ "email": 5 })).await);
    assert_documented("post", "/user/login", &app.login(&user.email, &user.password).await);
    assert_documented("post", "/user/login", &app.login(&user.email, "wrong password").await);
    let new =
        json!({ "userName": "Made", "email": format!("{}@example.com", unique("made")), "password": "password-123" });
    assert_documented("post", "/user", &app.create_user(&admin.token, new).await);
    assert_documented("post", "/user", &app.create_user(&user.token, json!({})).await);
    assert_documented("get", "/user", &app.list_users(&admin.token).await);
    assert_documented("get", "/user/{id}", &app.get_user(&user.token, &user.id).await);
    assert_documented("get", "/user/{id}", &app.get_user(&admin.token, "5f9f1c9b9c9c9c9c9c9c9c9c").await);
    assert_documented("get", "/user/{id}", &app.get_user("garbage", &user.id).await);
    assert_documented(
        "patch",
        "/user/{id}",
        &app.update_user(&user.token, &user.id, json!({ "userName": "Renamed" })).await,
    );

    let cuid = unique("c")[..25].to_owned();
    let created = app.create_payment(&user.token, &cuid).await;
    assert_documented("post", "/payment", &created);
    let id = created.body["id"].as_str().unwrap().to_owned();
    assert_documented(
        "post",
        "/payment/confirm",
        &app.confirm_payment(&user.token, &cuid, &id, "pm_card_chargeCustomerFail").await,
    );
    assert_documented("post", "/payment/confirm", &app.confirm_payment(&user.token, &cuid, &id, "pm_card_visa").await);
    assert_documented("get", "/payment/{id}", &app.get_payment(&user.token, &id).await);
    app.create_payment(&user.token, &unique("c")[..25]).await;
    let listed = app.list_payments(&user.token, &[("limit", "1")]).await;
    assert!(listed.headers.contains_key("x-next-cursor"));
    assert_documented("get", "/payment", &listed);
    assert_documented(
        "post",
        "/payment/{id}/refund",
        &app.refund_payment(&admin.token, &id, json!({ "cuid": cuid, "amount": 100 })).await,
    );
    assert_documented("post", "/payment/{id}/cancel", &app.cancel_payment(&user.token, &id).await);
    assert_documented("post", "/payment/webhook", &app.webhook("{}", "t=1,v1=00").await);
    let throttled = {
        for _ in 0..5 {
            app.login("doc-throttle@example.com", "wrong password").await;
        }
        app.login("doc-throttle@example.com", "wrong password").await
    };
    throttled.assert_status(429);
    assert_documented("post", "/user/login", &throttled);
    let public: &'static PublicConfig = Box::leak(Box::new(PublicConfig { publishable_key: "pk_test_doc".into() }));
    let config = shared::lambda::answer(public, Event::of("config-get").into_request(), config_get::handle).await;
    assert_documented("get", "/config", &TestResponse::from(config));
    assert_documented(
        "post",
        "/user/password",
        &app.change_password(&user.token, &user.password, "a new passphrase").await,
    );
    assert_documented("delete", "/user/{id}", &app.delete_user(&admin.token, &user.id).await);
}

#[test]
fn the_document_is_served_by_the_real_binary() {
    let served = api_tests::Emulator::start("openapi-get", &[]);
    let (status, body) = served.call(Event::of("openapi-get").json());
    assert_eq!(status, 200);
    assert_eq!(body, document());
}

#[test]
fn config_hands_out_the_publishable_key_from_the_secret_and_nothing_else() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app = rt.block_on(TestApp::spawn());
    let config = app.emulator("config-get");
    let (status, body) = config.call(Event::of("config-get").json());
    assert_eq!(status, 200, "{body}");
    assert_eq!(body, json!({ "publishableKey": "pk_test_local" }));
}

#[test]
fn a_missing_or_secret_publishable_key_is_a_configuration_error_naming_it() {
    let secret = |key: Option<&str>| {
        let mut text = json!({ "mongodbUri": "mongodb://h", "jwtSecret": "0123456789abcdef0123456789abcdef" });
        if let Some(key) = key {
            text["stripePublishableKey"] = json!(key);
        }
        AppSecret::parse("app", &text.to_string()).unwrap()
    };
    let missing = PublicConfig::build(&secret(None)).err().unwrap().to_string();
    assert_eq!(missing, "secret app lacks stripePublishableKey");
    let secret_key = PublicConfig::build(&secret(Some("sk_live_oops"))).err().unwrap().to_string();
    assert!(secret_key.contains("must be a publishable key") && !secret_key.contains("sk_live_oops"), "{secret_key}");
}

/// A fuzzer trusts the document: a value it says is valid must be accepted,
/// and one it says is invalid refused.
fn agree(pattern: &Value, accepts: impl Fn(&str) -> bool, samples: &[&str]) {
    let pattern = regex_lite::Regex::new(pattern.as_str().expect("a pattern")).unwrap();
    for sample in samples {
        assert_eq!(pattern.is_match(sample), accepts(sample), "{sample:?}: the document and the code disagree");
    }
}

#[test]
fn documented_patterns_accept_exactly_what_the_code_accepts() {
    let doc = document();
    let user_name = &doc["components"]["schemas"]["CreateUserDto"]["properties"]["userName"]["pattern"];
    let long = "é".repeat(100);
    let too_long = "é".repeat(101);
    let padded = format!(" \t{long}\u{3000}\n");
    agree(
        user_name,
        |s| UserName::parse(s).is_ok(),
        &[
            "Ada",
            " Ada ",
            "A",
            "Ada\u{3000}King",
            &long,
            &too_long,
            &padded,
            "",
            " ",
            "\u{3000}",
            "\u{a0}Ada\u{85}",
            "A\u{0}b",
            "Ada\u{7f}",
            "\u{97}Ada",
            "A\tB",
            "\u{2028}",
            "x\u{feff}",
        ],
    );
    let list = doc["paths"]["/payment"]["get"]["parameters"].as_array().unwrap();
    let param = |name: &str| &list.iter().find(|p| p["name"] == name).unwrap()["schema"]["pattern"];
    agree(
        param("limit"),
        |s| PageLimit::parse(s).is_ok(),
        &["1", "20", "100", "0", "101", "007", "+5", "-1", "1.0", "", " 1", "99999999999"],
    );
    agree(
        param("cursor"),
        |s| Cursor::parse(s).is_ok(),
        &[
            "6b061e65c1645f73176fe110",
            "6B061E65C1645F73176FE110",
            "6b061e65c1645f73176fe11",
            "zz061e65c1645f73176fe110",
        ],
    );
}

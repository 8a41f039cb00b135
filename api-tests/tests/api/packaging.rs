//! template.yaml is the one list of routes (seventeen and the catch-all);
//! `events/`, `functions/` and the local gateway follow it.

use std::collections::BTreeSet;

use api_tests::routes::{root, template_routes};

#[test]
fn the_local_gateway_serves_exactly_the_templates_routes() {
    let template = template_routes();
    assert_eq!(template.len(), 18, "{template:?}");
    let listed = std::process::Command::new(root().join(".venv/bin/python"))
        .arg(root().join("tools/gateway.py"))
        .arg("--routes")
        .output()
        .expect("running tools/gateway.py --routes (make services installs .venv)");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let served: BTreeSet<(String, String)> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| line.split_once('\t').map(|(f, r)| (f.to_owned(), r.to_owned())).expect("function<TAB>route"))
        .collect();
    assert_eq!(served, template);
}

#[test]
fn every_routed_function_has_a_crate_and_an_event_for_its_route() {
    for (function, route) in template_routes() {
        assert!(root().join("functions").join(&function).join("Cargo.toml").exists(), "no crate for {function}");
        let event: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(root().join("events").join(format!("{function}.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(event["routeKey"], route.as_str(), "events/{function}.json");
    }
}

/// Functions the template deploys without a route: the deploy's database
/// migration (a CloudFormation custom resource).
const UNROUTED: [&str; 1] = ["db-migrate"];

#[test]
fn every_function_crate_is_routed() {
    let mut routed: BTreeSet<String> = template_routes().into_iter().map(|(f, _)| f).collect();
    for function in UNROUTED {
        assert!(template().contains(&format!("Binary: {function}\n")), "{function} is in the template");
        routed.insert(function.to_owned());
    }
    let crates: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(routed, crates);
}

#[test]
fn every_handler_is_at_most_ten_lines() {
    for function in template_routes().into_iter().map(|(f, _)| f) {
        let path = root().join("functions").join(&function).join("src/lib.rs");
        let source = std::fs::read_to_string(&path).unwrap();
        let body: Vec<&str> = source
            .lines()
            .skip_while(|line| !line.starts_with("pub async fn handle"))
            .skip(1)
            .take_while(|line| *line != "}")
            .collect();
        assert!(!body.is_empty(), "{function}: no `pub async fn handle` in {}", path.display());
        assert!(body.len() <= 10, "{function}'s handler is {} lines:\n{}", body.len(), body.join("\n"));
    }
}

fn template() -> String {
    std::fs::read_to_string(root().join("template.yaml")).expect("template.yaml")
}

#[test]
fn the_template_declares_cors_for_the_allowed_origins_of_each_stage() {
    let template = template();
    let cors = template.split("CorsConfiguration:").nth(1).expect("the HttpApi has a CorsConfiguration");
    let cors: Vec<&str> = cors.lines().take(6).map(str::trim).collect();
    assert!(cors.contains(&"AllowOrigins: !Ref AllowedOrigins"), "{cors:?}");
    assert!(cors.contains(&"AllowHeaders: [authorization, content-type]"), "{cors:?}");
    assert!(cors.contains(&"ExposeHeaders: [x-next-cursor, retry-after]"), "{cors:?}");
    assert!(template.contains("  AllowedOrigins:\n    Type: CommaDelimitedList"), "AllowedOrigins is a parameter");
    let samconfig = std::fs::read_to_string(root().join("samconfig.toml")).unwrap();
    for stage in ["dev", "prod"] {
        assert!(samconfig.contains(&format!("Stage={stage} AllowedOrigins=")), "{stage} sets its origins");
    }
}

#[test]
fn functions_are_traced_and_the_api_logs_access_and_alarms_are_wired() {
    let template = template();
    assert!(template.contains("    Tracing: Active"), "X-Ray on every function (Globals)");
    assert!(template.contains("      AccessLogSettings:\n        DestinationArn: !GetAtt ApiAccessLogs.Arn"));
    assert!(template.contains("  ApiAccessLogs:\n    Type: AWS::Logs::LogGroup"));
    for alarm in [
        "ApiServerErrorRateAlarm",
        "WebhookSignatureFailuresAlarm",
        "UserFunctionsErrorsAlarm",
        "PaymentFunctionsErrorsAlarm",
        "UserFunctionsThrottlesAlarm",
        "PaymentFunctionsThrottlesAlarm",
    ] {
        assert!(template.contains(&format!("  {alarm}:\n    Type: AWS::CloudWatch::Alarm")), "{alarm}");
    }
    let functions: Vec<(String, String)> = template_routes().into_iter().collect();
    for (function, _) in functions {
        let resource = function.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect::<String>() + "Function";
        assert!(
            template.matches(&format!("Value: !Ref {resource}")).count() == 2,
            "{resource} is in one Errors and one Throttles alarm"
        );
    }
}

#[test]
fn stripes_webhook_deliveries_have_a_route_throttle_of_their_own() {
    let template = template();
    let routes = template.split("\n      RouteSettings:\n").nth(1).expect("the HttpApi has RouteSettings");
    let webhook: Vec<&str> = routes.lines().take(3).map(str::trim).collect();
    assert_eq!(webhook[0], "\"POST /payment/webhook\":", "{webhook:?}");
    let limit = |name: &str| -> u32 {
        webhook.iter().find_map(|line| line.strip_prefix(name)).and_then(|v| v.trim().parse().ok()).unwrap()
    };
    assert!(limit("ThrottlingRateLimit:") > 50, "more than a route's default");
    assert!(limit("ThrottlingBurstLimit:") > 100);
}

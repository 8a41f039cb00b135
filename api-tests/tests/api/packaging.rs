//! template.yaml is the one list of routes (seventeen, and the catch-all's);
//! `events/`, `functions/` and the local gateway follow it.

use std::collections::BTreeSet;

use api_tests::routes::{api_routes, catch_all, root, template_routes};

#[test]
fn the_local_gateway_serves_exactly_the_templates_routes() {
    let template = template_routes();
    assert_eq!(api_routes().len(), 17, "{template:?}");
    let listed = std::process::Command::new(root().join(".venv/bin/python"))
        .args(["-m", "tools.gateway", "--routes"])
        .current_dir(root())
        .output()
        .expect("running python -m tools.gateway --routes (make services installs .venv)");
    assert!(listed.status.success(), "{}", String::from_utf8_lossy(&listed.stderr));
    let served: BTreeSet<(String, String)> = String::from_utf8_lossy(&listed.stdout)
        .lines()
        .map(|line| line.split_once('\t').map(|(f, r)| (f.to_owned(), r.to_owned())).expect("function<TAB>route"))
        .collect();
    assert_eq!(served, template);
}

/// The paths and the methods each serves.
fn served() -> std::collections::BTreeMap<String, BTreeSet<String>> {
    let mut served = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for (_, route) in api_routes() {
        let (method, path) = route.split_once(' ').unwrap();
        served.entry(path.to_owned()).or_default().insert(method.to_owned());
    }
    served
}

/// Whether API Gateway would match `path` to the parameter route `template`.
fn takes(template: &str, path: &str) -> bool {
    let (template, path): (Vec<&str>, Vec<&str>) = (template.split('/').collect(), path.split('/').collect());
    template.len() == path.len() && template.iter().zip(&path).all(|(t, p)| t == p || t.starts_with('{'))
}

#[test]
fn a_literal_path_goes_to_the_catch_all_for_the_methods_of_its_parameter_sibling() {
    let served = served();
    let mut wanted = BTreeSet::new();
    for (literal, methods) in served.iter().filter(|(path, _)| !path.contains('{')) {
        // API Gateway would hand these to the parameter route, the literal as its id.
        let siblings = served.iter().filter(|(path, _)| path.contains('{') && takes(path, literal));
        for (_, theirs) in siblings {
            for method in theirs.difference(methods) {
                wanted.insert((catch_all(), format!("{method} {literal}")));
            }
        }
    }
    let routed: BTreeSet<(String, String)> = template_routes()
        .into_iter()
        .filter(|(function, route)| *function == catch_all() && route != "$default")
        .collect();
    assert!(!wanted.is_empty(), "GET /user/login would reach GET /user/{{id}}");
    assert_eq!(routed, wanted, "the catch-all's routes are exactly these");
}

#[test]
fn every_routed_function_has_a_crate_and_an_event_for_its_route() {
    for (function, route) in api_routes().into_iter().chain([(catch_all(), "$default".to_owned())]) {
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
    let functions: BTreeSet<String> = template_routes().into_iter().map(|(function, _)| function).collect();
    for function in functions {
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

//! The event catalog built at link time from every `#[track]` site of this test binary
//! (registered through `linkme` in a crate that forbids `unsafe_code`).

use telemetry::SafeValue;

#[derive(SafeValue)]
enum Mode {
    Fast,
}

mod commands {
    use super::Mode;

    #[telemetry::track("cmd.build", attrs(profile = "release"), capture(jobs, dry_run))]
    pub(crate) fn build(jobs: u16, dry_run: bool) {}

    #[telemetry::track("cmd.test", capture(mode, filter))]
    pub(crate) fn test(mode: Mode, filter: Option<u8>) {}

    pub(crate) struct Server;

    impl Server {
        #[telemetry::track("cmd.serve", capture(port))]
        pub(crate) async fn serve(&self, port: u16) {}
    }
}

mod legacy {
    /// The same event tracked twice with the same keys is consistent.
    #[telemetry::track("cmd.build", attrs(profile = "debug"), capture(jobs, dry_run))]
    pub(crate) fn build_debug(jobs: u16, dry_run: bool) {}
}

#[test]
fn the_catalog_lists_every_tracked_function_with_its_keys_sorted_by_name() {
    // Never called: registration happens at link time.
    let _ = (
        commands::build,
        commands::test,
        commands::Server::serve,
        legacy::build_debug,
    );
    let _ = Mode::Fast;
    let catalog = telemetry::catalog::events();
    type Site = (
        &'static str,
        &'static str,
        Vec<(&'static str, &'static str)>,
    );
    let listed: Vec<Site> = catalog
        .iter()
        .map(|s| (s.name(), s.module_path(), s.keys().collect()))
        .collect();
    let build_keys = vec![("dry_run", "bool"), ("jobs", "int"), ("profile", "string")];
    assert_eq!(
        listed,
        [
            ("cmd.build", "track_catalog::commands", build_keys.clone()),
            ("cmd.build", "track_catalog::legacy", build_keys),
            (
                "cmd.serve",
                "track_catalog::commands",
                vec![("port", "int")]
            ),
            (
                "cmd.test",
                "track_catalog::commands",
                vec![("filter", "int"), ("mode", "string")]
            ),
        ]
    );
    telemetry::catalog::validate().unwrap();
}

#[test]
fn the_catalog_serialises_for_telemetry_schema() {
    let json = serde_json::Value::Array(
        telemetry::catalog::events()
            .iter()
            .map(|spec| serde_json::from_str(&spec.to_json()).unwrap())
            .collect(),
    );
    let test = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "cmd.test")
        .unwrap();
    assert_eq!(
        *test,
        serde_json::json!({
            "name": "cmd.test",
            "module_path": "track_catalog::commands",
            "attrs": {},
            "captures": {"mode": "string", "filter": "int"},
            "values": {"mode": ["fast"]},
            "error_kinds": null,
        })
    );
    let build = json
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["module_path"] == "track_catalog::legacy")
        .unwrap();
    assert_eq!(build["attrs"], serde_json::json!({"profile": "debug"}));
}

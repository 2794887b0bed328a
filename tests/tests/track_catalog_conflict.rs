//! `catalog::validate()` reports one event name tracked with different keys.

#[telemetry::track("cmd.deploy", capture(replicas))]
fn deploy(replicas: u8) {}

mod quick {
    #[telemetry::track("cmd.deploy", attrs(quick = true))]
    pub(crate) fn deploy() {}
}

#[telemetry::track("cmd.rollback")]
fn rollback() {}

#[test]
fn conflicting_sites_are_listed_with_their_keys() {
    let _ = (deploy, quick::deploy, rollback);
    let error = telemetry::catalog::validate().unwrap_err();
    assert_eq!(error.conflicts.len(), 1);
    assert_eq!(error.conflicts[0].name, "cmd.deploy");
    assert_eq!(
        error.to_string(),
        "event `cmd.deploy` is tracked with different attributes at 2 sites:\n  \
         - in track_catalog_conflict: replicas: int\n  \
         - in track_catalog_conflict::quick: quick: bool"
    );
}

//! Issue 12 item 5: the CLI and the etcd pane show one verdict, computed once. A rotation that
//! completed eight days ago on a seven-day interval is "overdue" in both, and the CLI's exit
//! code says so.

use acp_cockpit::cli::etcd::{EXIT_UNHEALTHY, exit_of, report_at};
use acp_cockpit::domain::etcd::health::Health;
use acp_cockpit::fixtures::etcd as demo;
use acp_cockpit::tui::panes::etcd::demo as pane_demo;

#[test]
fn the_pane_and_the_cli_give_the_same_verdict() {
    let cfg = demo::complete_config(9, 8 * 24 * 60, "168h0m0s");
    let cli = report_at("prod-west", Some(&cfg), "", demo::now());
    assert_eq!(cli.health, Health::Overdue);
    assert_eq!(exit_of(cli.health, None), EXIT_UNHEALTHY);
    let pane = pane_demo::fleet()
        .fleet_rows(demo::now())
        .into_iter()
        .find(|(c, _)| c == "prod-west")
        .map(|(_, a)| a);
    let pane = pane.expect("prod-west in the overview");
    assert_eq!(pane.health, cli.health);
    assert_eq!(pane.headline, cli.headline);
    assert_eq!(pane.next_due.map(|t| t.to_rfc3339()), cli.next_rotation_due);
}

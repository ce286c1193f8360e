use super::*;
use crate::domain::preflight::catalogue::Role;
use crate::domain::preflight::evaluate::tests::{good_facts, good_input, ip};
use crate::domain::preflight::facts::{Addr, Link};

/// Three distinct nodes on 192.168.10.11-13 with clocks in step with this machine.
fn fleet() -> Vec<(NodeInput, NodeFacts, ClockSample)> {
    (1..=3)
        .map(|n| {
            let addr = format!("192.168.10.1{n}");
            let mut input = good_input(if n == 1 {
                Role::ControlPlane
            } else {
                Role::Worker
            });
            input.name = addr.clone();
            input.ipv4 = Some(ip(&addr));
            let mut f = good_facts();
            f.hostname = Some(format!("node-{n}"));
            f.machine_id = Some(format!("{n:032x}"));
            f.product_uuid = Some(DmiUuid::Value(format!("uuid-{n}")));
            f.addrs = Some(vec![Addr {
                dev: "eth0".into(),
                ip: ip(&addr),
                prefix: 24,
            }]);
            f.links = Some(vec![Link {
                name: "eth0".into(),
                up: true,
                state: "UP".into(),
                mac: Some(format!("52:54:00:00:00:0{n}")),
            }]);
            (input, f, sample(100.0, 100.0, 100.02))
        })
        .collect()
}

fn sample(before: f64, remote: f64, after: f64) -> ClockSample {
    ClockSample {
        local_before: before,
        remote: Some(remote),
        local_after: after,
    }
}

fn of(results: &[(usize, CheckResult)], node: usize, id: &str) -> CheckResult {
    results
        .iter()
        .find(|(i, r)| *i == node && r.id == id)
        .map(|(_, r)| r.clone())
        .unwrap_or_else(|| panic!("no {id} for node {node}"))
}

#[test]
fn distinct_nodes_in_step_pass_every_fleet_check() {
    let req = Requirements {
        vip: Some(ip("192.168.10.100")),
        ..Requirements::default()
    };
    let results = evaluate_fleet(&fleet(), &req);
    assert_eq!(results.len(), 3 * 6);
    for (i, r) in &results {
        assert_eq!(
            r.verdict,
            Verdict::Pass,
            "node {i} {}: {}",
            r.id,
            r.evidence
        );
    }
    assert!(
        of(&results, 0, "clock-skew")
            .evidence
            .contains("NTP synchronized: yes")
    );
}

#[test]
fn duplicates_are_reported_on_every_holder_naming_the_others() {
    let mut nodes = fleet();
    nodes[2].1.hostname = Some("NODE-1".into());
    nodes[1].1.machine_id = nodes[0].1.machine_id.clone();
    nodes[2].1.product_uuid = Some(DmiUuid::Value("UUID-1".into()));
    nodes[1].1.links = nodes[0].1.links.clone();
    let results = evaluate_fleet(&nodes, &Requirements::default());
    let h = of(&results, 0, "hostname-unique");
    assert_eq!(
        h.verdict,
        Verdict::Warn,
        "hostnames are not node names here"
    );
    assert!(
        h.evidence.contains("also on 192.168.10.13"),
        "{}",
        h.evidence
    );
    assert_eq!(of(&results, 1, "hostname-unique").verdict, Verdict::Pass);
    let m = of(&results, 1, "machine-id-unique");
    assert_eq!(m.verdict, Verdict::Fail);
    assert!(m.evidence.contains("also on 192.168.10.11"));
    assert_eq!(
        of(&results, 2, "product-uuid-unique").verdict,
        Verdict::Fail,
        "compared case-insensitively"
    );
    assert_eq!(of(&results, 1, "mac-unique").verdict, Verdict::Fail);
    assert_eq!(of(&results, 2, "mac-unique").verdict, Verdict::Pass);
    let strict = Requirements {
        hostname_is_node_name: true,
        ..Requirements::default()
    };
    assert_eq!(
        of(&evaluate_fleet(&nodes, &strict), 2, "hostname-unique").verdict,
        Verdict::Fail
    );
}

#[test]
fn unknown_values_cannot_be_compared() {
    let mut nodes = fleet();
    nodes[0].1.product_uuid = Some(DmiUuid::Unreadable);
    nodes[1].1.product_uuid = Some(DmiUuid::Absent);
    nodes[2].1.machine_id = None;
    nodes[2].1.links = None;
    let results = evaluate_fleet(&nodes, &Requirements::default());
    let u = of(&results, 0, "product-uuid-unique");
    assert_eq!(u.verdict, Verdict::CannotCheck);
    assert!(u.evidence.contains("root"));
    assert!(
        of(&results, 1, "product-uuid-unique")
            .evidence
            .contains("no DMI")
    );
    assert_eq!(
        of(&results, 2, "machine-id-unique").verdict,
        Verdict::CannotCheck
    );
    assert_eq!(of(&results, 2, "mac-unique").verdict, Verdict::CannotCheck);
}

#[test]
fn a_vip_on_a_node_or_equal_to_its_address_fails() {
    let mut nodes = fleet();
    nodes[1].1.addrs.get_or_insert_default().push(Addr {
        dev: "eth0".into(),
        ip: ip("192.168.10.100"),
        prefix: 32,
    });
    nodes[2].1.addrs = None;
    let req = Requirements {
        vip: Some(ip("192.168.10.100")),
        ..Requirements::default()
    };
    let results = evaluate_fleet(&nodes, &req);
    assert_eq!(of(&results, 0, "vip-unused").verdict, Verdict::Pass);
    let on = of(&results, 1, "vip-unused");
    assert_eq!(on.verdict, Verdict::Fail);
    assert!(on.evidence.contains("already on eth0"));
    assert_eq!(of(&results, 2, "vip-unused").verdict, Verdict::CannotCheck);
    let own = Requirements {
        vip: Some(ip("192.168.10.11")),
        ..Requirements::default()
    };
    assert!(
        of(&evaluate_fleet(&fleet(), &own), 0, "vip-unused")
            .evidence
            .contains("own address")
    );
    assert!(
        !evaluate_fleet(&fleet(), &Requirements::default())
            .iter()
            .any(|(_, r)| r.id == "vip-unused"),
        "no VIP, no check"
    );
}

#[test]
fn clock_offsets_are_measured_against_the_round_trip_midpoint() {
    // Sent at 100.0, answered at 101.0 by this machine's clock: the node read its clock at
    // about 100.5, so a node printing 103.5 is 3 s ahead, give or take 0.5 s.
    let s = sample(100.0, 103.5, 101.0);
    assert_eq!(s.offset(), Some((3.0, 0.5)));
    assert_eq!(ClockSample { remote: None, ..s }.offset(), None);
    assert_eq!(
        sample(101.0, 100.0, 100.0).offset(),
        None,
        "time ran backwards here"
    );
}

#[rustfmt::skip]
#[test]
fn clock_skew_verdicts_against_this_machine_and_between_nodes() {
    // (offsets of the three nodes in seconds, round trip, expected verdicts per node)
    let cases: &[([f64; 3], f64, [Verdict; 3])] = &[
        ([0.0, 0.5, -0.5], 0.02, [Verdict::Pass; 3]),
        // 2.5 s ahead of this machine and of the others: warn on it, and on the others against it.
        ([2.5, 0.0, 0.0], 0.02, [Verdict::Warn; 3]),
        ([6.0, 0.0, 0.0], 0.02, [Verdict::Fail; 3]),
        // The outer nodes are 3 s apart, each only 1.5 s off this machine and the middle one.
        ([1.5, 0.0, -1.5], 0.02, [Verdict::Warn, Verdict::Pass, Verdict::Warn]),
        // The outer nodes are 5.5 s apart; the middle one is 2.75 s off each of them.
        ([2.75, 0.0, -2.75], 0.02, [Verdict::Fail, Verdict::Warn, Verdict::Fail]),
        // 1.5 s off but a 4 s round trip: cannot vouch for under 5 s, so warn.
        ([1.5, 0.0, 0.0], 4.0, [Verdict::Warn; 3]),
    ];
    for (offsets, rtt, want) in cases {
        let mut nodes = fleet();
        for (n, off) in offsets.iter().enumerate() {
            nodes[n].2 = sample(100.0, 100.0 + rtt / 2.0 + off, 100.0 + rtt);
        }
        let results = evaluate_fleet(&nodes, &Requirements::default());
        for (n, want) in want.iter().enumerate() {
            let r = of(&results, n, "clock-skew");
            assert_eq!(r.verdict, *want, "offsets {offsets:?} rtt {rtt} node {n}: {}", r.evidence);
        }
    }
}

#[test]
fn clock_evidence_names_the_worst_peer_and_the_ntp_state() {
    let mut nodes = fleet();
    nodes[0].2 = sample(100.0, 106.01, 100.02);
    nodes[0].1.ntp_synced = Some("no".into());
    nodes[2].2 = ClockSample {
        remote: None,
        ..sample(100.0, 0.0, 100.02)
    };
    let results = evaluate_fleet(&nodes, &Requirements::default());
    let r = of(&results, 0, "clock-skew");
    assert_eq!(r.verdict, Verdict::Fail);
    assert!(
        r.evidence.starts_with(
            "+6.000 s ±0.010 s against this machine; +6.010 s ±0.020 s against 192.168.10.12"
        ),
        "{}",
        r.evidence
    );
    assert!(r.evidence.ends_with("NTP synchronized: no"));
    assert!(
        r.observed.is_some_and(|o| (o - 6.0).abs() < 1e-6),
        "{:?}",
        r.observed
    );
    assert_eq!(of(&results, 2, "clock-skew").verdict, Verdict::CannotCheck);
}

#[test]
fn fleet_results_honour_the_ignore_list() {
    let mut nodes = fleet();
    nodes[1].1.machine_id = nodes[0].1.machine_id.clone();
    let req = Requirements {
        ignore: vec!["machine-id-unique".into()],
        ..Requirements::default()
    };
    let r = of(&evaluate_fleet(&nodes, &req), 1, "machine-id-unique");
    assert_eq!(
        (r.verdict, r.ignored_verdict),
        (Verdict::Ignored, Some(Verdict::Fail))
    );
}

//! Checks that compare nodes: unique hostname, MAC, product_uuid and machine-id, the
//! self-built VIP on no node, and clock skew against this machine and between nodes.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Serialize;

use super::evaluate::{NodeInput, Requirements};
use super::facts::{DmiUuid, NodeFacts};
use super::network::{NicChoice, effective_nic};
use super::verdict::{CheckResult, Verdict, apply_ignore};

/// One clock reading of a node: this machine's clock just before and just after the node
/// printed `remote` (all in seconds since the epoch). `remote` is `None` when the node's
/// answer could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct ClockSample {
    pub local_before: f64,
    pub remote: Option<f64>,
    pub local_after: f64,
}

impl ClockSample {
    /// A sample from the output of [`super::probe::CLOCK_COMMAND`] and this machine's clock
    /// read just before sending it and just after the answer.
    pub fn from_output(local_before: f64, output: &str, local_after: f64) -> Self {
        let remote = super::probe::parse_clock_output(output);
        Self {
            local_before,
            remote,
            local_after,
        }
    }

    /// The node's offset from this machine, compared to the midpoint of the round trip, and
    /// its uncertainty (half the round trip). `None` for an unusable sample.
    pub fn offset(&self) -> Option<(f64, f64)> {
        let remote = self.remote?;
        let rtt = self.local_after - self.local_before;
        if !(rtt.is_finite() && remote.is_finite()) || rtt < 0.0 {
            return None;
        }
        let mid = self.local_before + rtt / 2.0;
        Some((remote - mid, rtt / 2.0))
    }
}

/// The cross-node checks for every node, as `(index into nodes, result)`. Pass only nodes
/// whose probe ran (a node that could not be reached has its `ssh-connect` failure and
/// nothing to compare).
pub fn evaluate_fleet(
    nodes: &[(NodeInput, NodeFacts, ClockSample)],
    req: &Requirements,
) -> Vec<(usize, CheckResult)> {
    let mut out = Vec::new();
    let dup = if req.hostname_is_node_name {
        Verdict::Fail
    } else {
        Verdict::Warn
    };
    unique(
        &mut out,
        nodes,
        "hostname-unique",
        "hostname",
        dup,
        |_, f| {
            f.hostname
                .as_ref()
                .map(|h| h.to_ascii_lowercase())
                .ok_or("hostname not reported")
        },
    );
    unique(
        &mut out,
        nodes,
        "mac-unique",
        "MAC",
        Verdict::Fail,
        main_mac,
    );
    unique(
        &mut out,
        nodes,
        "product-uuid-unique",
        "product_uuid",
        Verdict::Fail,
        |_, f| match &f.product_uuid {
            Some(DmiUuid::Value(v)) => Ok(v.to_ascii_lowercase()),
            Some(DmiUuid::Unreadable) => Err("product_uuid is readable by root only"),
            Some(DmiUuid::Absent) => Err("the machine has no DMI product_uuid"),
            None => Err("product_uuid not reported"),
        },
    );
    unique(
        &mut out,
        nodes,
        "machine-id-unique",
        "machine-id",
        Verdict::Fail,
        |_, f| f.machine_id.clone().ok_or("/etc/machine-id not readable"),
    );
    if let Some(vip) = req.vip {
        vip_unused(&mut out, nodes, vip);
    }
    clock_skew(&mut out, nodes, req);
    let ignore: Vec<&str> = req.ignore.iter().map(String::as_str).collect();
    out.into_iter()
        .map(|(i, r)| (i, apply_ignore(vec![r], ignore.iter().copied()).remove(0)))
        .collect()
}

/// The self-built VIP must be free: on no node's interface and no node's own address.
fn vip_unused(
    out: &mut Vec<(usize, CheckResult)>,
    nodes: &[(NodeInput, NodeFacts, ClockSample)],
    vip: IpAddr,
) {
    let id = "vip-unused";
    for (i, (input, facts, _)) in nodes.iter().enumerate() {
        let r = if input.ipv4 == Some(vip) || input.ipv6 == Some(vip) {
            CheckResult::new(
                id,
                Verdict::Fail,
                format!("the VIP {vip} is this node's own address"),
            )
        } else if facts.addrs.is_none() {
            CheckResult::new(
                id,
                Verdict::CannotCheck,
                "the node's addresses were not reported",
            )
        } else {
            match facts.devices_with(&vip).first() {
                Some(dev) => CheckResult::new(
                    id,
                    Verdict::Fail,
                    format!("the VIP {vip} is already on {dev}"),
                ),
                None => CheckResult::new(
                    id,
                    Verdict::Pass,
                    format!("{vip} is on none of its interfaces"),
                ),
            }
        };
        out.push((i, r));
    }
}

/// The MAC of the NIC carrying the node's address, else of the NIC the plugin uses.
fn main_mac(input: &NodeInput, facts: &NodeFacts) -> Result<String, &'static str> {
    if facts.links.is_none() {
        return Err("interfaces not reported");
    }
    let by_ip = input
        .ipv4
        .and_then(|ip| facts.devices_with(&ip).first().map(|d| d.to_string()));
    let dev = by_ip.or_else(|| match effective_nic(input, facts) {
        NicChoice::Chosen { name, .. } => Some(name),
        _ => None,
    });
    let dev = dev.ok_or("no NIC to take the MAC of")?;
    facts
        .link(&dev)
        .and_then(|l| l.mac.clone())
        .ok_or("the NIC has no MAC address")
}

fn unique(
    out: &mut Vec<(usize, CheckResult)>,
    nodes: &[(NodeInput, NodeFacts, ClockSample)],
    id: &'static str,
    what: &str,
    dup: Verdict,
    key: impl Fn(&NodeInput, &NodeFacts) -> Result<String, &'static str>,
) {
    let keys: Vec<Result<String, &'static str>> = nodes.iter().map(|(i, f, _)| key(i, f)).collect();
    let mut holders: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, k) in keys.iter().enumerate() {
        if let Ok(k) = k {
            holders.entry(k.as_str()).or_default().push(i);
        }
    }
    for (i, k) in keys.iter().enumerate() {
        let r = match k {
            Err(why) => CheckResult::new(id, Verdict::CannotCheck, *why),
            Ok(k) => {
                let others: Vec<&str> = holders[k.as_str()]
                    .iter()
                    .filter(|j| **j != i)
                    .take(5)
                    .map(|j| nodes[*j].0.name.as_str())
                    .collect();
                if others.is_empty() {
                    CheckResult::new(id, Verdict::Pass, format!("{what} {k}"))
                } else {
                    CheckResult::new(id, dup, format!("{what} {k} also on {}", others.join(", ")))
                }
            }
        };
        out.push((i, r));
    }
}

/// How one clock comparison came out: the measured difference and its uncertainty.
#[derive(Clone, Copy, Debug)]
struct Skew {
    value: f64,
    uncertainty: f64,
}

impl Skew {
    /// Over the fail limit even at best: fail. Over the warn limit at best, or possibly over
    /// the fail limit: warn (a slow link cannot vouch for a clock).
    fn verdict(&self, warn: f64, fail: f64) -> Verdict {
        let low = self.value.abs() - self.uncertainty;
        let high = self.value.abs() + self.uncertainty;
        if low > fail {
            Verdict::Fail
        } else if low > warn || high > fail {
            Verdict::Warn
        } else {
            Verdict::Pass
        }
    }
}

fn clock_skew(
    out: &mut Vec<(usize, CheckResult)>,
    nodes: &[(NodeInput, NodeFacts, ClockSample)],
    req: &Requirements,
) {
    let id = "clock-skew";
    let (warn, fail) = (req.minimums.clock_warn_secs, req.minimums.clock_fail_secs);
    let offsets: Vec<Option<(f64, f64)>> = nodes.iter().map(|(_, _, s)| s.offset()).collect();
    for (i, (_, facts, _)) in nodes.iter().enumerate() {
        let ntp = match facts.ntp_synced_flag() {
            Some(true) => "NTP synchronized: yes",
            Some(false) => "NTP synchronized: no",
            None => "NTP state unknown",
        };
        let Some((off, unc)) = offsets[i] else {
            out.push((
                i,
                CheckResult::new(
                    id,
                    Verdict::CannotCheck,
                    format!("the node's clock could not be read; {ntp}"),
                ),
            ));
            continue;
        };
        let local = Skew {
            value: off,
            uncertainty: unc,
        };
        // The worst comparison decides: by verdict first, then by how far apart at best.
        let rank = |k: &Skew| {
            (
                k.verdict(warn, fail).severity(),
                k.value.abs() - k.uncertainty,
            )
        };
        let peer = offsets
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .filter_map(|(j, o)| {
                o.map(|(off_j, unc_j)| {
                    (
                        j,
                        Skew {
                            value: off - off_j,
                            uncertainty: unc + unc_j,
                        },
                    )
                })
            })
            .max_by(|a, b| {
                rank(&a.1)
                    .partial_cmp(&rank(&b.1))
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        let worst = match peer {
            Some((_, k)) if rank(&k) > rank(&local) => k,
            _ => local,
        };
        let mut evidence = format!("{off:+.3} s ±{unc:.3} s against this machine");
        if let Some((j, k)) = peer {
            evidence.push_str(&format!(
                "; {:+.3} s ±{:.3} s against {}",
                k.value, k.uncertainty, nodes[j].0.name
            ));
        }
        evidence.push_str(&format!("; {ntp}"));
        let verdict = worst.verdict(warn, fail);
        out.push((
            i,
            CheckResult::new(id, verdict, evidence).measured(worst.value.abs(), warn),
        ));
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;

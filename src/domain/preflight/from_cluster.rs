//! Preflight inputs read from a Cluster manifest: one [`NodeInput`] per machine, and the
//! cluster-wide settings ([`Requirements::vip`], hostnames as node names).

use crate::domain::cluster::{Cluster, annotations};
use crate::domain::network::parse_ip;

use super::catalogue::Role;
use super::evaluate::{NetworkPlugin, NodeInput, Requirements};

/// One input per `spec.machines[]` entry, in order, named by the machine's IP. The registry
/// target is not part of the manifest; set it from the platform when known.
pub fn node_inputs(cluster: &Cluster) -> Vec<NodeInput> {
    let network = NetworkPlugin::from_annotations(
        cluster.annotation(annotations::NETWORK_TYPE).unwrap_or(""),
        cluster.annotation(annotations::TRANSMIT_TYPE),
    );
    let text = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    cluster
        .spec
        .machines
        .iter()
        .map(|m| {
            let role = if m.is_control_plane() {
                Role::ControlPlane
            } else {
                Role::Worker
            };
            NodeInput {
                ipv4: parse_ip(m.ip.trim()),
                ipv6: m.ipv6.as_deref().and_then(|v| parse_ip(v.trim())),
                node_nic: text(&m.network_device),
                cluster_nic: text(&cluster.spec.network_device),
                network,
                ..NodeInput::new(m.ip.trim(), role)
            }
        })
        .collect()
}

/// Sets the self-built VIP (`features.ha.tke.vip`) and whether hostnames become node names
/// (`spec.hostnameAsNodename`) from the manifest.
pub fn apply_cluster_settings(req: &mut Requirements, cluster: &Cluster) {
    req.vip = cluster
        .spec
        .features
        .ha
        .as_ref()
        .and_then(|h| h.tke.as_ref())
        .and_then(|t| parse_ip(t.vip.trim()));
    req.hostname_is_node_name = cluster.spec.hostname_as_nodename.unwrap_or(false);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machines_become_inputs_with_the_cluster_s_network_settings() {
        let cluster: Cluster = serde_json::from_value(serde_json::json!({
            "apiVersion": "platform.tkestack.io/v1", "kind": "Cluster",
            "metadata": {"name": "edge", "annotations": {
                "cpaas.io/network-type": "kube-ovn", "kube-ovn.cpaas.io/transmit-type": "underlay"}},
            "spec": {
                "type": "Baremetal", "version": "1.31.1", "networkDevice": "eth1",
                "hostnameAsNodename": true,
                "features": {"ha": {"tke": {"vip": "192.168.67.100", "vrid": 137}}},
                "machines": [
                    {"ip": "192.168.67.59", "port": 22, "username": "root", "role": "master", "ipv6": "fd00::59"},
                    {"ip": " 192.168.67.60 ", "port": 22, "username": "root", "role": "node", "networkDevice": "ens4"}
                ]
            }
        }))
        .expect("cluster");
        let inputs = node_inputs(&cluster);
        assert_eq!(inputs.len(), 2);
        assert_eq!(
            (inputs[0].name.as_str(), inputs[0].role),
            ("192.168.67.59", Role::ControlPlane)
        );
        assert_eq!(inputs[0].ipv6, "fd00::59".parse().ok());
        assert_eq!(
            (
                inputs[0].node_nic.as_deref(),
                inputs[0].cluster_nic.as_deref()
            ),
            (None, Some("eth1"))
        );
        assert_eq!(inputs[1].role, Role::Worker);
        assert_eq!(inputs[1].ipv4, "192.168.67.60".parse().ok());
        assert_eq!(inputs[1].node_nic.as_deref(), Some("ens4"));
        assert!(
            inputs
                .iter()
                .all(|i| i.network == NetworkPlugin::KubeOvnUnderlay)
        );
        let mut req = Requirements::default();
        apply_cluster_settings(&mut req, &cluster);
        assert_eq!(req.vip, "192.168.67.100".parse().ok());
        assert!(req.hostname_is_node_name);
    }
}

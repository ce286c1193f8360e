//! The field names the resource types model, by the object they sit in: what a manifest
//! may spell, so that anything else is reported instead of silently kept in `extra`.

/// Fields of `Cluster.spec`.
pub const SPEC_FIELDS: &[&str] = &[
    "finalizers",
    "tenantID",
    "displayName",
    "type",
    "version",
    "networkType",
    "networkDevice",
    "clusterCIDR",
    "serviceCIDR",
    "dnsDomain",
    "publicAlternativeNames",
    "features",
    "properties",
    "machines",
    "scalingMachines",
    "dockerExtraArgs",
    "kubeletExtraArgs",
    "apiServerExtraArgs",
    "controllerManagerExtraArgs",
    "schedulerExtraArgs",
    "clusterCredentialRef",
    "etcd",
    "hostnameAsNodename",
    "networkArgs",
];

/// Fields of `Cluster.spec.features`.
pub const FEATURE_FIELDS: &[&str] = &[
    "ipvs",
    "publicLB",
    "internalLB",
    "gpuType",
    "enableMasterSchedule",
    "ha",
    "skipConditions",
    "files",
    "hooks",
    "csiOperator",
    "authzWebhookAddr",
    "enableMetricsServer",
    "ipv6DualStack",
    "upgrade",
    "kubeProxyConfiguration",
];

/// Fields of one `spec.machines[]` entry.
pub const MACHINE_FIELDS: &[&str] = &[
    "ip",
    "port",
    "username",
    "password",
    "privateKey",
    "passPhrase",
    "labels",
    "taints",
    "role",
    "displayName",
    "ipv6",
    "publicIP",
    "networkDevice",
    "annotations",
    "proxy",
];

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::domain::cluster::{ClusterFeature, ClusterMachine, ClusterSpec};

    fn properties(schema: schemars::Schema) -> BTreeSet<String> {
        let v = serde_json::to_value(schema).expect("schema is JSON");
        v["properties"]
            .as_object()
            .expect("an object schema")
            .keys()
            .cloned()
            .collect()
    }

    fn listed(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    /// The lists follow the types: a field added to a type without its name here would be
    /// reported as unknown.
    #[test]
    fn the_lists_are_the_types_fields() {
        assert_eq!(
            properties(schemars::schema_for!(ClusterSpec)),
            listed(SPEC_FIELDS)
        );
        assert_eq!(
            properties(schemars::schema_for!(ClusterFeature)),
            listed(FEATURE_FIELDS)
        );
        assert_eq!(
            properties(schemars::schema_for!(ClusterMachine)),
            listed(MACHINE_FIELDS)
        );
    }
}

//! Fields a manifest spells that the resource does not have: a typo such as `clusterCidr`
//! would otherwise be kept aside silently, and the rules would only see the real field empty.

use std::collections::BTreeMap;

use serde_json::Value;

use super::finding::{Finding, Out};
use crate::domain::cluster::{Cluster, FEATURE_FIELDS, MACHINE_FIELDS, SPEC_FIELDS};

/// Unknown keys of `spec`, `spec.features` and each `spec.machines[i]`, with the known
/// field each most likely meant.
pub fn unknown_fields(c: &Cluster) -> Vec<Finding> {
    let s = &c.spec;
    let mut o = Out(Vec::new());
    report("spec", &s.extra, SPEC_FIELDS, &mut o);
    report("spec.features", &s.features.extra, FEATURE_FIELDS, &mut o);
    for (i, m) in s.machines.iter().enumerate() {
        report(
            &format!("spec.machines[{i}]"),
            &m.extra,
            MACHINE_FIELDS,
            &mut o,
        );
    }
    o.0
}

fn report(at: &str, extra: &BTreeMap<String, Value>, known: &[&str], o: &mut Out) {
    for key in extra.keys() {
        let field = format!("{at}.{key}");
        match did_you_mean(key, known) {
            Some(meant) => o.err(
                field,
                format!("unknown field `{key}`, did you mean `{meant}`?"),
                format!("Rename it to {meant}: the platform ignores a field it does not know, so this value is not used"),
            ),
            None => o.warn(
                field,
                format!("unknown field `{key}` in {at}: the cockpit does not know it and checks nothing about it"),
                "Remove it unless your ACP version documents it; it is sent to the platform as written",
            ),
        }
    }
}

/// The known field `key` is closest to, when it is close enough to be a slip: the same
/// letters in another case, or one or two edits away (one for short names).
fn did_you_mean<'a>(key: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = key.to_ascii_lowercase();
    let limit = if key.chars().count() <= 5 { 1 } else { 2 };
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_ascii_lowercase()), *k))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let swap = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = swap.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::tests::EXAMPLE;
    use crate::domain::rules::{RuleContext, Severity, check_cluster};

    /// The documented example with slips in spec, features and a machine, and a vendor key.
    fn typos() -> String {
        EXAMPLE
            .replace("clusterCIDR:", "clusterCidr:")
            .replace("ipv6DualStack:", "ipv6Dualstack:")
            .replace(
                "password: \"c2VjcmV0\"}",
                "password: \"c2VjcmV0\", pasword: x}",
            )
            .replace(
                "  networkDevice: \"eth0\"\n",
                "  networkDevice: \"eth0\"\n  vendorExtension: {a: 1}\n",
            )
    }

    #[test]
    fn a_misspelt_field_is_named_with_the_field_it_meant() {
        let c = crate::domain::form::from_yaml(&typos()).expect("imports");
        let found = check_cluster(&c, &RuleContext::default());
        let at = |field: &str| found.iter().find(|x| x.field == field).cloned();
        let cidr = at("spec.clusterCidr").expect("clusterCidr reported");
        assert_eq!(cidr.severity, Severity::Error);
        assert_eq!(
            cidr.message,
            "unknown field `clusterCidr`, did you mean `clusterCIDR`?"
        );
        assert!(cidr.hint.contains("clusterCIDR"), "{cidr:?}");
        let dual = at("spec.features.ipv6Dualstack").expect("features key reported");
        assert!(dual.message.contains("did you mean `ipv6DualStack`?"));
        let pw = at("spec.machines[0].pasword").expect("machine key reported");
        assert!(pw.message.contains("did you mean `password`?"));
        // Nothing close: kept, but said.
        let vendor = at("spec.vendorExtension").expect("unknown key reported");
        assert_eq!(vendor.severity, Severity::Warning);
        assert!(!vendor.message.contains("did you mean"));
    }

    #[test]
    fn suggestions_are_only_for_slips() {
        assert_eq!(
            did_you_mean("clusterCidr", SPEC_FIELDS),
            Some("clusterCIDR")
        );
        assert_eq!(did_you_mean("servceCIDR", SPEC_FIELDS), Some("serviceCIDR"));
        assert_eq!(did_you_mean("gpu", MACHINE_FIELDS), None);
        assert_eq!(did_you_mean("somethingElse", SPEC_FIELDS), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "ab"), 2);
        assert_eq!(edit_distance("ü", "u"), 1);
    }
}

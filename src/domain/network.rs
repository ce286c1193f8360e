//! Address math for cluster creation: CIDR parsing (single or dual stack), overlap,
//! capacity, Flannel's node limit and the checks the creation rules need on addresses.
//!
//! Nothing here panics on any input; the proptests at the bottom hold that.

use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

/// IP family of an address or network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum IpFamily {
    V4,
    V6,
}

impl IpFamily {
    pub fn of_net(n: &IpNet) -> Self {
        match n {
            IpNet::V4(_) => Self::V4,
            IpNet::V6(_) => Self::V6,
        }
    }

    pub fn of_addr(a: &IpAddr) -> Self {
        match a {
            IpAddr::V4(_) => Self::V4,
            IpAddr::V6(_) => Self::V6,
        }
    }

    /// Bits in an address of this family.
    pub fn bits(self) -> u8 {
        match self {
            Self::V4 => 32,
            Self::V6 => 128,
        }
    }
}

impl fmt::Display for IpFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::V4 => "IPv4",
            Self::V6 => "IPv6",
        })
    }
}

/// Why a CIDR field does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("the CIDR is empty")]
    Empty,
    #[error("`{0}` is not a CIDR such as 10.3.0.0/16 or fd00:10:16::/64")]
    Invalid(String),
    #[error("`{0}` has host bits set; the network address is {1}")]
    HostBits(String, IpNet),
    #[error("only one CIDR is allowed unless the cluster is dual stack")]
    NotDualStack,
    #[error("at most two CIDRs (one IPv4, one IPv6) are allowed")]
    TooMany,
    #[error(
        "the two CIDRs of a dual-stack pair must be of different families (one IPv4, one IPv6)"
    )]
    SameFamily,
}

/// One CIDR, strictly: a network address with no host bits set.
pub fn parse_cidr(s: &str) -> Result<IpNet, CidrError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(CidrError::Empty);
    }
    let net: IpNet = t.parse().map_err(|_| CidrError::Invalid(t.to_string()))?;
    if net.trunc() != net {
        return Err(CidrError::HostBits(t.to_string(), net.trunc()));
    }
    Ok(net)
}

/// A CIDR field: one network, or a dual-stack pair of one IPv4 and one IPv6 network.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cidrs(Vec<IpNet>);

impl Cidrs {
    /// Parses `"a"` or `"a,b"`. A pair is allowed only when `dual_stack` is set and must then
    /// hold one network of each family (the order given is kept).
    pub fn parse(s: &str, dual_stack: bool) -> Result<Self, CidrError> {
        let parts: Vec<&str> = s.split(',').map(str::trim).collect();
        if parts.iter().all(|p| p.is_empty()) {
            return Err(CidrError::Empty);
        }
        if parts.len() > 2 {
            return Err(CidrError::TooMany);
        }
        let nets = parts
            .iter()
            .map(|p| parse_cidr(p))
            .collect::<Result<Vec<_>, _>>()?;
        if nets.len() == 2 {
            if !dual_stack {
                return Err(CidrError::NotDualStack);
            }
            if IpFamily::of_net(&nets[0]) == IpFamily::of_net(&nets[1]) {
                return Err(CidrError::SameFamily);
            }
        }
        Ok(Self(nets))
    }

    pub fn nets(&self) -> &[IpNet] {
        &self.0
    }

    pub fn v4(&self) -> Option<&IpNet> {
        self.0.iter().find(|n| IpFamily::of_net(n) == IpFamily::V4)
    }

    pub fn v6(&self) -> Option<&IpNet> {
        self.0.iter().find(|n| IpFamily::of_net(n) == IpFamily::V6)
    }

    pub fn get(&self, family: IpFamily) -> Option<&IpNet> {
        match family {
            IpFamily::V4 => self.v4(),
            IpFamily::V6 => self.v6(),
        }
    }

    /// One network of each family.
    pub fn is_dual(&self) -> bool {
        self.v4().is_some() && self.v6().is_some()
    }

    pub fn contains(&self, ip: &IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The first pair of networks (one from each side) that overlap.
    pub fn overlap_with(&self, other: &Cidrs) -> Option<(IpNet, IpNet)> {
        self.0
            .iter()
            .find_map(|a| other.0.iter().find(|b| overlaps(a, b)).map(|b| (*a, *b)))
    }
}

impl fmt::Display for Cidrs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(","))
    }
}

/// Whether two networks share at least one address. Networks of different families never do.
pub fn overlaps(a: &IpNet, b: &IpNet) -> bool {
    let (a, b) = (a.trunc(), b.trunc());
    a.contains(&b) || b.contains(&a)
}

pub fn contains_ip(net: &IpNet, ip: &IpAddr) -> bool {
    net.contains(ip)
}

/// Addresses in a network, saturating at `u128::MAX` for an IPv6 `/0`.
pub fn address_count(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len().saturating_sub(net.prefix_len()));
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

/// ClusterIP addresses a service CIDR offers: every address but the network address (and the
/// broadcast address in IPv4), as the Kubernetes allocator hands them out.
pub fn service_capacity(net: &IpNet) -> u128 {
    let n = address_count(net);
    match net {
        IpNet::V4(_) if net.prefix_len() < 31 => n.saturating_sub(2),
        _ => n.saturating_sub(1),
    }
}

/// Smallest service CIDR that works: kubeadm puts the DNS service on the 10th address.
pub const MIN_SERVICE_ADDRESSES: u128 = 10;

/// The per-node mask that gives each node room for `pods_per_node` pod IPs:
/// `bits - ceil(log2(pods_per_node))`. `None` when `pods_per_node` is zero or exceeds the family.
pub fn node_mask_size(family: IpFamily, pods_per_node: u64) -> Option<u8> {
    if pods_per_node == 0 {
        return None;
    }
    let bits_needed = u64::BITS - (pods_per_node - 1).leading_zeros();
    let bits_needed = u8::try_from(bits_needed).ok()?;
    family.bits().checked_sub(bits_needed)
}

/// The most nodes a Flannel cluster CIDR can hold, each node getting a block of
/// `pods_per_node` addresses: `2^(node mask - CIDR prefix)`. `Some(0)` when one node's block is
/// already larger than the CIDR; `None` when `pods_per_node` is zero.
pub fn flannel_max_nodes(cluster_cidr: &IpNet, pods_per_node: u64) -> Option<u128> {
    let mask = node_mask_size(IpFamily::of_net(cluster_cidr), pods_per_node)?;
    Some(match mask.checked_sub(cluster_cidr.prefix_len()) {
        Some(diff) => 1u128.checked_shl(u32::from(diff)).unwrap_or(u128::MAX),
        None => 0,
    })
}

/// Whether two addresses fall in the same network of the given prefix length.
pub fn same_subnet(a: &IpAddr, b: &IpAddr, prefix_len: u8) -> bool {
    if IpFamily::of_addr(a) != IpFamily::of_addr(b) {
        return false;
    }
    match IpNet::new(*a, prefix_len) {
        Ok(net) => net.trunc().contains(b),
        Err(_) => false,
    }
}

/// Default prefix assumed for "same subnet" when a node's netmask is unknown.
pub fn assumed_host_prefix(family: IpFamily) -> u8 {
    match family {
        IpFamily::V4 => 24,
        IpFamily::V6 => 64,
    }
}

/// A literal IP address, trimmed; `None` for anything else.
pub fn parse_ip(s: &str) -> Option<IpAddr> {
    s.trim().parse().ok()
}

/// An RFC 1123 DNS name: labels of letters, digits and inner hyphens, at most 63 characters
/// each and 253 in all, not all-numeric at the end (that would be an IP-like string).
pub fn is_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    if !labels.iter().all(label_ok) {
        return false;
    }
    labels
        .last()
        .is_some_and(|tld| !tld.bytes().all(|b| b.is_ascii_digit()))
}

/// Why a `host:port` address does not parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HostPortError {
    #[error("the address is empty")]
    Empty,
    #[error("`{0}` has no port; write it as host:port, e.g. 192.168.1.1:1080")]
    MissingPort(String),
    #[error("`{0}` is not a port number between 1 and 65535")]
    BadPort(String),
    #[error("`{0}` is neither an IP address nor a domain name")]
    BadHost(String),
}

/// `host:port` with an IPv4 address, a domain or a bracketed IPv6 address (`[fd00::1]:1080`).
pub fn parse_host_port(s: &str) -> Result<(String, u16), HostPortError> {
    let t = s.trim();
    if t.is_empty() {
        return Err(HostPortError::Empty);
    }
    let (host, port) = if let Some(rest) = t.strip_prefix('[') {
        let (h, after) = rest
            .split_once(']')
            .ok_or_else(|| HostPortError::BadHost(t.to_string()))?;
        let p = after
            .strip_prefix(':')
            .ok_or_else(|| HostPortError::MissingPort(t.to_string()))?;
        if h.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(HostPortError::BadHost(h.to_string()));
        }
        (h, p)
    } else {
        let (h, p) = t
            .rsplit_once(':')
            .ok_or_else(|| HostPortError::MissingPort(t.to_string()))?;
        if h.contains(':') {
            // An unbracketed IPv6 address: the last group is not a port.
            return Err(HostPortError::BadHost(h.to_string()));
        }
        if h.parse::<std::net::Ipv4Addr>().is_err() && !is_domain(h) {
            return Err(HostPortError::BadHost(h.to_string()));
        }
        (h, p)
    };
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok((host.to_string(), p)),
        _ => Err(HostPortError::BadPort(port.to_string())),
    }
}

/// An inclusive range of addresses of one family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpRange {
    pub start: IpAddr,
    pub end: IpAddr,
}

impl IpRange {
    pub fn contains(&self, ip: &IpAddr) -> bool {
        IpFamily::of_addr(ip) == IpFamily::of_addr(&self.start)
            && *ip >= self.start
            && *ip <= self.end
    }
}

impl fmt::Display for IpRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.start == self.end {
            write!(f, "{}", self.start)
        } else {
            write!(f, "{}..{}", self.start, self.end)
        }
    }
}

/// Kube-OVN's reserved-IP list: comma-separated addresses or `a..b` ranges
/// (`10.3.0.1,10.3.0.10..10.3.0.20`). Empty input gives an empty list.
pub fn parse_ip_ranges(s: &str) -> Result<Vec<IpRange>, String> {
    let mut out = Vec::new();
    for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (a, b) = match item.split_once("..") {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (item, item),
        };
        let (Some(start), Some(end)) = (parse_ip(a), parse_ip(b)) else {
            return Err(format!(
                "`{item}` is neither an IP address nor a range like 10.3.0.10..10.3.0.20"
            ));
        };
        if IpFamily::of_addr(&start) != IpFamily::of_addr(&end) {
            return Err(format!("`{item}` mixes IPv4 and IPv6"));
        }
        if start > end {
            return Err(format!("`{item}` starts after it ends"));
        }
        out.push(IpRange { start, end });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn net(s: &str) -> IpNet {
        s.parse().expect("test CIDR")
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("test IP")
    }

    #[test]
    fn parses_single_and_dual_stack() {
        let c = Cidrs::parse("10.3.0.0/16", false).expect("single");
        assert_eq!(c.nets().len(), 1);
        assert!(!c.is_dual());
        let d = Cidrs::parse(" 10.3.0.0/16 , fd00:10:16::/64 ", true).expect("dual");
        assert!(d.is_dual());
        assert_eq!(d.to_string(), "10.3.0.0/16,fd00:10:16::/64");
        assert_eq!(d.v6(), Some(&net("fd00:10:16::/64")));
        assert_eq!(d.get(IpFamily::V4), Some(&net("10.3.0.0/16")));
    }

    #[test]
    fn rejects_bad_cidrs() {
        assert_eq!(Cidrs::parse("", false), Err(CidrError::Empty));
        assert_eq!(Cidrs::parse(" , ", true), Err(CidrError::Empty));
        assert!(matches!(
            Cidrs::parse("10.3.0.0", false),
            Err(CidrError::Invalid(_))
        ));
        assert!(matches!(
            Cidrs::parse("10.3.0.0/33", false),
            Err(CidrError::Invalid(_))
        ));
        assert!(
            matches!(Cidrs::parse("10.3.1.0/16", false), Err(CidrError::HostBits(_, n)) if n == net("10.3.0.0/16"))
        );
        assert_eq!(
            Cidrs::parse("10.3.0.0/16,fd00::/64", false),
            Err(CidrError::NotDualStack)
        );
        assert_eq!(
            Cidrs::parse("10.3.0.0/16,10.4.0.0/16", true),
            Err(CidrError::SameFamily)
        );
        assert_eq!(
            Cidrs::parse("10.3.0.0/16,fd00::/64,10.5.0.0/16", true),
            Err(CidrError::TooMany)
        );
    }

    #[test]
    fn overlap_and_containment() {
        assert!(overlaps(&net("10.0.0.0/8"), &net("10.3.0.0/16")));
        assert!(overlaps(&net("10.3.0.0/16"), &net("10.0.0.0/8")));
        assert!(!overlaps(&net("10.3.0.0/16"), &net("10.4.0.0/16")));
        assert!(!overlaps(&net("10.3.0.0/16"), &net("fd00::/8")));
        let a = Cidrs::parse("10.3.0.0/16,fd00:10:16::/64", true).expect("a");
        let b = Cidrs::parse("10.4.0.0/16,fd00:10::/32", true).expect("b");
        assert_eq!(
            a.overlap_with(&b),
            Some((net("fd00:10:16::/64"), net("fd00:10::/32")))
        );
        assert!(a.contains(&ip("10.3.2.1")));
        assert!(!a.contains(&ip("10.4.2.1")));
        assert!(contains_ip(&net("192.168.0.0/24"), &ip("192.168.0.200")));
    }

    #[test]
    fn capacity_math() {
        assert_eq!(address_count(&net("10.4.0.0/16")), 65536);
        assert_eq!(address_count(&net("::/0")), u128::MAX);
        assert_eq!(address_count(&net("fd00::/1")), 1u128 << 127);
        assert_eq!(service_capacity(&net("10.4.0.0/28")), 14);
        assert_eq!(service_capacity(&net("10.4.0.0/32")), 0);
        assert_eq!(service_capacity(&net("fd00::/124")), 15);
    }

    #[test]
    fn flannel_node_limit() {
        // /16 with 256 pod IPs per node: /24 per node, 256 nodes.
        assert_eq!(flannel_max_nodes(&net("10.3.0.0/16"), 256), Some(256));
        // 110 pods still need a /25 block (128 addresses).
        assert_eq!(node_mask_size(IpFamily::V4, 110), Some(25));
        assert_eq!(flannel_max_nodes(&net("10.3.0.0/16"), 110), Some(512));
        assert_eq!(flannel_max_nodes(&net("10.3.0.0/24"), 512), Some(0));
        assert_eq!(flannel_max_nodes(&net("10.3.0.0/16"), 0), None);
        assert_eq!(node_mask_size(IpFamily::V4, 1), Some(32));
        assert_eq!(node_mask_size(IpFamily::V4, u64::MAX), None);
        assert_eq!(node_mask_size(IpFamily::V6, 256), Some(120));
    }

    #[test]
    fn subnet_and_names() {
        assert!(same_subnet(&ip("192.168.0.10"), &ip("192.168.0.11"), 24));
        assert!(!same_subnet(&ip("192.168.0.10"), &ip("192.168.1.11"), 24));
        assert!(!same_subnet(&ip("192.168.0.10"), &ip("fd00::1"), 24));
        assert!(!same_subnet(&ip("192.168.0.10"), &ip("192.168.0.11"), 40));
        assert!(is_domain("k8s.example.com"));
        assert!(is_domain("localhost"));
        assert!(!is_domain("10.0.0.1"));
        assert!(!is_domain("-bad.example.com"));
        assert!(!is_domain("a..b"));
        assert!(!is_domain(&"a".repeat(64)));
    }

    #[test]
    fn host_port() {
        assert_eq!(
            parse_host_port("192.168.1.1:1080"),
            Ok(("192.168.1.1".into(), 1080))
        );
        assert_eq!(
            parse_host_port("[fd00::1]:1080"),
            Ok(("fd00::1".into(), 1080))
        );
        assert_eq!(
            parse_host_port("proxy.example.com:1080"),
            Ok(("proxy.example.com".into(), 1080))
        );
        assert!(matches!(
            parse_host_port("192.168.1.1"),
            Err(HostPortError::MissingPort(_))
        ));
        assert!(matches!(
            parse_host_port("192.168.1.1:0"),
            Err(HostPortError::BadPort(_))
        ));
        assert!(matches!(
            parse_host_port("192.168.1.1:70000"),
            Err(HostPortError::BadPort(_))
        ));
        assert!(matches!(
            parse_host_port("fd00::1:1080"),
            Err(HostPortError::BadHost(_))
        ));
        assert!(matches!(
            parse_host_port("bad host:1"),
            Err(HostPortError::BadHost(_))
        ));
        assert_eq!(parse_host_port(""), Err(HostPortError::Empty));
    }

    #[test]
    fn reserved_ranges() {
        let r = parse_ip_ranges("10.3.0.1, 10.3.0.10..10.3.0.20").expect("ranges");
        assert_eq!(r.len(), 2);
        assert!(r[1].contains(&ip("10.3.0.15")));
        assert!(!r[1].contains(&ip("10.3.0.21")));
        assert_eq!(r[1].to_string(), "10.3.0.10..10.3.0.20");
        assert!(parse_ip_ranges("").expect("empty").is_empty());
        assert!(parse_ip_ranges("10.3.0.20..10.3.0.10").is_err());
        assert!(parse_ip_ranges("10.3.0.1..fd00::1").is_err());
        assert!(parse_ip_ranges("nope").is_err());
    }

    fn any_net() -> impl Strategy<Value = IpNet> {
        prop_oneof![
            (any::<u32>(), 0u8..=32).prop_map(|(a, p)| {
                IpNet::new(IpAddr::V4(a.into()), p)
                    .map(|n| n.trunc())
                    .expect("valid v4 prefix")
            }),
            (any::<u128>(), 0u8..=128).prop_map(|(a, p)| {
                IpNet::new(IpAddr::V6(a.into()), p)
                    .map(|n| n.trunc())
                    .expect("valid v6 prefix")
            }),
        ]
    }

    proptest! {
        #[test]
        fn overlap_is_symmetric(a in any_net(), b in any_net()) {
            prop_assert_eq!(overlaps(&a, &b), overlaps(&b, &a));
            prop_assert!(overlaps(&a, &a));
        }

        #[test]
        fn overlap_matches_shared_network_address(a in any_net(), b in any_net()) {
            let shared = a.contains(&b.network()) || b.contains(&a.network());
            prop_assert_eq!(overlaps(&a, &b), shared);
        }

        #[test]
        fn parsers_never_panic(s in ".{0,64}", dual in any::<bool>()) {
            let _ = Cidrs::parse(&s, dual);
            let _ = parse_cidr(&s);
            let _ = parse_host_port(&s);
            let _ = parse_ip_ranges(&s);
            let _ = is_domain(&s);
            let _ = parse_ip(&s);
        }

        #[test]
        fn cidr_like_input_never_panics(a in any::<[u8; 4]>(), p in any::<u8>(), dual in any::<bool>()) {
            let s = format!("{}.{}.{}.{}/{}", a[0], a[1], a[2], a[3], p);
            if let Ok(c) = Cidrs::parse(&s, dual) {
                prop_assert_eq!(Cidrs::parse(&c.to_string(), dual), Ok(c));
            }
        }

        #[test]
        fn math_never_panics(n in any_net(), pods in any::<u64>(), x in any::<u128>(), y in any::<u128>(), p in any::<u8>()) {
            let _ = address_count(&n);
            let _ = service_capacity(&n);
            if let (IpNet::V4(_), Some(max), Some(mask)) =
                (n, flannel_max_nodes(&n, pods), node_mask_size(IpFamily::V4, pods))
            {
                let block = 1u128 << (32 - u32::from(mask));
                if max > 0 {
                    // The node blocks tile the CIDR exactly.
                    prop_assert_eq!(max * block, address_count(&n));
                } else {
                    prop_assert!(block > address_count(&n));
                }
                prop_assert!(block >= u128::from(pods));
            }
            let _ = same_subnet(&IpAddr::V6(x.into()), &IpAddr::V6(y.into()), p);
        }
    }
}

//! Probe stdout to [`NodeFacts`]. Total over any input: unknown sections, keys and lines are
//! skipped, malformed values leave their field `None`.

use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::facts::{
    Addr, DiskFree, DmiUuid, HostsEntry, Link, Listener, NodeFacts, OsRelease, PathState, Route,
    SudoAccess,
};
use super::probe::{LEFTOVER_PATHS, section};

/// The probe's sections, split: `kv[section][key] = value`, `raw[section] = lines`.
#[derive(Default)]
struct Sections<'a> {
    version: Option<u32>,
    complete: bool,
    missing: Vec<&'a str>,
    kv: BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>,
    raw: BTreeMap<&'a str, Vec<&'a str>>,
}

enum Current<'a> {
    None,
    Kv(&'a str),
    Raw(&'a str),
}

fn split_sections(out: &str) -> Sections<'_> {
    let mut s = Sections::default();
    let mut cur = Current::None;
    for line in out.lines() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some(rest) = line.strip_prefix("@@") {
            let (word, arg) = rest.split_once(' ').unwrap_or((rest, ""));
            let arg = arg.trim();
            match word {
                "acp-probe" => s.version = arg.parse().ok(),
                "kv" => {
                    cur = Current::Kv(arg);
                    s.kv.entry(arg).or_default();
                }
                "raw" => {
                    cur = Current::Raw(arg);
                    s.raw.entry(arg).or_default();
                }
                "missing" if !arg.is_empty() => s.missing.push(arg),
                "end" => {
                    s.complete = true;
                    cur = Current::None;
                }
                _ => {}
            }
            continue;
        }
        match cur {
            Current::Kv(name) => {
                if let Some((k, v)) = line.split_once('=') {
                    s.kv.entry(name).or_default().insert(k.trim(), v.trim());
                }
            }
            Current::Raw(name) => {
                if let Some(text) = line.strip_prefix('|') {
                    s.raw.entry(name).or_default().push(text);
                }
            }
            Current::None => {}
        }
    }
    s
}

/// Reads the probe's stdout. Never panics; whatever cannot be read stays `None`.
pub fn parse_probe_output(out: &str) -> NodeFacts {
    let s = split_sections(out);
    let kv = |sec: &str, key: &str| -> Option<&str> {
        s.kv.get(sec)?.get(key).copied().filter(|v| !v.is_empty())
    };
    let text = |sec: &str, key: &str| kv(sec, key).map(str::to_string);
    let mut f = NodeFacts {
        probe_version: s.version,
        complete: s.complete,
        missing_tools: s.missing.iter().map(|t| t.to_string()).collect(),
        clock: kv(section::CLOCK, "now").and_then(parse_epoch),
        uid: kv(section::IDENTITY, "uid").and_then(|v| v.parse().ok()),
        user: text(section::IDENTITY, "user"),
        sudo: kv(section::IDENTITY, "sudo").and_then(SudoAccess::parse),
        arch: text(section::PLATFORM, "arch"),
        long_bit: kv(section::PLATFORM, "long_bit").and_then(|v| v.parse().ok()),
        kernel: text(section::PLATFORM, "kernel"),
        hostname: text(section::PLATFORM, "hostname"),
        cpus: kv(section::PLATFORM, "cpus").and_then(|v| v.parse().ok()),
        mem_total_kib: kv(section::PLATFORM, "mem_total_kb").and_then(|v| v.parse().ok()),
        machine_id: text(section::PLATFORM, "machine_id"),
        product_uuid: kv(section::PLATFORM, "product_uuid").map(|v| match v {
            "unreadable" => DmiUuid::Unreadable,
            "absent" => DmiUuid::Absent,
            v => DmiUuid::Value(v.to_string()),
        }),
        iptable_nat: kv(section::PLATFORM, "iptable_nat").and_then(|v| match v {
            "found" => Some(true),
            "notfound" => Some(false),
            _ => None,
        }),
        privileged: kv(section::PATHS, "privileged").map(|v| v == "yes"),
        firewalld: text(section::SECURITY, "firewalld"),
        selinux: text(section::SECURITY, "selinux"),
        ufw: text(section::SECURITY, "ufw"),
        ip_forward: text(section::SYSCTL, "ip_forward"),
        bridge_nf_call_iptables: text(section::SYSCTL, "bridge_nf_call_iptables"),
        ntp_synced: text(section::TIME, "ntp_synced"),
        timezone: text(section::TIME, "timezone"),
        ..NodeFacts::default()
    };
    f.os = s.raw.get(section::OS_RELEASE).map(|l| parse_os_release(l));
    f.var_lib = s.raw.get(section::DF_VAR_LIB).and_then(|l| parse_df(l));
    f.var_log = s.raw.get(section::DF_VAR_LOG).and_then(|l| parse_df(l));
    f.listeners = listeners(&s);
    f.paths = paths(&s);
    if let Some(bins) = s.kv.get(section::BINARIES) {
        f.binaries = bins
            .iter()
            .map(|(k, v)| {
                let path = (!v.is_empty() && *v != "missing").then(|| v.to_string());
                (k.to_string(), path)
            })
            .collect();
    }
    f.swaps = s.raw.get(section::SWAPS).map(|l| parse_swaps(l));
    if let Some(l) = s.raw.get(section::IP_LINK) {
        f.links = Some(l.iter().filter_map(|l| parse_ip_link(l)).collect());
    } else if let Some(l) = s.raw.get(section::SYS_CLASS_NET) {
        f.links = Some(l.iter().filter_map(|l| parse_sys_net(l)).collect());
    }
    f.addrs = s
        .raw
        .get(section::IP_ADDR)
        .map(|l| l.iter().filter_map(|l| parse_ip_addr(l)).collect());
    f.default_routes_v4 = s.raw.get(section::IP_ROUTE).map(|l| parse_routes(l));
    f.default_routes_v6 = s.raw.get(section::IP_ROUTE6).map(|l| parse_routes(l));
    f.hosts = s.raw.get(section::HOSTS).map(|l| parse_hosts(l));
    f
}

/// `date +%s.%N`. A `date` without `%N` prints it literally; the whole seconds still count.
pub fn parse_epoch(v: &str) -> Option<f64> {
    let v = v.trim();
    let (secs, frac) = v.split_once('.').unwrap_or((v, ""));
    if secs.is_empty() || secs.len() > 12 || !secs.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let digits: String = frac
        .chars()
        .take_while(char::is_ascii_digit)
        .take(20)
        .collect();
    // Parsed as one number so that a value rendered with `{}` reads back bit for bit.
    format!("{secs}.{digits}0").parse().ok()
}

fn parse_os_release(lines: &[&str]) -> OsRelease {
    let mut os = OsRelease::default();
    for l in lines {
        let Some((k, v)) = l.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches(|c| c == '"' || c == '\'').to_string();
        match k.trim() {
            "ID" => os.id = v,
            "VERSION_ID" => os.version_id = v,
            "PRETTY_NAME" => os.pretty_name = v,
            _ => {}
        }
    }
    os
}

/// `df -P -k`: a header, then `filesystem blocks used available capacity mountpoint`.
fn parse_df(lines: &[&str]) -> Option<DiskFree> {
    lines.iter().find_map(|l| {
        let cols: Vec<&str> = l.split_whitespace().collect();
        if cols.len() < 6 {
            return None;
        }
        let avail_kib = cols[3].parse().ok()?;
        Some(DiskFree {
            filesystem: cols[0].to_string(),
            avail_kib,
            mount: cols[5..].join(" "),
        })
    })
}

fn listeners(s: &Sections<'_>) -> Option<Vec<Listener>> {
    if let Some(lines) = s.raw.get(section::SS) {
        return Some(lines.iter().filter_map(|l| parse_ss_line(l)).collect());
    }
    let v4 = s.raw.get(section::PROC_NET_TCP);
    let v6 = s.raw.get(section::PROC_NET_TCP6);
    if v4.is_none() && v6.is_none() {
        return None;
    }
    Some(
        v4.into_iter()
            .chain(v6)
            .flatten()
            .filter_map(|l| parse_proc_net_tcp(l))
            .collect(),
    )
}

/// One line of `ss -Htlnup` (or `ss -tlnup`, whose header is skipped):
/// `tcp LISTEN 0 4096 0.0.0.0:6443 0.0.0.0:* users:(("kube-apiserver",pid=12,fd=3))`.
fn parse_ss_line(line: &str) -> Option<Listener> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    let proto = cols.first()?.to_ascii_lowercase();
    if proto != "tcp" && proto != "udp" {
        return None;
    }
    let local = cols.get(4)?;
    let (addr, port) = local.rsplit_once(':')?;
    let port = port.parse().ok()?;
    let users = cols.iter().skip(6).find(|c| c.starts_with("users:"));
    let (process, pid) = users.map(|u| parse_ss_users(u)).unwrap_or((None, None));
    Some(Listener {
        proto,
        addr: addr.to_string(),
        port,
        process,
        pid,
    })
}

/// `users:(("sshd",pid=801,fd=3),("sshd",pid=1,fd=3))`: the first process named.
fn parse_ss_users(u: &str) -> (Option<String>, Option<u32>) {
    let name = u
        .split_once("((\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(n, _)| n.to_string())
        .filter(|n| !n.is_empty());
    let pid = u
        .split_once("pid=")
        .map(|(_, rest)| {
            rest.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        })
        .and_then(|d| d.parse().ok());
    (name, pid)
}

/// One row of /proc/net/tcp or tcp6; only sockets in state 0A (LISTEN).
fn parse_proc_net_tcp(line: &str) -> Option<Listener> {
    let cols: Vec<&str> = line.split_whitespace().collect();
    if cols.get(3) != Some(&"0A") {
        return None;
    }
    let (addr_hex, port_hex) = cols.get(1)?.split_once(':')?;
    let port = u16::from_str_radix(port_hex, 16).ok()?;
    let addr = hex_addr(addr_hex)?;
    let addr = match addr {
        IpAddr::V4(a) => a.to_string(),
        IpAddr::V6(a) => format!("[{a}]"),
    };
    Some(Listener {
        proto: "tcp".into(),
        addr,
        port,
        process: None,
        pid: None,
    })
}

/// The kernel prints each 32-bit word of the address in host (little-endian) order.
fn hex_addr(h: &str) -> Option<IpAddr> {
    if !h.is_ascii() {
        return None;
    }
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(h.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_le_bytes())
    };
    match h.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(0)?))),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(b)))
        }
        _ => None,
    }
}

fn paths(s: &Sections<'_>) -> BTreeMap<String, PathState> {
    let Some(kv) = s.kv.get(section::PATHS) else {
        return BTreeMap::new();
    };
    LEFTOVER_PATHS
        .iter()
        .filter_map(|p| {
            let state = match *kv.get(p)? {
                "absent" => PathState::Absent,
                "empty-dir" => PathState::EmptyDir,
                "file" => PathState::File,
                "dir" => {
                    let key = format!("{p}.entries");
                    let entries = kv.get(key.as_str()).copied().unwrap_or("");
                    PathState::Dir(
                        entries
                            .split_whitespace()
                            .take(5)
                            .map(str::to_string)
                            .collect(),
                    )
                }
                _ => PathState::Unknown,
            };
            Some((p.to_string(), state))
        })
        .collect()
}

/// /proc/swaps: a header, then one active swap area per line.
fn parse_swaps(lines: &[&str]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !l.starts_with("Filename"))
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

/// `4: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 ... state UP ... \    link/ether 52:54:00:12:34:56 brd ...`
fn parse_ip_link(line: &str) -> Option<Link> {
    let mut it = line.split_whitespace();
    let index = it.next()?;
    index.strip_suffix(':')?.parse::<u32>().ok()?;
    let name = it.next()?.strip_suffix(':')?;
    // A veth or VLAN prints `name@peer`; the device is known by `name`.
    let name = name.split('@').next().unwrap_or(name);
    let flags = it.next()?.strip_prefix('<')?.strip_suffix('>')?;
    let up = flags.split(',').any(|f| f == "UP");
    let rest: Vec<&str> = it.collect();
    let after = |key: &str| {
        rest.iter()
            .position(|w| *w == key)
            .and_then(|i| rest.get(i + 1))
    };
    let state = after("state").map_or("UNKNOWN", |s| s).to_string();
    let mac = after("link/ether").map(|m| m.to_ascii_lowercase());
    (!name.is_empty()).then(|| Link {
        name: name.to_string(),
        up,
        state,
        mac,
    })
}

/// `eth0 up 52:54:00:12:34:56` from /sys/class/net when `ip` is missing.
fn parse_sys_net(line: &str) -> Option<Link> {
    let mut it = line.split_whitespace();
    let name = it.next()?;
    let name = name.split('@').next().unwrap_or(name).to_string();
    let oper = it.next()?;
    let mac = it.next().map(str::to_ascii_lowercase);
    let up = !oper.eq_ignore_ascii_case("down");
    (!name.is_empty()).then(|| Link {
        name,
        up,
        state: oper.to_ascii_uppercase(),
        mac,
    })
}

/// `2: eth0    inet 10.0.0.5/24 brd 10.0.0.255 scope global eth0\ ...`.
fn parse_ip_addr(line: &str) -> Option<Addr> {
    let mut it = line.split_whitespace();
    it.next()?.strip_suffix(':')?.parse::<u32>().ok()?;
    let dev = it.next()?;
    let dev = dev.split('@').next().unwrap_or(dev).to_string();
    let family = it.next()?;
    if family != "inet" && family != "inet6" {
        return None;
    }
    let (ip, prefix) = it.next()?.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let prefix: u8 = prefix.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (prefix <= max).then_some(Addr { dev, ip, prefix })
}

/// `default via 10.0.0.1 dev eth0 proto dhcp src 10.0.0.5 metric 100`.
fn parse_routes(lines: &[&str]) -> Vec<Route> {
    lines
        .iter()
        .filter(|l| l.split_whitespace().next() == Some("default"))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let after = |k: &str| {
                w.iter()
                    .position(|x| *x == k)
                    .and_then(|i| w.get(i + 1))
                    .map(|s| s.to_string())
            };
            Route {
                via: after("via"),
                dev: after("dev"),
            }
        })
        .collect()
}

fn parse_hosts(lines: &[&str]) -> Vec<HostsEntry> {
    lines
        .iter()
        .filter_map(|l| {
            let l = l.split('#').next().unwrap_or("");
            let mut w = l.split_whitespace();
            let ip = w.next()?.to_string();
            let names: Vec<String> = w.map(str::to_string).collect();
            (!names.is_empty()).then_some(HostsEntry { ip, names })
        })
        .collect()
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;

//! The node probe run on this machine with the system `sh`, its parsed facts held against
//! what the test reads from the machine itself.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use acp_cockpit::domain::preflight::catalogue::Role;
use acp_cockpit::domain::preflight::facts::{
    NodeFacts, PathState, SudoAccess, parse_probe_output, render_probe_output,
};
use acp_cockpit::domain::preflight::matrix::normalize_arch;
use acp_cockpit::domain::preflight::probe::{
    CLOCK_COMMAND, PROBE_SCRIPT, parse_clock_output, probe_command,
};
use acp_cockpit::domain::preflight::{NodeInput, Requirements, Verdict, evaluate_node};

/// The probe bounds each of its commands to 5 s; this bounds the whole run so that a
/// regression shows as a failure instead of a hung test.
const RUN_LIMIT: Duration = Duration::from_secs(120);

fn run(mut cmd: Command, stdin: Option<&str>) -> String {
    cmd.stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn sh");
    if let Some(text) = stdin {
        let mut pipe = child.stdin.take().expect("stdin");
        pipe.write_all(text.as_bytes()).expect("write the script");
    }
    let start = Instant::now();
    loop {
        if child.try_wait().expect("wait").is_some() {
            break;
        }
        if start.elapsed() > RUN_LIMIT {
            let _ = child.kill();
            panic!("the probe ran longer than {RUN_LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().expect("output");
    assert!(
        out.status.success(),
        "probe exit {:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// As the engine sends it over SSH: one command line for the login shell.
fn probe_via_command_line() -> String {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(probe_command());
    run(cmd, None)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn meminfo_total_kib() -> u64 {
    read("/proc/meminfo")
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("MemTotal")
}

fn cpuinfo_processors() -> u32 {
    read("/proc/cpuinfo")
        .lines()
        .filter(|l| l.split(':').next().map(str::trim) == Some("processor"))
        .count() as u32
}

fn effective_uid() -> u32 {
    read("/proc/self/status")
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|v| v.split_whitespace().nth(1)?.parse().ok())
        .expect("Uid line")
}

fn os_release_id() -> Option<String> {
    let text = std::fs::read_to_string("/etc/os-release")
        .or_else(|_| std::fs::read_to_string("/usr/lib/os-release"))
        .ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("ID="))
        .map(|v| v.trim_matches('"').to_string())
}

fn check_against_this_machine(f: &NodeFacts) {
    assert_eq!(f.probe_version, Some(1));
    assert!(f.complete, "the probe ran to @@end");
    assert_eq!(
        f.arch.as_deref().map(normalize_arch),
        Some(normalize_arch(std::env::consts::ARCH))
    );
    assert_eq!(f.long_bit, Some(usize::BITS));
    assert_eq!(
        f.kernel.as_deref(),
        Some(read("/proc/sys/kernel/osrelease").trim())
    );
    assert_eq!(
        f.hostname.as_deref(),
        Some(read("/proc/sys/kernel/hostname").trim())
    );
    assert_eq!(f.mem_total_kib, Some(meminfo_total_kib()));
    let cpus = f.cpus.expect("cpu count");
    assert_eq!(
        cpus,
        cpuinfo_processors(),
        "online CPUs are the processors /proc/cpuinfo lists"
    );
    let usable = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1);
    assert!(
        usable <= cpus,
        "this process may use {usable} of {cpus} CPUs"
    );
    assert_eq!(f.uid, Some(effective_uid()));
    if let Some(id) = os_release_id() {
        assert_eq!(f.os.as_ref().map(|o| o.id.clone()), Some(id));
    }
    if let Ok(mid) = std::fs::read_to_string("/etc/machine-id") {
        assert_eq!(f.machine_id.as_deref(), Some(mid.trim()));
    }
    let clock = f.clock.expect("clock");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("epoch")
        .as_secs_f64();
    assert!(
        (now - clock).abs() < RUN_LIMIT.as_secs_f64(),
        "the probe's clock {clock} is this machine's {now}"
    );
    // Addresses and interfaces, when `ip` is there, include loopback as the kernel lists it.
    if !f.is_missing("ip") {
        let addrs = f.addrs.as_ref().expect("ip -o addr");
        if std::path::Path::new("/sys/class/net/lo").exists() {
            assert!(
                addrs.iter().any(|a| a.dev == "lo" && a.ip.is_loopback()),
                "{addrs:?}"
            );
            assert!(f.link("lo").is_some());
        }
        let sys_links = std::fs::read_dir("/sys/class/net")
            .map(|d| d.count())
            .unwrap_or(0);
        assert_eq!(
            f.links.as_ref().map(Vec::len),
            Some(sys_links),
            "every interface in /sys/class/net"
        );
    }
    assert!(f.listeners.is_some(), "ss or /proc/net/tcp");
    assert!(
        f.var_lib.as_ref().is_some_and(|d| d.avail_kib > 0),
        "df /var/lib"
    );
}

#[test]
fn the_probe_reports_this_machine_as_it_is() {
    let out = probe_via_command_line();
    let f = parse_probe_output(&out);
    check_against_this_machine(&f);
    assert_eq!(
        parse_probe_output(&render_probe_output(&f)),
        f,
        "what a simulated node would print parses the same"
    );
}

#[test]
fn the_script_on_stdin_gives_the_same_facts_as_the_command_line() {
    let mut cmd = Command::new("sh");
    cmd.arg("-s");
    let f = parse_probe_output(&run(cmd, Some(PROBE_SCRIPT)));
    check_against_this_machine(&f);
    let g = parse_probe_output(&probe_via_command_line());
    assert_eq!(
        (f.arch, f.cpus, f.mem_total_kib, f.hostname),
        (g.arch, g.cpus, g.mem_total_kib, g.hostname)
    );
}

#[test]
fn the_clock_command_reads_this_machine_s_clock() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("epoch")
        .as_secs_f64();
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(CLOCK_COMMAND);
    let remote = parse_clock_output(&run(cmd, None)).expect("date output");
    assert!((remote - now).abs() < RUN_LIMIT.as_secs_f64());
}

#[test]
fn this_machine_evaluated_as_its_own_node() {
    let f = parse_probe_output(&probe_via_command_line());
    let req = Requirements {
        platform_arch: Some(std::env::consts::ARCH.to_string()),
        ..Requirements::default()
    };
    let mut input = NodeInput::new("localhost", Role::Worker);
    input.ipv4 = Some("127.0.0.1".parse().expect("loopback"));
    let results = evaluate_node(&input, &f, &req);
    let verdict = |id: &str| results.iter().find(|r| r.id == id).map(|r| r.verdict);
    assert_eq!(verdict("arch"), Some(Verdict::Pass));
    assert_eq!(verdict("probe-complete"), Some(Verdict::Pass));
    if effective_uid() == 0 {
        assert_eq!(verdict("root-or-sudo"), Some(Verdict::Pass));
    }
    if !f.is_missing("ip") {
        assert_eq!(
            verdict("ipv4-on-node"),
            Some(Verdict::Pass),
            "127.0.0.1 is on lo"
        );
    }
    for r in &results {
        assert!(!r.evidence.is_empty(), "{} has evidence", r.id);
    }
}

#[test]
fn without_root_the_probe_says_what_it_cannot_see() {
    let f = if effective_uid() == 0 {
        // Run as `nobody`, which has no sudo rights.
        let mut cmd = Command::new("setpriv");
        cmd.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "sh",
            "-c",
        ])
        .arg(probe_command());
        let f = parse_probe_output(&run(cmd, None));
        assert_eq!(f.uid, Some(65534));
        f
    } else {
        parse_probe_output(&probe_via_command_line())
    };
    let privileged = f.sudo == Some(SudoAccess::Passwordless);
    assert_eq!(f.privileged, Some(privileged));
    if !privileged {
        assert_eq!(f.paths.get("/root/.kube/config"), Some(&PathState::Unknown));
        let results = evaluate_node(
            &NodeInput::new("me", Role::Worker),
            &f,
            &Requirements::default(),
        );
        let verdict = |id: &str| results.iter().find(|r| r.id == id).map(|r| r.verdict);
        assert_eq!(verdict("root-or-sudo"), Some(Verdict::Fail));
        assert_eq!(
            verdict("leftover-root-kube-config"),
            Some(Verdict::CannotCheck)
        );
    }
}

#[test]
fn every_login_shell_on_this_machine_runs_the_command_line_alike() {
    // sshd hands the command line to the user's login shell with `-c`.
    let shells: Vec<&str> = ["/bin/sh", "/bin/bash", "/bin/dash", "/bin/zsh", "/bin/ksh"]
        .into_iter()
        .filter(|s| std::path::Path::new(s).exists())
        .collect();
    assert!(shells.contains(&"/bin/sh"));
    for shell in shells {
        let mut cmd = Command::new(shell);
        cmd.arg("-c").arg(probe_command());
        let f = parse_probe_output(&run(cmd, None));
        assert!(f.complete, "{shell}");
        check_against_this_machine(&f);
    }
}

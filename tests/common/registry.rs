//! A real distribution registry (Debian's `docker-registry`) on loopback with TLS and htpasswd,
//! started per test with the certificate the test wants. `scripts/test.sh` installs it.

#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};

pub const USER: &str = "reguser";
pub const PASSWORD: &str = "regpass";
pub const REPO: &str = "my-ns/my-app";
pub const TAG: &str = "v1";

/// The certificate the registry serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cert {
    /// For 127.0.0.1 and localhost, valid for 90 days.
    Good,
    /// For the right names, expired last year.
    Expired,
    /// Valid, but for `registry.example` only.
    OtherName,
    /// Valid for 10 days.
    ExpiringSoon,
}

pub struct RegistryPeer {
    child: Child,
    pub dir: tempfile::TempDir,
    pub port: u16,
    pub ca_pem: String,
}

impl Drop for RegistryPeer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn have(cmd: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {cmd}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// A running registry, or `None` with the reason on stderr (a failure under CI, where the
/// script must have installed it).
pub fn start(test: &str, cert: Cert, push: bool) -> Option<RegistryPeer> {
    let missing: Vec<&str> = ["docker-registry", "htpasswd", "curl"]
        .into_iter()
        .filter(|c| !have(c))
        .collect();
    if !missing.is_empty() {
        let reason = format!(
            "{} not installed: run the tests through scripts/test.sh, as root",
            missing.join(", ")
        );
        if std::env::var_os("CI").is_some() {
            panic!("{test}: {reason}");
        }
        eprintln!("skipping {test}: {reason}");
        return None;
    }
    Some(launch(cert, push))
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn certificates(cert: Cert) -> (String, String, String) {
    let ca_key = KeyPair::generate().expect("CA key");
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "registry test CA");
    ca.distinguished_name = dn;
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).expect("CA cert");
    let issuer = Issuer::new(ca, ca_key);
    let names = match cert {
        Cert::OtherName => vec!["registry.example".to_string()],
        _ => vec!["127.0.0.1".to_string(), "localhost".to_string()],
    };
    let key = KeyPair::generate().expect("leaf key");
    let mut leaf = CertificateParams::new(names).expect("leaf params");
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, "registry");
    leaf.distinguished_name = dn;
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let now = time_now();
    match cert {
        Cert::Expired => {
            leaf.not_before = rcgen::date_time_ymd(2024, 1, 1);
            leaf.not_after = rcgen::date_time_ymd(2025, 1, 1);
        }
        Cert::ExpiringSoon => {
            leaf.not_before = now - time::Duration::days(1);
            leaf.not_after = now + time::Duration::days(10);
        }
        _ => {
            leaf.not_before = now - time::Duration::days(1);
            leaf.not_after = now + time::Duration::days(90);
        }
    }
    let leaf_cert = leaf.signed_by(&key, &issuer).expect("leaf cert");
    (ca_cert.pem(), leaf_cert.pem(), key.serialize_pem())
}

fn time_now() -> time::OffsetDateTime {
    time::OffsetDateTime::now_utc()
}

fn launch(cert: Cert, push: bool) -> RegistryPeer {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    let (ca_pem, leaf_pem, key_pem) = certificates(cert);
    std::fs::write(d.join("ca.pem"), &ca_pem).expect("ca.pem");
    std::fs::write(d.join("cert.pem"), leaf_pem).expect("cert.pem");
    std::fs::write(d.join("key.pem"), key_pem).expect("key.pem");
    let htp = Command::new("htpasswd")
        .args(["-Bbn", USER, PASSWORD])
        .output()
        .expect("htpasswd runs");
    std::fs::write(d.join("htpasswd"), htp.stdout).expect("htpasswd file");
    let port = free_port();
    let cfg = format!(
        "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {root}/data\n\
         http:\n  addr: 127.0.0.1:{port}\n  secret: test-only\n  tls:\n    certificate: {root}/cert.pem\n    key: {root}/key.pem\n\
         auth:\n  htpasswd:\n    realm: test-registry\n    path: {root}/htpasswd\n",
        root = d.display()
    );
    std::fs::write(d.join("config.yml"), cfg).expect("config.yml");
    let log = std::fs::File::create(d.join("registry.log")).expect("log file");
    let child = Command::new("docker-registry")
        .arg("serve")
        .arg(d.join("config.yml"))
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("docker-registry starts");
    let peer = RegistryPeer {
        child,
        dir,
        port,
        ca_pem,
    };
    wait_listening(port, peer.dir.path());
    if push {
        push_image(peer.dir.path(), port);
    }
    peer
}

fn wait_listening(port: u16, dir: &Path) {
    let until = Instant::now() + Duration::from_secs(10);
    while Instant::now() < until {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = std::fs::read_to_string(dir.join("registry.log")).unwrap_or_default();
    panic!("docker-registry did not listen on {port}: {log}");
}

/// Pushes a one-layer OCI image as `my-ns/my-app:v1` with plain API calls (blobs first).
fn push_image(dir: &Path, port: u16) {
    let script = r#"
set -eu
REG=https://127.0.0.1:$PORT REPO=$REPO TAG=$TAG
C="curl -sSf --cacert $DIR/ca.pem -u $USERPASS"
W=$(mktemp -d -p "$DIR"); cd "$W"
printf '{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]},"config":{}}' > config.json
echo hello > hello.txt && tar -cf layer.tar hello.txt && gzip -n layer.tar
push_blob() {
  dg="sha256:$(sha256sum "$1" | cut -d' ' -f1)"
  loc=$($C -X POST -D - -o /dev/null "$REG/v2/$REPO/blobs/uploads/" | tr -d '\r' | awk -F': ' 'tolower($1)=="location"{print $2}')
  case "$loc" in http*) ;; *) loc="$REG$loc";; esac
  case "$loc" in *\?*) sep='&';; *) sep='?';; esac
  $C -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$1" "$loc${sep}digest=$dg" -o /dev/null
  echo "$dg"
}
CFG=$(push_blob config.json); LAYER=$(push_blob layer.tar.gz)
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"%s","size":%s}]}' \
  "$CFG" "$(stat -c%s config.json)" "$LAYER" "$(stat -c%s layer.tar.gz)" > manifest.json
$C -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' --data-binary @manifest.json "$REG/v2/$REPO/manifests/$TAG" -o /dev/null
"#;
    let out = Command::new("bash")
        .args(["-c", script])
        .env("PORT", port.to_string())
        .env("REPO", REPO)
        .env("TAG", TAG)
        .env("DIR", dir)
        .env("USERPASS", format!("{USER}:{PASSWORD}"))
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "pushing the test image failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn dir(p: &RegistryPeer) -> PathBuf {
    p.dir.path().to_path_buf()
}

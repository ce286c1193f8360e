//! The pull checks against the real distribution registry on loopback (TLS + htpasswd):
//! ping, auth, manifest present and absent, wrong password, expired certificate, wrong name.

#[path = "common/registry.rs"]
mod registry;

use std::time::Duration;

use acp_cockpit::domain::registry::dockercfg::Credentials;
use acp_cockpit::domain::registry::{CheckId, CheckResult, ImageRef, Verdict};
use acp_cockpit::engine::registry::api::Target;
use acp_cockpit::engine::registry::pull::pull_checks;
use acp_cockpit::engine::registry::tls::Trust;
use registry::{Cert, RegistryPeer};
use zeroize::Zeroizing;

fn target(p: &RegistryPeer, host: &str, trust_ca: bool) -> Target {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    Target {
        addr: format!("127.0.0.1:{}", p.port).parse().expect("addr"),
        host: host.to_string(),
        port: p.port,
        trust: Trust {
            extra_ca_pem: if trust_ca {
                p.ca_pem.clone().into_bytes()
            } else {
                Vec::new()
            },
            system_roots: false,
        },
        timeout: Duration::from_secs(5),
    }
}

fn creds(password: &str) -> Credentials {
    Credentials {
        username: registry::USER.to_string(),
        password: Zeroizing::new(password.to_string()),
    }
}

async fn run(t: &Target, image: &str, c: Option<&Credentials>) -> Vec<CheckResult> {
    let image = ImageRef::parse(image).expect("image ref");
    let (tx, mut rx) = tokio::sync::mpsc::channel(16);
    pull_checks(t, &image, c, chrono::Utc::now().timestamp(), &tx).await;
    drop(tx);
    let mut out = Vec::new();
    while let Some(r) = rx.recv().await {
        out.push(r);
    }
    out
}

fn verdicts(rs: &[CheckResult]) -> Vec<(CheckId, Verdict)> {
    rs.iter().map(|r| (r.id, r.verdict)).collect()
}

fn image(p: &RegistryPeer, tag: &str) -> String {
    format!("127.0.0.1:{}/{}:{tag}", p.port, registry::REPO)
}

#[tokio::test]
async fn a_good_registry_passes_every_step_and_reports_the_digest() {
    let Some(p) = registry::start("good_registry", Cert::Good, true) else {
        return;
    };
    let rs = run(
        &target(&p, "127.0.0.1", true),
        &image(&p, registry::TAG),
        Some(&creds(registry::PASSWORD)),
    )
    .await;
    assert_eq!(
        verdicts(&rs),
        vec![
            (CheckId::Tls, Verdict::Pass),
            (CheckId::ApiPing, Verdict::Pass),
            (CheckId::ApiAuth, Verdict::Pass),
            (CheckId::Manifest, Verdict::Pass)
        ],
        "{rs:#?}"
    );
    assert!(
        rs[1]
            .evidence
            .iter()
            .any(|e| e.contains("Basic realm=\"test-registry\"")),
        "{rs:#?}"
    );
    assert!(rs[2].summary.contains("basic auth as reguser"));
    assert!(rs[3].summary.contains("sha256:"), "{}", rs[3].summary);
    assert!(
        rs[0]
            .evidence
            .iter()
            .any(|e| e.contains("names [127.0.0.1, localhost]")),
        "{rs:#?}"
    );
}

#[tokio::test]
async fn an_absent_tag_is_manifest_unknown_with_a_fix() {
    let Some(p) = registry::start("absent_tag", Cert::Good, true) else {
        return;
    };
    let rs = run(
        &target(&p, "127.0.0.1", true),
        &image(&p, "v9"),
        Some(&creds(registry::PASSWORD)),
    )
    .await;
    let m = rs
        .iter()
        .find(|r| r.id == CheckId::Manifest)
        .expect("manifest result");
    assert_eq!(m.verdict, Verdict::Fail);
    assert!(m.summary.contains("manifest unknown"));
    assert!(m.fix.as_ref().is_some_and(|f| f.text.contains("tags/list")));
}

#[tokio::test]
async fn a_wrong_password_or_none_fails_auth_and_skips_the_manifest() {
    let Some(p) = registry::start("wrong_password", Cert::Good, false) else {
        return;
    };
    let t = target(&p, "127.0.0.1", true);
    for c in [Some(creds("not-the-password")), None] {
        let rs = run(&t, &image(&p, registry::TAG), c.as_ref()).await;
        assert_eq!(
            verdicts(&rs),
            vec![
                (CheckId::Tls, Verdict::Pass),
                (CheckId::ApiPing, Verdict::Pass),
                (CheckId::ApiAuth, Verdict::Fail),
                (CheckId::Manifest, Verdict::Skip)
            ]
        );
        let text = format!("{rs:?}");
        assert!(
            !text.contains("not-the-password"),
            "a password leaked into results"
        );
    }
}

#[tokio::test]
async fn an_expired_certificate_fails_tls_with_its_dates() {
    let Some(p) = registry::start("expired_cert", Cert::Expired, false) else {
        return;
    };
    let rs = run(
        &target(&p, "127.0.0.1", true),
        &image(&p, registry::TAG),
        None,
    )
    .await;
    assert_eq!(rs[0].id, CheckId::Tls);
    assert_eq!(rs[0].verdict, Verdict::Fail, "{rs:#?}");
    assert!(
        rs[0].summary.contains("certificate expired"),
        "{}",
        rs[0].summary
    );
    assert!(
        rs[0]
            .evidence
            .iter()
            .any(|e| e.contains("2025") && e.contains("days)")),
        "{rs:#?}"
    );
    assert!(
        rs[0]
            .fix
            .as_ref()
            .is_some_and(|f| f.text.contains("expired"))
    );
    assert!(rs[1..].iter().all(|r| r.verdict == Verdict::Skip));
}

#[tokio::test]
async fn a_certificate_for_another_name_or_an_untrusted_ca_fails_tls() {
    let Some(p) = registry::start("other_name", Cert::OtherName, false) else {
        return;
    };
    let rs = run(
        &target(&p, "127.0.0.1", true),
        &image(&p, registry::TAG),
        None,
    )
    .await;
    assert_eq!(rs[0].verdict, Verdict::Fail);
    assert!(
        rs[0].summary.contains("not valid for name"),
        "{}",
        rs[0].summary
    );
    assert!(
        rs[0]
            .fix
            .as_ref()
            .is_some_and(|f| f.text.contains("subjectAltName"))
    );
    let rs = run(
        &target(&p, "127.0.0.1", false),
        &image(&p, registry::TAG),
        None,
    )
    .await;
    assert_eq!(rs[0].verdict, Verdict::Fail);
    assert!(
        rs[0].fix.as_ref().is_some_and(|f| f.text.contains("--ca")),
        "{rs:#?}"
    );
}

#[tokio::test]
async fn a_certificate_expiring_soon_is_a_warning() {
    let Some(p) = registry::start("expiring_soon", Cert::ExpiringSoon, false) else {
        return;
    };
    let rs = run(
        &target(&p, "localhost", true),
        &image(&p, registry::TAG),
        Some(&creds(registry::PASSWORD)),
    )
    .await;
    assert_eq!(rs[0].verdict, Verdict::Warn, "{rs:#?}");
    assert!(rs[0].summary.contains("expires in"));
    assert_eq!(rs[1].verdict, Verdict::Pass);
}

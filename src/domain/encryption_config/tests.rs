use super::*;
use proptest::prelude::*;

/// 32 bytes of 0x01..0x20, base64: a key no real cluster uses.
const SECRET_A: &str = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";
/// 32 bytes of 0x21..0x40.
const SECRET_B: &str = "ISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+P0A=";

fn file(keys: &[(&str, &str)]) -> String {
    let mut s = String::from(
        "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources:\n      - secrets\n      - configmaps\n    providers:\n      - aesgcm:\n          keys:\n",
    );
    for (name, secret) in keys {
        s.push_str(&format!(
            "            - name: {name}\n              secret: {secret}\n"
        ));
    }
    s.push_str("      - identity: {}\n");
    s
}

#[test]
fn the_documented_shape_parses_to_names_and_fingerprints() {
    let f = parse(&file(&[("key2", SECRET_B), ("key1", SECRET_A)])).expect("parses");
    assert_eq!(f.resources(), ["secrets", "configmaps"]);
    let p = f.active_provider().expect("provider");
    assert_eq!(p.kind, "aesgcm");
    assert_eq!(f.active_key().map(|k| k.name.as_str()), Some("key2"));
    assert_eq!(f.rules[0].providers[1].kind, "identity");
    let fp = &p.keys[0].fingerprint;
    assert!(
        fp.starts_with("sha256:") && fp.len() == 7 + FINGERPRINT_HEX,
        "{fp}"
    );
    assert_ne!(p.keys[0].fingerprint, p.keys[1].fingerprint);
    // Nothing of the secret survives in what may be shown.
    let shown = format!("{f:?}{}", serde_json::to_string(&f).expect("json"));
    assert!(!shown.contains(SECRET_A) && !shown.contains(SECRET_B));
    assert!(f.rule_for("configmaps").is_some() && f.rule_for("pods").is_none());
}

#[test]
fn malformed_files_are_rejected_with_a_path_and_no_secret() {
    let cases: Vec<(String, &str, &str)> = vec![
        (String::new(), "", "empty"),
        ("a: [".into(), "line", "not valid YAML"),
        ("- 1\n".into(), "", "mapping"),
        (
            file(&[]).replace("kind: EncryptionConfiguration", "kind: Secret"),
            "kind",
            "Secret",
        ),
        (
            file(&[("k1", SECRET_A)]).replace("apiVersion: apiserver.config.k8s.io/v1\n", ""),
            "apiVersion",
            "missing",
        ),
        (
            file(&[("k1", "not*base64")]),
            "resources[0].providers[0].aesgcm.keys[0].secret",
            "not base64",
        ),
        (
            file(&[("k1", "AAAA")]),
            "resources[0].providers[0].aesgcm.keys[0].secret",
            "3 bytes",
        ),
        (
            file(&[("k1", SECRET_A), ("k1", SECRET_B)]),
            "resources[0].providers[0].aesgcm.keys[1].name",
            "twice",
        ),
        (
            file(&[]),
            "resources[0].providers[0].aesgcm.keys",
            "not a list",
        ),
        (
            file(&[("k1", SECRET_A)]).replace("aesgcm:", "rot13:"),
            "resources[0].providers[0].rot13",
            "not a provider",
        ),
        (
            file(&[("", SECRET_A)]),
            "resources[0].providers[0].aesgcm.keys[0].name",
            "missing or empty",
        ),
    ];
    for (text, at, problem) in cases {
        let e = parse(&text).expect_err(&text);
        assert!(e.at.starts_with(at), "{text:?}: at {:?}", e.at);
        assert!(e.to_string().contains(problem), "{text:?}: {e}");
        assert!(!e.to_string().contains(SECRET_A), "{e}");
    }
    // A YAML error next to a key never repeats the key.
    let broken = format!("{}  bad: [\n", file(&[("k1", SECRET_A)]));
    let e = parse(&broken).expect_err("broken");
    assert!(!e.to_string().contains(SECRET_A), "{e}");
    let huge = "#".repeat(MAX_FILE_BYTES + 1);
    assert!(parse(&huge).expect_err("huge").problem.contains("bytes"));
}

#[test]
fn key_revision_is_the_trailing_number() {
    assert_eq!(key_revision("key12"), Some(12));
    assert_eq!(key_revision("7"), Some(7));
    assert_eq!(key_revision("rev-3"), Some(3));
    assert_eq!(key_revision("current"), None);
    assert_eq!(key_revision("99999999999999999999999"), None);
}

#[test]
fn secrets_are_wiped_from_the_parsed_tree() {
    let mut v = serde_json::json!({"a": [{"secret": "abc", "name": "n"}], "secret": 1});
    wipe_secrets(&mut v);
    assert_eq!(v["a"][0]["secret"], "");
    assert_eq!(v["a"][0]["name"], "n");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    /// Any text at all: an answer, never a panic.
    #[test]
    fn arbitrary_text_never_panics(text in ".{0,400}") {
        let _ = parse(&text);
    }

    /// Valid files with one byte changed anywhere: an answer, never a panic, and an error
    /// never quotes a secret.
    #[test]
    fn mutated_files_never_panic_or_leak(pos in 0usize..400, byte in 0u8..128, n in 1usize..9) {
        let keys: Vec<(String, &str)> = (0..n).map(|i| (format!("key{i}"), if i % 2 == 0 { SECRET_A } else { SECRET_B })).collect();
        let refs: Vec<(&str, &str)> = keys.iter().map(|(a, b)| (a.as_str(), *b)).collect();
        let mut bytes = file(&refs).into_bytes();
        let at = pos % bytes.len();
        bytes[at] = byte;
        if let Ok(text) = String::from_utf8(bytes) {
            match parse(&text) {
                Ok(f) => {
                    let shown = format!("{:?}", f);
                    prop_assert!(!shown.contains(SECRET_A));
                }
                Err(e) => {
                    let s = e.to_string();
                    prop_assert!(!s.contains(SECRET_A) && !s.contains(SECRET_B), "{}", s);
                }
            }
        }
    }
}

//! `rustcorn load https://...` against a real HTTPS server, the upstream with `--tls --ca-out FILE` (rustls, a CA
//! made at its start): trusted through `--cacert` every request is answered over a few kept-alive TLS connections;
//! with the default roots the self-signed CA is refused before the run, naming the certificate error; `--insecure`
//! accepts it. The upstream's own handshake record is the outside count.

mod support;

use std::process::Output;

use support::{load, Upstream};

fn json(output: &Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "load failed ({}):\n{stdout}\n{stderr}", output.status);
    serde_json::from_str(&stdout).unwrap_or_else(|error| panic!("not JSON ({error}):\n{stdout}"))
}

fn answered(report: &serde_json::Value) -> (u64, u64) {
    let aggregated = &report["aggregated"];
    let failures = aggregated["failures"].as_object().expect("failures by kind");
    (aggregated["count"].as_u64().unwrap_or(0), failures.values().filter_map(serde_json::Value::as_u64).sum())
}

#[test]
fn https_load_trusts_its_cacert_refuses_an_unknown_issuer_and_insecure_accepts_it() {
    let upstream = Upstream::start_tls(&["--delay", "0ms", "--jitter", "0ms", "--body-bytes", "100"]);
    let url = upstream.url();
    let ca = upstream.ca.clone().expect("the upstream wrote its CA");
    let ca = ca.to_str().expect("temp paths are UTF-8");

    let trusted = json(&load(&[&url, "--cacert", ca, "-c", "2", "--threads", "1", "-n", "200", "--json"]));
    assert_eq!(answered(&trusted), (200, 0), "{trusted}");

    let refused = load(&[&url, "-n", "10"]);
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("TLS handshake with") && stderr.contains("UnknownIssuer"), "{stderr}");

    let insecure = json(&load(&[&url, "--insecure", "-c", "2", "--threads", "1", "-n", "100", "--json"]));
    assert_eq!(answered(&insecure), (100, 0), "{insecure}");

    let (served, holds) = upstream.stop_with_holds();
    assert_eq!(served, 300, "the upstream answered every counted request and nothing else");
    let tls = holds.tls.expect("the upstream records its handshakes");
    let completed: u64 = tls.handshakes.iter().map(|negotiated| negotiated.count).sum();
    // Per run: the pre-flight handshake and one per connection (2), kept alive for every request after it.
    assert_eq!(completed, 6, "{tls:?}");
    assert_eq!(tls.failed_handshakes, 1, "the refused run's pre-flight handshake: {tls:?}");
}

#[test]
fn tls_flags_are_refused_with_http_and_an_unreadable_cacert_is_named() {
    let insecure_http = load(&["http://127.0.0.1:9/", "--insecure", "-n", "1"]);
    let stderr = String::from_utf8_lossy(&insecure_http.stderr);
    assert_eq!(insecure_http.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--insecure: applies to https:// URLs only"), "{stderr}");

    let missing = load(&["https://127.0.0.1:9/", "--cacert", "/nonexistent/ca.pem", "-n", "1"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(missing.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--cacert: /nonexistent/ca.pem"), "{stderr}");
}

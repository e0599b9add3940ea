//! `rustcorn bench servers`: two external commands (Python's http.server and the rustcorn binary run as an
//! unknown command, each on its `{port}`) beside two built-in Rust models, one command line, one report.

mod support;

use std::time::Duration;

use support::Process;

#[test]
fn heavy_bench_servers_compares_external_commands_beside_rust_models_in_one_report() {
    let dir = std::env::temp_dir().join(format!("rustcorn-bench-servers-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let files = dir.join("www");
    std::fs::create_dir_all(&files).expect("create the served folder");
    // http.server answers /health from this file; every rustcorn server answers /health itself.
    std::fs::write(files.join("health"), "ok").expect("write the health file");
    let python = format!("python3 -m http.server {{port}} --bind 127.0.0.1 --directory {}", files.display());
    let rustcorn = format!("{} serve async --bind 127.0.0.1:{{port}}", env!("CARGO_BIN_EXE_rustcorn"));
    let results = dir.join("results");
    let mut run = Process::spawn(&[
        "bench",
        "servers",
        &python,
        &rustcorn,
        "--name",
        "pyhttp",
        "--name",
        "mine",
        "--serve",
        "async --threads 1",
        "--serve",
        "sync --max-threads 4",
        "--path",
        "/health",
        "-c",
        "2",
        "-z",
        "1s",
        "--warmup",
        "200ms",
        "--results-dir",
        results.to_str().unwrap(),
    ]);
    let status = run.wait_exit(Duration::from_secs(180)).expect("the run ends");
    let stderr = run.stderr();
    assert_eq!(status.code(), Some(0), "{stderr}");
    let text = std::fs::read_to_string(results.join("latest/results.json")).expect("results.json");
    let json: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let targets: Vec<(String, String)> = json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (t["name"].as_str().unwrap().to_owned(), t["family"].as_str().unwrap().to_owned()))
        .collect();
    let expected =
        [("pyhttp", "external"), ("mine", "external"), ("async-threads1", "rust"), ("sync-max-threads4", "rust")];
    assert_eq!(targets, expected.map(|(name, family)| (name.to_owned(), family.to_owned())), "{stderr}");
    for target in json["targets"].as_array().unwrap() {
        let load = &target["phases"][0]["load"]["aggregated"];
        assert!(load["count"].as_u64().unwrap() > 0, "{} measured nothing", target["name"]);
        assert_eq!(load["failures"]["status"], 0, "{} answered errors", target["name"]);
        assert_eq!(target["status"]["state"], "ok");
    }
    // Each start had its own free port: the command recorded keeps the placeholder, the run filled it.
    assert!(json["targets"][0]["command"].as_array().unwrap().iter().any(|word| word == "{port}"));
    let summary = std::fs::read_to_string(results.join("latest/summary.md")).expect("summary.md");
    for name in ["pyhttp", "mine", "async-threads1", "sync-max-threads4"] {
        assert!(summary.contains(name), "{name} missing from summary.md:\n{summary}");
    }
    assert!(results.join("latest/report.html").is_file());
    let _ = std::fs::remove_dir_all(&dir);
}

//! The committed JSON Schema of findings.json matches the model, and the findings of the committed fixture
//! validate against it. Regenerate the schema after changing the model with
//! `RUSTCORN_BLESS=1 cargo test -p analysis --test findings_schema -- --test-threads 1`.

use std::path::PathBuf;

use analysis::findings_file::{CallKind, WorkloadKind, FINDINGS_SCHEMA_VERSION};
use analysis::{Findings, FindingsFile, RunView};
use results::RunResults;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schema/findings.schema.json")
}

fn committed_schema() -> serde_json::Value {
    let text = std::fs::read_to_string(schema_path()).expect("read the committed schema");
    serde_json::from_str(&text).expect("the committed schema is JSON")
}

fn fixture_findings() -> FindingsFile {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/small.json");
    let results = RunResults::read(&path).expect("the fixture reads as results");
    let view = RunView::new(&results);
    FindingsFile::new(&view, &Findings::of(&view))
}

#[test]
fn committed_schema_matches_the_model() {
    let generated = FindingsFile::json_schema();
    if std::env::var_os("RUSTCORN_BLESS").is_some() {
        let text = serde_json::to_string_pretty(&generated).expect("serialize schema") + "\n";
        std::fs::write(schema_path(), text).expect("write schema");
    }
    assert_eq!(
        committed_schema(),
        generated,
        "crates/analysis/schema/findings.schema.json is stale: rerun with RUSTCORN_BLESS=1"
    );
}

#[test]
fn the_fixtures_findings_validate_against_the_committed_schema() {
    let schema = committed_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let bytes = fixture_findings().to_json();
    let instance: serde_json::Value = serde_json::from_slice(&bytes).expect("findings.json is JSON");
    let errors: Vec<String> = validator.iter_errors(&instance).map(|error| error.to_string()).collect();
    assert!(errors.is_empty(), "schema errors: {errors:#?}");
    let mut missing = instance.clone();
    missing.as_object_mut().expect("an object").remove("answer");
    assert!(!validator.is_valid(&missing), "the answer table is required");
}

/// The fixture is made so that async wins /async-google and prefork-w2 /cpu-intensive (examples/make_fixture).
#[test]
fn the_answer_reads_as_data_with_its_verdict() {
    let findings = fixture_findings();
    assert_eq!(findings.schema_version, FINDINGS_SCHEMA_VERSION);
    let kinds: Vec<WorkloadKind> = findings.answer.iter().map(|row| row.kind).collect();
    let expected = [WorkloadKind::Cpu, WorkloadKind::Memory, WorkloadKind::BlockingIo, WorkloadKind::AsyncIo];
    assert_eq!(&kinds[..4], &expected);
    assert_eq!(kinds[4], WorkloadKind::LocustMix);
    let cpu = &findings.answer[0];
    assert_eq!(cpu.use_targets.first().map(String::as_str), Some("prefork-w2"), "{cpu:?}");
    let verdict = &findings.verdicts[cpu.verdict.expect("the CPU row reads a verdict")];
    assert_eq!(verdict.best, cpu.use_targets.first().cloned());
    assert_eq!(verdict.path.as_deref(), Some("/cpu-intensive"));
    assert_eq!(Some(verdict.call), cpu.call);
    for row in &findings.answer {
        if row.call == Some(CallKind::Lead) {
            let verdict = &findings.verdicts[row.verdict.expect("a lead has a verdict")];
            let (best, next) = (&verdict.ranking[0], &verdict.ranking[1]);
            assert!(best.min > next.max || best.max < next.min, "a lead's range overlaps no other: {verdict:?}");
        }
    }
}

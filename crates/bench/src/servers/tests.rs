use super::*;
use crate::results::Family;
use crate::suite::{Launch, LoadSpec};

fn spec() -> ServersSpec {
    ServersSpec {
        commands: vec![
            "uvicorn app:app --port {port}".into(),
            "gunicorn -w {workers} -k uvicorn_worker.UvicornWorker app:app -b 127.0.0.1:{port}".into(),
            "python3 -m http.server {port}".into(),
        ],
        names: vec!["uv".into()],
        models: vec!["async --threads 1".into(), "prefork -w 2 -k async".into()],
        parameters: vec![("workers".into(), vec!["1".into(), "2".into()])],
        paths: vec![("/cpu-intensive".into(), 1)],
        load: ServersLoad::Concurrency { connections: 32 },
        duration: Duration::from_secs(10),
        warmup: Duration::from_secs(1),
        timeout: None,
        runs: 3,
        ready_timeout: None,
        ready_path: None,
        request: PhaseRequest::default(),
    }
}

#[test]
fn commands_become_a_checked_suite_with_ports_names_sweeps_and_models() {
    let suite = check(&spec()).expect("the suite checks");
    let names: Vec<&str> = suite.targets.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        ["uv", "gunicorn-workers1", "gunicorn-workers2", "python3", "async-threads1", "prefork-w2-kasync"]
    );
    let Launch::External { command, ready_url, .. } = &suite.targets[2].launch else { panic!("external") };
    assert_eq!(command[2], "2", "{command:?}");
    assert_eq!(ready_url, "http://127.0.0.1:{port}/cpu-intensive");
    assert_eq!(suite.targets[0].family, Family::Python, "uvicorn is recognised");
    assert_eq!(suite.targets[3].family, Family::External, "http.server is your own server");
    assert_eq!(suite.targets[4].family, Family::Rust);
    assert_eq!(suite.repetitions, 3);
    assert_eq!(suite.phases.len(), 1);
    assert_eq!(suite.phases[0].load, LoadSpec::Concurrency { connections: 32 });
    assert_eq!(suite.phases[0].duration, Duration::from_secs(10));
    assert_eq!(suite.phases[0].warmup, Duration::from_secs(1));
    assert_eq!(suite.phases[0].tasks[0].path_and_query, "/cpu-intensive");
}

#[test]
fn commands_of_one_program_get_distinct_names_unless_named() {
    let mut two = spec();
    two.commands = vec!["uvicorn main:app --port {port}".into(), "uvicorn main:app --port {port} --workers 2".into()];
    two.names.clear();
    two.models.clear();
    let names: Vec<String> = check(&two).expect("no --name needed").targets.into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["uvicorn", "uvicorn-workers2"]);
    two.names = vec!["one".into()];
    let names: Vec<String> = check(&two).unwrap().targets.into_iter().map(|t| t.name).collect();
    assert_eq!(names, ["one", "uvicorn"], "--name overrides; the rest are told apart among themselves");
}

#[test]
fn every_load_model_reaches_the_phase() {
    let mut rate = spec();
    rate.load = ServersLoad::Rate { per_second: 250.0, connections: 8 };
    assert_eq!(check(&rate).unwrap().phases[0].load, LoadSpec::Rate { per_second: 250.0, connections: 8 });
    let mut users = spec();
    let think = (Duration::from_secs(1), Duration::from_secs(5));
    users.load = ServersLoad::Users { users: 10, think };
    assert_eq!(check(&users).unwrap().phases[0].load, LoadSpec::Users { users: 10, think });
    let mut capacity = spec();
    let objective = "p99 <= 250ms".to_owned();
    capacity.load =
        ServersLoad::Capacity { objective, start_per_second: 50.0, max_per_second: 5000.0, confirmations: 2 };
    let suite = check(&capacity).unwrap();
    let LoadSpec::Capacity(search) = &suite.phases[0].load else { panic!("{:?}", suite.phases[0].load) };
    assert_eq!((search.start_per_second, search.max_per_second, search.confirmations), (50.0, 5000.0, 2));
    assert_eq!(search.objective.max_latency, Duration::from_millis(250));
    assert_eq!(suite.phases[0].repetitions, 3, "the search and two confirmation rounds, whatever --runs says");
    assert_eq!(suite.phases[0].duration, Duration::from_secs(1), "-z does not stretch the steps");
}

#[test]
fn clashing_names_and_no_command_are_refused() {
    let mut twice = spec();
    twice.names = vec!["same".into(), "same".into()];
    twice.parameters.clear();
    assert!(check(&twice).unwrap_err().contains("two targets are named \"same\""));
    let none = ServersSpec { paths: vec![("/".into(), 1)], duration: Duration::from_secs(1), ..Default::default() };
    assert!(check(&none).unwrap_err().contains("at least one server command"));
}

#[test]
fn the_request_shape_reaches_the_phase_and_only_when_it_is_not_a_plain_get() {
    let plain = suite_text(&spec()).unwrap();
    for field in ["method", "headers", "body", "keep_alive"] {
        assert!(!plain.contains(field), "{field} written for the default:\n{plain}");
    }
    let mut shaped = spec();
    shaped.request = PhaseRequest {
        method: "POST".into(),
        headers: vec![("Authorization".into(), "Bearer t".into()), ("X-A".into(), "1".into())],
        body: Some(BodySource::Text("{\"a\": \"b\"}".into())),
        keep_alive: false,
    };
    let request = &check(&shaped).unwrap().phases[0].request;
    assert_eq!(request.method, "POST");
    assert_eq!(request.headers, shaped.request.headers);
    assert_eq!((request.body.as_slice(), request.keep_alive), (&b"{\"a\": \"b\"}"[..], false));

    let file = std::env::temp_dir().join(format!("rustcorn-servers-body-{}.bin", std::process::id()));
    std::fs::write(&file, [1u8, 2, 3]).unwrap();
    shaped.request.body = Some(BodySource::File(file.clone()));
    assert_eq!(check(&shaped).unwrap().phases[0].request.body, [1, 2, 3], "read from the absolute path");
    std::fs::remove_file(&file).unwrap();
    let gone = check(&shaped).unwrap_err();

    assert!(gone.contains("field `body_file`: cannot read") && gone.contains(&file.display().to_string()), "{gone}");
}

#[test]
fn the_readiness_poll_can_go_to_another_path_than_the_load() {
    // A POST-only path answers GET with 405: the poll, a GET, goes to a path that answers it.
    let mut posting = spec();
    posting.ready_path = Some("/health".into());
    let suite = check(&posting).unwrap();
    let Launch::External { ready_url, .. } = &suite.targets[0].launch else { panic!("external") };
    assert_eq!(ready_url, "http://127.0.0.1:{port}/health");
    assert_eq!(suite.phases[0].tasks[0].path_and_query, "/cpu-intensive", "the load keeps its path");
}

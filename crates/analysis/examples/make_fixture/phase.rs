//! One phase's results for one model and repetition: the per-second pace, latencies, worker split, in-flight
//! requests, CPU work and resource samples that the queueing model and the seeded noise give.

use super::*;

/// Per-second throughput multiplier: sync stalls in its first cpu-c8 repetition, uvicorn warms up slowly, and after
/// the kill a single process serves nothing while a prefork master's other worker serves on.
pub(crate) fn pace(model: &Model, phase: &Phase, repetition: u32, second: usize) -> f64 {
    let killed = phase.name == KILL_PHASE && second as i64 > KILL_AT_MS / 1000;
    match (model.name, phase.name, repetition, second) {
        _ if killed && whole_server(model) => 0.0,
        _ if killed => 1.0 - 1.0 / f64::from(model.workers.max(2)),
        ("sync", "cpu-c8", 0, 2) => 0.35,
        ("uvicorn", _, _, 0) => 0.8,
        _ => 1.0,
    }
}

pub(crate) fn phase_result(
    model: &Model,
    phase: &Phase,
    index: usize,
    repetition: u32,
    noise: &mut Noise,
) -> PhaseResult {
    let total_weight: u32 = phase.endpoints.iter().map(|e| e.2).sum();
    let mean_service =
        phase.endpoints.iter().map(|e| service_us(model, e.1) * f64::from(e.2)).sum::<f64>() / f64::from(total_weight);
    let parallel = phase.endpoints.iter().map(|e| slots(model, e.1)).fold(f64::INFINITY, f64::min);
    // Throughput (req/s) and queueing factor by load model.
    let (rate, queue_factor, basis) = match phase.load {
        LoadModel::Concurrency { connections } => {
            let c = f64::from(connections);
            let busy = c.min(parallel);
            (busy / (mean_service / 1e6), (c / parallel).max(1.0), LatencyBasis::ServiceTime)
        }
        LoadModel::Users { users, think_min_s, think_max_s } => {
            let cycle = (think_min_s + think_max_s) / 2.0 + mean_service / 1e6;
            (f64::from(users) / cycle, 1.0, LatencyBasis::ServiceTime)
        }
        LoadModel::Rate { rate_per_s, .. } => {
            (rate_per_s, 1.0 + rate_per_s * mean_service / 1e6 / parallel, LatencyBasis::Corrected)
        }
        LoadModel::Capacity { .. } => unreachable!("the fixture has no capacity phase: tests derive one from it"),
    };
    let rate = rate * (0.97 + 0.06 * noise.next());
    let failure_every = if model.name == "uvicorn" && phase.name == "async-io-c64" { 150 } else { 0 };

    let mut per_endpoint: Vec<(Latencies, Latencies, FailureCounts, u64)> =
        phase.endpoints.iter().map(|_| (latencies(), latencies(), FailureCounts::default(), 0)).collect();
    let mut seconds: Vec<(Latencies, u64, u64)> = Vec::new();
    for second in 0..DURATION_S as usize {
        let pace = pace(model, phase, repetition, second);
        let requests = (rate * pace).round() as u64;
        let mut this_second = (latencies(), 0u64, 0u64);
        for request in 0..requests {
            let pick = (request % u64::from(total_weight)) as u32;
            let endpoint = phase
                .endpoints
                .iter()
                .scan(0, |sum, e| {
                    *sum += e.2;
                    Some(*sum)
                })
                .position(|sum| pick < sum)
                .unwrap_or(0);
            let work = phase.endpoints[endpoint].1;
            let stall = if pace > 0.0 && pace < 1.0 { 1.0 / pace } else { 1.0 };
            let service = noise.latency(service_us(model, work) * stall);
            let latency = (service as f64 * queue_factor) as u64;
            let (all, service_only, failures, bytes) = &mut per_endpoint[endpoint];
            this_second.1 += 1;
            let killed_now = phase.name == KILL_PHASE && second as i64 == KILL_AT_MS / 1000 && request < 4;
            if killed_now || (failure_every > 0 && request % failure_every == 7) {
                if killed_now {
                    failures.read += 1;
                } else {
                    failures.timeout += 1;
                }
                this_second.2 += 1;
                continue;
            }
            all.record(latency);
            this_second.0.record(latency);
            if basis == LatencyBasis::Corrected {
                service_only.record(service);
            }
            *bytes += if matches!(work, Work::Health) { 15 } else { 60 };
        }
        seconds.push(this_second);
    }
    let in_flight = in_flight_at_close(phase, &per_endpoint, rate, total_weight);
    let endpoint_stats: Vec<EndpointStats> = phase
        .endpoints
        .iter()
        .zip(&per_endpoint)
        .zip(&in_flight)
        .map(|(((path, _, _), (all, service, failures, bytes)), ages)| {
            stats(path, all, basis.eq(&LatencyBasis::Corrected).then_some(service), *failures, *bytes, ages)
        })
        .collect();
    let mut all_in_flight = latencies();
    for ages in &in_flight {
        all_in_flight.add(ages).expect("histograms add");
    }
    let mut all = latencies();
    let mut service = latencies();
    let mut failures = FailureCounts::default();
    let mut bytes = 0;
    for (latencies, service_time, failed, content) in &per_endpoint {
        all.add(latencies).expect("histograms add");
        service.add(service_time).expect("histograms add");
        failures.add(failed);
        bytes += content;
    }
    let corrected = (basis == LatencyBasis::Corrected).then_some(&service);
    let aggregated = stats(loadgen::AGGREGATED_NAME, &all, corrected, failures, bytes, &all_in_flight);
    let timeline = seconds
        .iter()
        .enumerate()
        .map(|(second, (latencies, requests, errors))| SecondStats {
            second: second as u64,
            requests: *requests,
            errors: *errors,
            p50_us: latencies.percentile(50.0),
            p99_us: latencies.percentile(99.0),
            histogram: encode(&latencies.histogram),
        })
        .collect();
    let model_name = match phase.load {
        LoadModel::Users { .. } => loadgen::Model::Users,
        LoadModel::Concurrency { .. } => loadgen::Model::Concurrency,
        LoadModel::Rate { .. } | LoadModel::Capacity { .. } => loadgen::Model::Rate,
    };
    let rate_stats = match phase.load {
        LoadModel::Rate { rate_per_s, .. } => {
            let scheduled = (rate_per_s * DURATION_S) as u64;
            Some(RateStats {
                target_per_second: rate_per_s,
                achieved_per_second: aggregated.count as f64 / DURATION_S,
                scheduled,
                sent: aggregated.count,
                max_send_lag_us: 900,
                kept_up: aggregated.count + 16 >= scheduled,
                warmup_scheduled: (rate_per_s * WARMUP_S) as u64,
                not_sent: InFlightStats::default(),
                open: None,
            })
        }
        _ => None,
    };
    let started_ms = 1_767_268_800_000 + (u64::from(repetition) * 9 + index as u64) * 6_000;
    let window_start_us = (started_ms + (WARMUP_S * 1000.0) as u64) * 1000;
    let agent = loadgen::AgentWindow {
        id: "fixture-host".into(),
        host: "fixture-host".into(),
        start_at_unix_us: None,
        window_start_unix_us: window_start_us,
        window_end_unix_us: window_start_us + (DURATION_S * 1e6) as u64,
        first_request_unix_us: Some(started_ms * 1000 + 250),
        requests: aggregated.count,
    };
    let aggregated_responses = aggregated.count - aggregated.failures.without_response();
    let load = LoadReport {
        model: model_name,
        started_at_unix_ms: started_ms + (WARMUP_S * 1000.0) as u64,
        duration_secs: DURATION_S,
        warmup_requests: (rate * WARMUP_S) as u64,
        cancelled: false,
        latency_basis: basis,
        endpoints: endpoint_stats,
        aggregated,
        timeline,
        rate: rate_stats,
        agents: vec![agent],
        responses_per_worker: header_counts(model, aggregated_responses),
        statuses: Default::default(),
        answers_per_connection: None,
    };
    let cores_used = match phase.endpoints[0].1 {
        Work::Io => 0.05 + rate * model.overhead_us * 2.0 / 1e6,
        _ => (rate * mean_service / 1e6).min(parallel) * 0.98,
    };
    PhaseResult {
        name: phase.name.into(),
        endpoints: phase
            .endpoints
            .iter()
            .map(|(path, work, weight)| EndpointShare {
                path: (*path).into(),
                weight: *weight,
                cpu_work: matches!(work, Work::Cpu).then(|| cpu_work(model)),
            })
            .collect(),
        load_model: phase.load.clone(),
        load_description: phase.description.into(),
        repetition,
        warmup_s: WARMUP_S,
        duration_s: DURATION_S,
        started_at: format!(
            "2026-01-01T12:{:02}:{:02}Z",
            (repetition * 9 + index as u32) / 10,
            ((repetition * 9 + index as u32) % 10) * 6
        ),
        interrupted: false,
        worker_requests: (model.kind == TargetKind::Prefork).then(|| worker_split(model, load.aggregated.count)),
        load,
        resources: resources(model, phase, cores_used, noise),
        hlog: Some(format!("{}.{}.r{repetition}.hlog", model.name, phase.name)),
        cores: Some(vec![0, 1]),
        kill: (phase.name == KILL_PHASE).then(|| WorkerKill {
            at_ms: KILL_AT_MS,
            pid: if whole_server(model) { 4100 } else { 4201 },
            whole_server: whole_server(model),
        }),
        request: None,
        capacity: None,
        observed_workers: None,
    }
}

/// Requests unanswered at the close, by Little's law (throughput x mean latency), spread over the endpoints by
/// weight, their ages even over [0, the endpoint's mean latency).
pub(crate) fn in_flight_at_close(
    phase: &Phase,
    per_endpoint: &[(Latencies, Latencies, FailureCounts, u64)],
    rate: f64,
    total_weight: u32,
) -> Vec<Latencies> {
    phase
        .endpoints
        .iter()
        .zip(per_endpoint)
        .map(|((_, _, weight), (all, _, _, _))| {
            let share = rate * f64::from(*weight) / f64::from(total_weight);
            let requests = (share * all.mean() / 1e6).round() as u64;
            let mut ages = latencies();
            for k in 0..requests {
                ages.record((all.mean() * k as f64 / requests as f64) as u64);
            }
            ages
        })
        .collect()
}

/// What the driver's calibration would have found for `cpu_work = "2ms"` on this model.
pub(crate) fn cpu_work(model: &Model) -> CpuWork {
    let (iterations, off) = match model.family {
        Family::Rust => (2_860_000, 0.006 * (model.name.len() % 3) as f64 - 0.006),
        Family::Python | Family::External => (36_400, 0.011),
    };
    CpuWork { requested_s: 0.002, iterations, measured_s: 0.002 * (1.0 + off), samples: 15, probes: 3 }
}

pub(crate) fn stats(
    name: &str,
    latencies: &Latencies,
    service: Option<&Latencies>,
    failures: FailureCounts,
    bytes: u64,
    in_flight: &Latencies,
) -> EndpointStats {
    let count = latencies.samples() + failures.without_response();
    let responses = latencies.samples();
    EndpointStats {
        name: name.into(),
        count,
        failures,
        latency: summary(latencies),
        service_time: service.map(summary),
        requests_per_second: count as f64 / DURATION_S,
        failures_per_second: failures.total() as f64 / DURATION_S,
        avg_content_size: if responses > 0 { bytes as f64 / responses as f64 } else { 0.0 },
        content_bytes: bytes,
        in_flight: InFlightStats::of(in_flight),
    }
}

pub(crate) fn summary(latencies: &Latencies) -> LatencySummary {
    LatencySummary::of(latencies)
}

pub(crate) fn resources(model: &Model, phase: &Phase, cores_used: f64, noise: &mut Noise) -> Resources {
    let mib = 1024.0 * 1024.0;
    let processes = if model.kind == TargetKind::Prefork { model.workers + 1 } else { 1 };
    let threads = match (model.kind, phase.load.clone()) {
        (TargetKind::Sync, LoadModel::Concurrency { connections }) => 2 + connections.min(64),
        (TargetKind::External, _) => 3,
        _ => processes,
    };
    let mut samples = Vec::new();
    let mut cpu = 0.0;
    let mut t_ms = -(WARMUP_S * 1000.0) as i64;
    while t_ms <= (DURATION_S * 1000.0) as i64 {
        let warming = if t_ms < 0 { 0.6 } else { 1.0 };
        cpu += cores_used * warming * (0.9 + 0.2 * noise.next()) * SAMPLE_EVERY_MS as f64 / 1000.0;
        let growth = 1.0 + 0.05 * (t_ms as f64 + 1000.0) / 5000.0;
        let rss = model.rss_mib * mib * growth;
        samples.push(ResourceSample {
            t_ms,
            cpu_user_s: round4(cpu * 0.8),
            cpu_system_s: round4(cpu * 0.2),
            rss_bytes: rss as u64,
            pss_bytes: Some((rss * if processes > 1 { 0.7 } else { 0.95 }) as u64),
            threads,
            processes,
        });
        t_ms += SAMPLE_EVERY_MS;
    }
    let measured: Vec<&ResourceSample> = samples.iter().filter(|s| s.t_ms >= 0).collect();
    let (first, last) = (measured[0], measured[measured.len() - 1]);
    let cpu_user_s = last.cpu_user_s - first.cpu_user_s;
    let cpu_system_s = last.cpu_system_s - first.cpu_system_s;
    let summary = ResourceSummary {
        cpu_cores_avg: (cpu_user_s + cpu_system_s) / ((last.t_ms - first.t_ms) as f64 / 1000.0),
        cpu_user_s,
        cpu_system_s,
        rss_peak_bytes: samples.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
        pss_peak_bytes: samples.iter().filter_map(|s| s.pss_bytes).max(),
        threads_peak: threads,
        processes_peak: processes,
    };
    Resources { samples, summary }
}

/// An empty recorder sized for 60 s, so no value is clamped whatever the loadgen version's default sizing.
pub(crate) fn latencies() -> Latencies {
    let histogram = hdrhistogram::Histogram::new_with_max(60_000_000, loadgen::histogram::SIGNIFICANT_DIGITS)
        .expect("1..60e6 at 3 significant digits is a valid range");
    Latencies { histogram, min_us: u64::MAX, max_us: 0, sum_us: 0 }
}

pub(crate) fn round4(value: f64) -> f64 {
    (value * 1e4).round() / 1e4
}

pub(crate) fn worker_split(model: &Model, total: u64) -> Vec<WorkerRequests> {
    match model.workers {
        1 => vec![WorkerRequests { index: 0, pid: 4101, requests: total }],
        // A handful of keep-alive connections can all land on one worker: the other then serves nothing.
        _ if total < 20 => vec![
            WorkerRequests { index: 0, pid: 4201, requests: total },
            WorkerRequests { index: 1, pid: 4202, requests: 0 },
        ],
        _ => {
            let first = total * 53 / 100;
            vec![
                WorkerRequests { index: 0, pid: 4201, requests: first },
                WorkerRequests { index: 1, pid: 4202, requests: total - first },
            ]
        }
    }
}

/// What the load generator counts from `x-worker-pid`: the same split as the master's stats, but a worker that
/// answered nothing sent no header and is absent.
pub(crate) fn header_counts(model: &Model, responses: u64) -> WorkerCounts {
    let workers = worker_split(model, responses)
        .into_iter()
        .filter(|worker| worker.requests > 0)
        .map(|worker| WorkerCount { pid: worker.pid, responses: worker.requests })
        .collect();
    WorkerCounts { workers, ..WorkerCounts::default() }
}

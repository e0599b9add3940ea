//! `stats.csv`: Locust's `_stats.csv` layout for every target x phase of the run, as the load generator writes
//! it. One header; each phase's rows are named `TARGET:PHASE#REP ENDPOINT`, with its Aggregated row last.

use loadgen::output::{Exporter, LocustCsv};

use super::RunExporter;
use crate::results::RunResults;

pub struct StatsCsv;

impl RunExporter for StatsCsv {
    fn export(&self, results: &RunResults) -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        let mut header_written = false;
        for target in &results.targets {
            for phase in &target.phases {
                let prefix = format!("{}:{}#{}", target.name, phase.name, phase.repetition);
                let mut report = phase.load.clone();
                for endpoint in &mut report.endpoints {
                    endpoint.name = format!("{prefix} {}", endpoint.name);
                }
                report.aggregated.name = format!("{prefix} {}", report.aggregated.name);
                let Ok(bytes) = LocustCsv.export(&report) else { continue };
                let text = String::from_utf8_lossy(&bytes);
                let mut lines = text.lines();
                let header = lines.next().unwrap_or_default();
                if !header_written {
                    out.extend_from_slice(header.as_bytes());
                    out.push(b'\n');
                    header_written = true;
                }
                for line in lines {
                    out.extend_from_slice(line.as_bytes());
                    out.push(b'\n');
                }
            }
        }
        if !header_written {
            out.extend_from_slice(LOCUST_HEADER.as_bytes());
            out.push(b'\n');
        }
        out
    }
}

/// Locust's stats CSV header (for a run with no measured phase).
const LOCUST_HEADER: &str = "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,\
99.9%,99.99%,100%";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_header_and_rows_named_by_target_and_phase() {
        let text = String::from_utf8(StatsCsv.export(&crate::testing::results())).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], LOCUST_HEADER);
        assert_eq!(lines.iter().filter(|line| line.starts_with("Type,")).count(), 1);
        assert!(lines[1].starts_with("GET,sync:cpu#0 /cpu-intensive,"), "{}", lines[1]);
        assert!(lines[2].starts_with(",sync:cpu#0 Aggregated,"), "{}", lines[2]);
    }
}

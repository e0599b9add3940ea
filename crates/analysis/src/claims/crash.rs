//! Claim 2: a crashed gunicorn worker leaves the others serving (the phase with `kill_worker_at` SIGKILLs one
//! worker mid-way; a single-process server killed the same way serves nothing more), but gunicorn uses more memory.

use results::Family;

use super::memory;
use super::roles::{self, Role};
use super::{not_measured, Check, Finding};
use crate::data::RunView;
use crate::format;
use crate::tables::{self, KillRow};

/// The first kill phase where `role`'s original of `family` had a kill recorded.
fn killed(report: &RunView<'_>, family: Family, role: Role, whole_server: bool) -> Option<KillRow> {
    (0..report.phases.len()).filter(|&phase| report.phases[phase].kills_a_worker()).find_map(|phase| {
        let target = roles::find(report, family, role, |target| {
            // "The other workers" need a second one; a single process has none.
            whole_server != roles::several_workers(report, target)
                && report
                    .measurements(target, phase)
                    .next()
                    .and_then(|m| m.result.kill.as_ref())
                    .is_some_and(|kill| kill.whole_server == whole_server)
        })?;
        tables::kill_row(report, target, phase)
    })
}

fn after_text(row: &KillRow) -> String {
    let seconds: Vec<String> = row.after().iter().map(|&count| format::count(count)).collect();
    format!("[{}]", seconds.join(", "))
}

/// "1 request", "352 requests".
fn requests_text(count: u64) -> String {
    format!("{} request{}", format::count(count), if count == 1 { "" } else { "s" })
}

/// The first half: the other workers serve on. The finding and its figures.
fn others_serve_on(report: &RunView<'_>, family: Family) -> (Finding, String) {
    let prefork =
        killed(report, family, Role::PreforkAsync, false).or_else(|| killed(report, family, Role::SyncWorkers, false));
    let Some(prefork) = prefork else {
        return (Finding::NotMeasured, "no phase killed a worker of a gunicorn-style target".to_owned());
    };
    let connections = report.phases[prefork.phase].connections().unwrap_or(0);
    let mut text = format!(
        "{} lost worker {} to SIGKILL at {} s into {}: {} successful req/s before, {} in each second after, {} \
         failed",
        report.target_name(prefork.target),
        prefork.pid,
        format::significant(prefork.at_s, 3),
        report.phases[prefork.phase].name,
        format::rate(prefork.before_per_s()),
        after_text(&prefork),
        requests_text(prefork.failed())
    );
    if let Some(single) = killed(report, family, Role::SingleLoop, true) {
        text.push_str(&format!(
            "; {}, killed the same way, served {} after it ({} failed)",
            report.target_name(single.target),
            after_text(&single),
            format::count(single.failed())
        ));
    }
    // What the killed worker held can fail (its requests in flight, its connections): one per connection at most.
    let after = prefork.after();
    let served_on = !after.is_empty() && after.iter().all(|&count| count > 0);
    let contained = prefork.failed() <= u64::from(connections.max(1));
    let finding = match (served_on, contained) {
        (true, true) => Finding::Holds,
        (true, false) => {
            text.push_str(&format!(
                ": the others served on, but more requests failed than the {connections} connections"
            ));
            Finding::Partly
        }
        (false, _) => {
            text.push_str(": a second after the kill served nothing");
            Finding::DoesNotHold
        }
    };
    (finding, text)
}

/// Claim 2, both halves.
pub fn crash_and_memory(report: &RunView<'_>, family: Family) -> Check {
    let (stability, stability_text) = others_serve_on(report, family);
    let (memory, memory_text) = memory::grows_with_workers(report, family);
    if stability == Finding::NotMeasured && memory == Finding::NotMeasured {
        return not_measured(family, format!("{stability_text}; {memory_text}"));
    }
    Check::new(family, stability.and(memory), format!("{stability_text}. Memory {memory_text}"))
}

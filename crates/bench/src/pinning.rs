//! The CPU plan: which cores each target, the load generator and the upstream get (sched_setaffinity), from the
//! suite's `[cpu]` table and the cores online. The default on two cores: a target that is single-threaded by design
//! on core 0, a multi-process or multi-thread one on every core, the load generator and upstream on core 1.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::process::Command;

use nix::sched::{sched_getaffinity, sched_setaffinity, CpuSet};
use nix::unistd::Pid;

use crate::results::{PinningPlan, TargetPinning};
use crate::suite::{Located, Suite, SuiteError, TargetCores, TargetSpec};

/// The plan for one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Pinning {
    pub online: Vec<u32>,
    pub load: Vec<u32>,
    pub upstream: Vec<u32>,
    pub load_threads: usize,
    /// Cores and the reason, per target name.
    pub targets: BTreeMap<String, (Vec<u32>, String)>,
    /// Cores per (phase, target) where a phase's `target_cores` replaces the run's plan.
    pub phase_targets: BTreeMap<(String, String), Vec<u32>>,
}

/// CPUs this process may run on (its affinity mask): the cores a run can use.
pub fn online_cores() -> Vec<u32> {
    let Ok(set) = sched_getaffinity(Pid::from_raw(0)) else { return vec![0] };
    let cores: Vec<u32> =
        (0..CpuSet::count()).filter(|&cpu| set.is_set(cpu).unwrap_or(false)).map(|cpu| cpu as u32).collect();
    if cores.is_empty() {
        vec![0]
    } else {
        cores
    }
}

impl Pinning {
    /// Resolves the suite's CPU plan on a machine with `online` cores; a listed core that is not online is an
    /// error located in the suite.
    pub fn plan(suite: &Suite, online: &[u32]) -> Result<Pinning, SuiteError> {
        let online = online.to_vec();
        let default_load = vec![if online.len() >= 2 { online[online.len() - 1] } else { online[0] }];
        let load = checked(suite.cpu.load_cores.as_ref(), &online)?.unwrap_or(default_load);
        let upstream = checked(suite.cpu.upstream_cores.as_ref(), &online)?.unwrap_or_else(|| load.clone());
        let load_threads = suite.cpu.load_threads.unwrap_or(load.len());
        let mut targets = BTreeMap::new();
        for target in &suite.targets {
            let cores = target_cores(target, &suite.cpu.target_cores, &online, &load)?;
            targets.insert(target.name.clone(), cores);
        }
        let mut phase_targets = BTreeMap::new();
        for phase in &suite.phases {
            let Some(choice) = &phase.target_cores else { continue };
            for target in suite.targets.iter().filter(|target| phase.includes(&target.name)) {
                let (cores, _) = target_cores(target, choice, &online, &load)?;
                phase_targets.insert((phase.name.clone(), target.name.clone()), cores);
            }
        }
        Ok(Pinning { online, load, upstream, load_threads, targets, phase_targets })
    }

    pub fn target(&self, name: &str) -> &[u32] {
        self.targets.get(name).map_or(&self.online, |(cores, _)| cores)
    }

    /// The cores of target `name` in phase `phase`: the phase's own `target_cores` if it has one, else the plan.
    pub fn target_in(&self, name: &str, phase: &str) -> &[u32] {
        match self.phase_targets.get(&(phase.to_owned(), name.to_owned())) {
            Some(cores) => cores,
            None => self.target(name),
        }
    }

    /// The plan as recorded in results.json.
    pub fn record(&self, order: &[TargetSpec]) -> PinningPlan {
        PinningPlan {
            online_cores: self.online.clone(),
            load_cores: self.load.clone(),
            upstream_cores: self.upstream.clone(),
            targets: order
                .iter()
                .filter_map(|target| {
                    let (cores, reason) = self.targets.get(&target.name)?;
                    Some(TargetPinning { target: target.name.clone(), cores: cores.clone(), reason: reason.clone() })
                })
                .collect(),
        }
    }
}

fn checked(list: Option<&Located<Vec<u32>>>, online: &[u32]) -> Result<Option<Vec<u32>>, SuiteError> {
    let Some(list) = list else { return Ok(None) };
    if let Some(core) = list.value.iter().find(|core| !online.contains(core)) {
        return Err(list.error(format!("core {core} is not available here (cores: {online:?})")));
    }
    Ok(Some(list.value.clone()))
}

fn target_cores(
    target: &TargetSpec,
    default: &TargetCores,
    online: &[u32],
    load: &[u32],
) -> Result<(Vec<u32>, String), SuiteError> {
    if let Some(cores) = checked(target.cores.as_ref(), online)? {
        return Ok((cores, "set for this target in the suite".to_owned()));
    }
    match default {
        TargetCores::List(list) => {
            Ok((checked(Some(list), online)?.unwrap_or_default(), "[cpu] target_cores".to_owned()))
        }
        TargetCores::All => Ok((online.to_vec(), "[cpu] target_cores = \"all\"".to_owned())),
        TargetCores::Auto => Ok(auto_cores(target, online, load)),
    }
}

/// One core (the first not given to the load generator) for a single-threaded design; otherwise the cores the
/// load generator does not use, or every core when that would leave fewer than two.
fn auto_cores(target: &TargetSpec, online: &[u32], load: &[u32]) -> (Vec<u32>, String) {
    let free: Vec<u32> = online.iter().copied().filter(|core| !load.contains(core)).collect();
    match target.single_threaded() {
        Some(true) => {
            let core = free.first().copied().unwrap_or(online[0]);
            (vec![core], "single-threaded by design: one core".to_owned())
        }
        parallel => {
            let why =
                if parallel.is_some() { "multi-process or multi-thread by design" } else { "parallelism unknown" };
            if free.len() >= 2 {
                (free, format!("{why}: every core the load generator does not use"))
            } else {
                (online.to_vec(), format!("{why}: every core (shared with the load generator)"))
            }
        }
    }
}

fn cpu_set(cores: &[u32]) -> nix::Result<CpuSet> {
    let mut set = CpuSet::new();
    for &core in cores {
        set.set(core as usize)?;
    }
    Ok(set)
}

/// Makes `command`'s process (and so everything it forks) run on `cores` only.
pub fn pin_command(command: &mut Command, cores: &[u32]) -> std::io::Result<()> {
    let set = cpu_set(cores).map_err(std::io::Error::from)?;
    // SAFETY: the closure runs between fork and exec; it only makes one syscall on values prepared before fork.
    unsafe {
        command.pre_exec(move || sched_setaffinity(Pid::from_raw(0), &set).map_err(std::io::Error::from));
    }
    Ok(())
}

/// Pins the calling thread (threads it starts later inherit the mask).
pub fn pin_current_thread(cores: &[u32]) -> std::io::Result<()> {
    let set = cpu_set(cores).map_err(std::io::Error::from)?;
    sched_setaffinity(Pid::from_raw(0), &set).map_err(std::io::Error::from)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn suite(cpu: &str) -> Suite {
        let text = format!(
            "{cpu}\n[[targets]]\nname = \"uvicorn-like\"\nserve = \"async\"\n\
             [[targets]]\nname = \"multi\"\nserve = \"prefork -w 2 -k async\"\n\
             [[targets]]\nname = \"external\"\ncommand = \"x\"\nready_url = \"http://127.0.0.1:9/\"\n\
             [[phases]]\nname = \"p\"\nload = \"concurrency\"\nconnections = 1\nduration = \"1s\"\n\
             tasks = [{{ path = \"/health\" }}]\n"
        );
        Suite::parse(Path::new("s.toml"), text).unwrap()
    }

    #[test]
    fn default_plan_on_two_cores() {
        let pinning = Pinning::plan(&suite(""), &[0, 1]).unwrap();
        assert_eq!(pinning.load, [1]);
        assert_eq!(pinning.upstream, [1]);
        assert_eq!(pinning.load_threads, 1);
        assert_eq!(pinning.target("uvicorn-like"), [0]);
        assert_eq!(pinning.target("multi"), [0, 1]);
        assert_eq!(pinning.target("external"), [0, 1]);
    }

    #[test]
    fn default_plan_on_four_cores_keeps_targets_off_the_load_core() {
        let pinning = Pinning::plan(&suite(""), &[0, 1, 2, 3]).unwrap();
        assert_eq!(pinning.load, [3]);
        assert_eq!(pinning.target("uvicorn-like"), [0]);
        assert_eq!(pinning.target("multi"), [0, 1, 2]);
    }

    #[test]
    fn one_core_machines_share_it() {
        let pinning = Pinning::plan(&suite(""), &[0]).unwrap();
        assert_eq!((pinning.load.as_slice(), pinning.target("multi")), (&[0][..], &[0][..]));
    }

    #[test]
    fn explicit_lists_win_and_are_checked() {
        let pinning = Pinning::plan(&suite("[cpu]\ntarget_cores = [1]\nload_cores = [0]"), &[0, 1]).unwrap();
        assert_eq!(pinning.load, [0]);
        assert_eq!(pinning.target("multi"), [1]);
        let error = Pinning::plan(&suite("[cpu]\nload_cores = [7]"), &[0, 1]).unwrap_err().to_string();
        assert!(error.starts_with("s.toml:2:") && error.contains("load_cores") && error.contains("core 7"), "{error}");
    }

    #[test]
    fn a_phase_can_give_a_single_threaded_target_every_core() {
        let mut suite = suite("");
        suite.phases[0].target_cores = Some(TargetCores::All);
        let pinning = Pinning::plan(&suite, &[0, 1]).unwrap();
        assert_eq!(pinning.target("uvicorn-like"), [0]);
        assert_eq!(pinning.target_in("uvicorn-like", "p"), [0, 1]);
        assert_eq!(pinning.target_in("uvicorn-like", "another phase"), [0]);
    }

    #[test]
    fn the_plan_is_recorded_per_target() {
        let suite = suite("");
        let recorded = Pinning::plan(&suite, &[0, 1]).unwrap().record(&suite.targets);
        assert_eq!(recorded.targets.len(), 3);
        assert_eq!(recorded.targets[0].cores, [0]);
        assert!(recorded.targets[0].reason.contains("single-threaded"));
    }
}

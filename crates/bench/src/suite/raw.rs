//! The suite file exactly as serde reads it (`deny_unknown_fields` everywhere, spans kept where a later check
//! needs a line). [`super::Suite::parse`] turns it into the checked model.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::results::{Family, Role};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSuite {
    pub name: Option<String>,
    pub description: Option<String>,
    pub repetitions: Option<Spanned<u32>>,
    #[serde(default)]
    pub upstream: RawUpstream,
    #[serde(default)]
    pub cpu: RawCpu,
    pub targets: Spanned<Vec<Spanned<RawTarget>>>,
    pub phases: Spanned<Vec<Spanned<RawPhase>>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    pub delay: Option<HumanDuration>,
    pub jitter: Option<HumanDuration>,
    pub body_bytes: Option<u64>,
    pub tls: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCpu {
    pub target_cores: Option<Spanned<CoreChoice>>,
    pub load_cores: Option<Spanned<Vec<u32>>>,
    pub upstream_cores: Option<Spanned<Vec<u32>>>,
    pub load_threads: Option<Spanned<usize>>,
}

/// `"auto"`, `"all"` or an explicit list of CPU numbers.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum CoreChoice {
    Word(String),
    List(Vec<u32>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTarget {
    pub name: Spanned<String>,
    pub serve: Option<Spanned<String>>,
    pub command: Option<Spanned<StringOrList>>,
    pub ready_url: Option<Spanned<String>>,
    pub cwd: Option<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    pub family: Option<Family>,
    pub role: Option<Role>,
    pub workers: Option<u32>,
    pub threads: Option<u32>,
    pub cores: Option<Spanned<Vec<u32>>>,
    pub ready_timeout: Option<HumanDuration>,
    pub stop_grace: Option<HumanDuration>,
    pub variant_of: Option<Spanned<String>>,
}

/// A command line as one string (split into words like a POSIX shell, without running one) or as an argv list.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    String(String),
    List(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPhase {
    pub name: Spanned<String>,
    pub load: Spanned<String>,
    pub users: Option<Spanned<OneOrMany<u32>>>,
    pub think: Option<Spanned<[HumanDuration; 2]>>,
    pub connections: Option<Spanned<OneOrMany<u32>>>,
    pub rate: Option<Spanned<OneOrMany<f64>>>,
    pub objective: Option<Spanned<String>>,
    pub start_rate: Option<Spanned<f64>>,
    pub max_rate: Option<Spanned<f64>>,
    pub max_connections: Option<Spanned<u32>>,
    pub confirmations: Option<Spanned<u32>>,
    pub step_requests: Option<Spanned<u32>>,
    pub duration: HumanDuration,
    pub warmup: Option<HumanDuration>,
    pub timeout: Option<HumanDuration>,
    pub repetitions: Option<Spanned<u32>>,
    pub targets: Option<Vec<Spanned<String>>>,
    pub target_cores: Option<Spanned<CoreChoice>>,
    pub kill_worker_at: Option<Spanned<HumanDuration>>,
    pub tasks: Spanned<Vec<Spanned<RawTask>>>,
    pub method: Option<Spanned<String>>,
    pub headers: Option<Vec<Spanned<String>>>,
    pub body: Option<Spanned<String>>,
    pub body_file: Option<Spanned<String>>,
    pub keep_alive: Option<bool>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTask {
    pub path: Spanned<String>,
    pub name: Option<String>,
    pub weight: Option<u32>,
    #[serde(default)]
    pub query: BTreeMap<String, toml::Value>,
    pub cpu_work: Option<Spanned<HumanDuration>>,
}

/// One value, or a list of them that expands the phase into a sweep.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    pub fn values(&self) -> Vec<T> {
        match self {
            OneOrMany::One(value) => vec![value.clone()],
            OneOrMany::Many(values) => values.clone(),
        }
    }

    pub fn is_sweep(&self) -> bool {
        matches!(self, OneOrMany::Many(_))
    }
}

/// A duration written the humantime way: "5s", "250ms", "1m 30s".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HumanDuration(pub Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        humantime::parse_duration(&text).map(HumanDuration).map_err(|error| {
            serde::de::Error::custom(format!("invalid duration {text:?} ({error}); write e.g. \"5s\" or \"250ms\""))
        })
    }
}

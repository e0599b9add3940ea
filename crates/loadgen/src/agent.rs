//! Load agents: who ran a load and when, on its own wall clock ([`AgentWindow`], carried by every report), how
//! several agents are told to start together ([`AgentSpec::start_at`]), and what a merge of their reports checks
//! ([`check_windows`]: the windows overlap, no agent is counted twice) and reports ([`Spread`]).

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::LoadError;

/// Who runs a load and when it starts; the default is this host, starting at once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AgentSpec {
    /// The agent's name in reports and merges; None means the host name.
    pub id: Option<String>,
    /// Wall-clock instant at which the warm-up (then the measured window) begins; None starts at once. Agents
    /// given the same instant start together to within their clocks' skew.
    pub start_at: Option<SystemTime>,
}

/// One agent's run as its own wall clock saw it. A run's report holds one; a merged report holds every agent's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentWindow {
    /// `--agent-id`, by default the host name.
    pub id: String,
    /// The host the agent ran on: agents on one host share one clock.
    pub host: String,
    /// The `--start-at` instant (the warm-up began there), µs since the Unix epoch; None when it started at once.
    pub start_at_unix_us: Option<u64>,
    /// The measured window [start, end) on this agent's clock, µs since the Unix epoch.
    pub window_start_unix_us: u64,
    /// End of the measured window (start plus the report's duration).
    pub window_end_unix_us: u64,
    /// When the agent's first request of the measured window actually went out, µs since the Unix epoch: how
    /// closely the agent kept the window's start (a warm-up lets a slow process start be absorbed before it). None
    /// when it sent none.
    pub first_request_unix_us: Option<u64>,
    /// Requests this agent counted (its report's aggregated count).
    pub requests: u64,
}

impl AgentWindow {
    /// Microseconds the agent's first measured request left after its window opened (0 when on time or unknown).
    pub fn start_lateness_us(&self) -> u64 {
        self.first_request_unix_us.map_or(0, |first| first.saturating_sub(self.window_start_unix_us))
    }
}

/// How far apart the agents of a merge started, as their own clocks reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    pub agents: usize,
    /// Distinct hosts: one host means one clock, so the spreads below are the whole truth.
    pub hosts: usize,
    /// Latest minus earliest start of the measured windows.
    pub window_start_us: u64,
    /// Latest minus earliest first measured request, when every agent sent one.
    pub first_request_us: Option<u64>,
    /// The span every window covers: [latest start, earliest end).
    pub common_start_unix_us: u64,
    pub common_end_unix_us: u64,
}

/// Checks that the agents ran at the same time (their windows share an instant) and that no agent's output is
/// given twice, and measures how far apart they started. An empty list passes (reports older than agent windows).
pub fn check_windows(agents: &[AgentWindow]) -> Result<Spread, LoadError> {
    for (index, agent) in agents.iter().enumerate() {
        if agents[..index].contains(agent) {
            return Err(LoadError::DuplicateAgent { id: agent.id.clone() });
        }
    }
    let (Some(latest), Some(earliest_end)) = (
        agents.iter().max_by_key(|agent| agent.window_start_unix_us),
        agents.iter().min_by_key(|agent| agent.window_end_unix_us),
    ) else {
        return Ok(Spread {
            agents: 0,
            hosts: 0,
            window_start_us: 0,
            first_request_us: None,
            common_start_unix_us: 0,
            common_end_unix_us: 0,
        });
    };
    if latest.window_start_unix_us >= earliest_end.window_end_unix_us {
        return Err(LoadError::WindowsDoNotOverlap {
            late: latest.id.clone(),
            late_start: format_unix_us(latest.window_start_unix_us),
            early: earliest_end.id.clone(),
            early_end: format_unix_us(earliest_end.window_end_unix_us),
        });
    }
    let earliest_start = agents.iter().map(|agent| agent.window_start_unix_us).min().unwrap_or(0);
    let firsts: Option<Vec<u64>> = agents.iter().map(|agent| agent.first_request_unix_us).collect();
    let mut hosts: Vec<&str> = agents.iter().map(|agent| agent.host.as_str()).collect();
    hosts.sort_unstable();
    hosts.dedup();
    Ok(Spread {
        agents: agents.len(),
        hosts: hosts.len(),
        window_start_us: latest.window_start_unix_us - earliest_start,
        first_request_us: firsts
            .map(|firsts| firsts.iter().max().copied().unwrap_or(0) - firsts.iter().min().copied().unwrap_or(0)),
        common_start_unix_us: latest.window_start_unix_us,
        common_end_unix_us: earliest_end.window_end_unix_us,
    })
}

/// This machine's host name (uname's nodename), "unknown" when it cannot be read.
pub fn hostname() -> String {
    nix::sys::utsname::uname()
        .ok()
        .map(|uname| uname.nodename().to_string_lossy().into_owned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Checks an agent id: 1 to 63 letters, digits, `-`, `_` or `.` (it names files and log frames).
pub fn validate_id(id: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if id.is_empty() || id.len() > 63 || !id.chars().all(allowed) {
        return Err(format!("{id:?} is not an agent id: 1 to 63 letters, digits, '-', '_' or '.'"));
    }
    Ok(())
}

/// A host name made into a valid agent id (other characters become `-`).
pub fn id_from_hostname(host: &str) -> String {
    let id: String = host
        .chars()
        .take(63)
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '-' })
        .collect();
    if id.is_empty() {
        "agent".to_owned()
    } else {
        id
    }
}

/// Parses a start instant: RFC 3339 (`2026-05-01T12:00:00Z`, `2026-05-01T14:00:00.250+02:00`) or milliseconds
/// since the Unix epoch (`1777636800000`).
pub fn parse_start_at(text: &str) -> Result<SystemTime, String> {
    let text = text.trim();
    if !text.is_empty() && text.chars().all(|c| c.is_ascii_digit()) {
        let millis: u64 = text.parse().map_err(|_| format!("{text:?}: too large for milliseconds since the epoch"))?;
        return Ok(UNIX_EPOCH + Duration::from_millis(millis));
    }
    let bad = || format!("{text:?} is neither RFC 3339 (2026-05-01T12:00:00Z) nor Unix milliseconds");
    let (local, offset_secs) = split_offset(text).ok_or_else(bad)?;
    let local = humantime::parse_rfc3339_weak(local).map_err(|error| format!("{}: {error}", bad()))?;
    let shifted = if offset_secs >= 0 {
        local.checked_sub(Duration::from_secs(offset_secs.unsigned_abs()))
    } else {
        local.checked_add(Duration::from_secs(offset_secs.unsigned_abs()))
    };
    shifted.ok_or_else(bad)
}

/// Splits an RFC 3339 timestamp into its local part and its UTC offset in seconds (`Z` is +00:00). humantime
/// reads only UTC, so the offset is applied here.
fn split_offset(text: &str) -> Option<(&str, i64)> {
    if let Some(local) = text.strip_suffix('Z').or_else(|| text.strip_suffix('z')) {
        return Some((local, 0));
    }
    let split = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..split)?, text.get(split..)?);
    let sign = match offset.as_bytes() {
        [b'+', _, _, b':', _, _] => 1,
        [b'-', _, _, b':', _, _] => -1,
        _ => return None,
    };
    let hours: i64 = offset.get(1..3)?.parse().ok()?;
    let minutes: i64 = offset.get(4..6)?.parse().ok()?;
    (hours < 24 && minutes < 60).then_some((local, sign * (hours * 3600 + minutes * 60)))
}

/// An instant as RFC 3339 UTC with microseconds, for people.
pub fn format_unix_us(unix_us: u64) -> String {
    humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_micros(unix_us)).to_string()
}

/// Microseconds since the Unix epoch (0 before it; saturating far after).
pub fn unix_us(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| u64::try_from(since.as_micros()).unwrap_or(u64::MAX))
}

/// One reading of the wall clock and the monotonic clock taken together, to translate between them: the run is
/// timed on the monotonic clock (immune to clock steps), reports speak wall-clock time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WallClock {
    system: SystemTime,
    instant: Instant,
}

impl WallClock {
    pub fn now() -> WallClock {
        WallClock { system: SystemTime::now(), instant: Instant::now() }
    }

    /// The wall-clock time of `at`, µs since the Unix epoch.
    pub fn unix_us(&self, at: Instant) -> u64 {
        let system = match at.checked_duration_since(self.instant) {
            Some(after) => self.system + after,
            None => self.system - self.instant.duration_since(at),
        };
        unix_us(system)
    }

    /// The monotonic instant of wall-clock `when`, or None when `when` has already passed.
    pub fn instant_at(&self, when: SystemTime) -> Option<Instant> {
        let ahead = when.duration_since(self.system).ok()?;
        (!ahead.is_zero()).then(|| self.instant + ahead)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn agent(id: &str, host: &str, start_s: u64, end_s: u64, first_us: Option<u64>) -> AgentWindow {
        AgentWindow {
            id: id.into(),
            host: host.into(),
            start_at_unix_us: Some(start_s * 1_000_000),
            window_start_unix_us: start_s * 1_000_000,
            window_end_unix_us: end_s * 1_000_000,
            first_request_unix_us: first_us,
            requests: 10,
        }
    }

    #[test]
    fn parses_rfc3339_with_offsets_and_unix_millis() {
        let utc = parse_start_at("2026-05-01T12:00:00Z").unwrap();
        assert_eq!(unix_us(utc), 1_777_636_800_000_000);
        assert_eq!(parse_start_at("2026-05-01T14:00:00+02:00").unwrap(), utc);
        assert_eq!(parse_start_at("2026-05-01T07:30:00-04:30").unwrap(), utc);
        assert_eq!(parse_start_at("1777636800000").unwrap(), utc);
        let fraction = parse_start_at("2026-05-01T12:00:00.250Z").unwrap();
        assert_eq!(fraction.duration_since(utc).unwrap(), Duration::from_millis(250));
        for bad in ["", "tomorrow", "2026-05-01T12:00:00+2:00", "2026-13-01T12:00:00Z", "-5", "12:00"] {
            assert!(parse_start_at(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn formats_microseconds_as_utc() {
        assert_eq!(format_unix_us(1_777_636_800_000_250), "2026-05-01T12:00:00.000250Z");
    }

    #[test]
    fn agent_ids_are_checked_and_host_names_made_valid() {
        assert!(validate_id("agent-0").is_ok());
        assert!(validate_id("pod_1.example").is_ok());
        assert!(validate_id("").is_err());
        assert!(validate_id("two words").is_err());
        assert!(validate_id(&"x".repeat(64)).is_err());
        assert_eq!(id_from_hostname("my host!"), "my-host-");
        assert!(validate_id(&id_from_hostname(&hostname())).is_ok());
    }

    #[test]
    fn overlapping_windows_give_the_spread_of_their_starts() {
        let agents = [
            agent("a", "h1", 100, 110, Some(100_000_400)),
            agent("b", "h1", 100, 111, Some(100_001_200)),
            agent("c", "h2", 101, 110, Some(101_000_000)),
        ];
        let spread = check_windows(&agents).unwrap();
        assert_eq!((spread.agents, spread.hosts), (3, 2));
        assert_eq!(spread.window_start_us, 1_000_000);
        assert_eq!(spread.first_request_us, Some(999_600));
        assert_eq!((spread.common_start_unix_us, spread.common_end_unix_us), (101_000_000, 110_000_000));
        assert_eq!(agents[1].start_lateness_us(), 1_200);
    }

    #[test]
    fn disjoint_windows_are_refused_naming_both_agents() {
        let agents = [agent("early", "h", 100, 110, None), agent("late", "h", 110, 120, None)];
        let error = check_windows(&agents).unwrap_err().to_string();
        assert!(error.contains("\"late\"") && error.contains("\"early\""), "{error}");
        assert!(error.contains("1970-01-01T00:01:50"), "names the instants: {error}");
    }

    #[test]
    fn the_same_agent_twice_is_refused() {
        let one = agent("a", "h", 100, 110, Some(100_000_001));
        let error = check_windows(&[one.clone(), one]).unwrap_err();
        assert!(matches!(error, LoadError::DuplicateAgent { .. }), "{error}");
        assert_eq!(check_windows(&[]).unwrap().agents, 0);
    }

    #[test]
    fn wall_clock_translates_both_ways() {
        let clock = WallClock::now();
        let later = clock.instant + Duration::from_millis(1500);
        assert_eq!(clock.unix_us(later), unix_us(clock.system) + 1_500_000);
        assert_eq!(clock.instant_at(clock.system + Duration::from_millis(1500)), Some(later));
        assert_eq!(clock.instant_at(clock.system - Duration::from_millis(1)), None);
        assert_eq!(clock.unix_us(clock.instant), unix_us(clock.system));
    }
}

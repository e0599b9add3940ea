//! The agents of a merged report, for people: each agent's window on its own clock and how late its first measured
//! request left, the spread of their starts, and what that spread can and cannot say about clocks. `rustcorn bench merge`
//! and `bench collect` print it above the merged summary.

use std::fmt::Write;
use std::time::Duration;

use super::millis;
use crate::agent::{format_unix_us, Spread};
use crate::AgentWindow;

/// The agents table and the clock statement. `clock_skew` is the skew assumed between hosts' clocks (NTP).
pub fn describe(agents: &[AgentWindow], spread: &Spread, clock_skew: Duration) -> String {
    let mut text = String::new();
    if agents.is_empty() {
        text.push_str("Agents: not recorded (reports from before agents had windows)\n\n");
        return text;
    }
    let hosts = if spread.hosts == 1 { "1 host".to_owned() } else { format!("{} hosts", spread.hosts) };
    let _ = writeln!(text, "Agents: {} on {hosts}", spread.agents);
    let _ = writeln!(
        text,
        "  {:<20} {:<20} {:<28} {:>10} {:>14} {:>10}",
        "agent", "host", "window start (UTC)", "length", "first request", "requests"
    );
    for agent in agents {
        let length = agent.window_end_unix_us.saturating_sub(agent.window_start_unix_us) as f64 / 1e6;
        let first = match agent.first_request_unix_us {
            Some(_) => format!("+{:.3} ms", agent.start_lateness_us() as f64 / 1000.0),
            None => "none".to_owned(),
        };
        let _ = writeln!(
            text,
            "  {:<20} {:<20} {:<28} {:>8.3} s {:>14} {:>10}",
            agent.id,
            agent.host,
            format_unix_us(agent.window_start_unix_us),
            length,
            first,
            agent.requests
        );
    }
    let first = spread.first_request_us.map_or("unknown".to_owned(), millis);
    let _ = writeln!(
        text,
        "Start spread (latest minus earliest): windows {}, first requests {first}",
        millis(spread.window_start_us)
    );
    let skew_us = u64::try_from(clock_skew.as_micros()).unwrap_or(u64::MAX);
    if spread.hosts <= 1 {
        text.push_str(
            "Clock: every agent ran on one host, so they share one clock and the spread is the whole truth\n",
        );
    } else {
        let _ = writeln!(
            text,
            "Clock: {} hosts, assumed to agree within {} (NTP; --clock-skew): the true start spread is at most \
             the first-request spread plus that",
            spread.hosts,
            millis(skew_us)
        );
    }
    if agents.iter().any(|agent| agent.start_at_unix_us.is_none()) {
        text.push_str("Note: some agents had no --start-at, so nothing made them start together\n");
    }
    if spread.first_request_us.is_some_and(|us| us > skew_us) {
        let _ = writeln!(
            text,
            "WARNING: the agents' first requests are {first} apart, more than the assumed clock skew ({}): \
             one started late (see 'first request')",
            millis(skew_us)
        );
    }
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::agent::check_windows;

    fn agent(id: &str, host: &str, first_us: u64) -> AgentWindow {
        AgentWindow {
            id: id.into(),
            host: host.into(),
            start_at_unix_us: Some(1_777_636_800_000_000),
            window_start_unix_us: 1_777_636_800_000_000,
            window_end_unix_us: 1_777_636_810_000_000,
            first_request_unix_us: Some(1_777_636_800_000_000 + first_us),
            requests: 1234,
        }
    }

    #[test]
    fn one_host_shares_one_clock() {
        let agents = [agent("agent-1", "box", 412), agent("agent-2", "box", 1215)];
        let text = describe(&agents, &check_windows(&agents).unwrap(), Duration::from_millis(10));
        assert!(text.contains("Agents: 2 on 1 host"), "{text}");
        assert!(text.contains("2026-05-01T12:00:00.000000Z"), "{text}");
        assert!(text.contains("+0.412 ms") && text.contains("+1.215 ms"), "{text}");
        assert!(text.contains("first requests 0.803 ms"), "{text}");
        assert!(text.contains("share one clock"), "{text}");
        assert!(!text.contains("WARNING"), "{text}");
    }

    #[test]
    fn several_hosts_state_the_assumed_skew_and_warn_beyond_it() {
        let agents = [agent("a", "h1", 0), agent("b", "h2", 25_000)];
        let text = describe(&agents, &check_windows(&agents).unwrap(), Duration::from_millis(10));
        assert!(text.contains("2 hosts, assumed to agree within 10.000 ms"), "{text}");
        assert!(text.contains("WARNING: the agents' first requests are 25.000 ms apart"), "{text}");
    }
}

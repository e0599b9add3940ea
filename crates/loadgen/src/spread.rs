//! [`AnswerSpread`]: how the answers of a concurrency or users run were spread over its connections (users): the
//! fewest and the most any one got inside the measured window, and how many got none. A server that holds a few
//! kept-alive connections for life while the rest wait in its backlog shows here, where the totals hide it.

use serde::{Deserialize, Serialize};

/// Responses (any status) per connection or user slot inside the measured window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerSpread {
    /// Connections (users) the run drove.
    pub connections: u64,
    /// The fewest responses any one connection got.
    pub fewest: u64,
    /// The most responses any one connection got.
    pub most: u64,
    /// Connections that got no response at all: starved for the whole window.
    pub none: u64,
}

impl AnswerSpread {
    /// The spread of per-connection response counts; None without any connection.
    pub fn of(answers: impl IntoIterator<Item = u64>) -> Option<AnswerSpread> {
        answers.into_iter().fold(None, |spread, answers| {
            let one = AnswerSpread { connections: 1, fewest: answers, most: answers, none: u64::from(answers == 0) };
            Some(spread.map_or(one, |spread: AnswerSpread| spread.with(&one)))
        })
    }

    /// Both sets of connections together (agents that ran side by side, each with its own connections).
    pub fn with(&self, other: &AnswerSpread) -> AnswerSpread {
        AnswerSpread {
            connections: self.connections + other.connections,
            fewest: self.fewest.min(other.fewest),
            most: self.most.max(other.most),
            none: self.none + other.none,
        }
    }

    /// The spreads of several agents together; None when none of them has one.
    pub fn merged<'a>(spreads: impl IntoIterator<Item = &'a AnswerSpread>) -> Option<AnswerSpread> {
        spreads.into_iter().fold(None, |total, spread| Some(total.map_or(*spread, |total| total.with(spread))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_fewest_the_most_and_the_starved() {
        let spread = AnswerSpread::of([3, 0, 7, 0, 1]);
        assert_eq!(spread, Some(AnswerSpread { connections: 5, fewest: 0, most: 7, none: 2 }));
        assert_eq!(AnswerSpread::of([]), None);
    }

    #[test]
    fn agents_merge_into_one_spread() {
        let first = AnswerSpread { connections: 2, fewest: 4, most: 9, none: 0 };
        let second = AnswerSpread { connections: 3, fewest: 0, most: 5, none: 1 };
        let merged = AnswerSpread::merged([&first, &second]);
        assert_eq!(merged, Some(AnswerSpread { connections: 5, fewest: 0, most: 9, none: 1 }));
    }
}

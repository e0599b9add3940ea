//! [`StatusCounts`]: responses per HTTP status code (oha's status-code distribution), counted per load thread on
//! the hot path with a short linear scan (a run sees one or two codes) and merged at the end.

use serde::{Deserialize, Serialize};

/// Responses with one status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusCount {
    pub status: u16,
    pub responses: u64,
}

/// Responses per status code, sorted by code once merged. Failures without a response are not here (they are in
/// the failure counts by kind).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StatusCounts(pub Vec<StatusCount>);

impl StatusCounts {
    pub fn record(&mut self, status: u16) {
        match self.0.iter_mut().find(|count| count.status == status) {
            Some(count) => count.responses += 1,
            None => self.0.push(StatusCount { status, responses: 1 }),
        }
    }

    pub fn add(&mut self, other: &StatusCounts) {
        for count in &other.0 {
            match self.0.iter_mut().find(|mine| mine.status == count.status) {
                Some(mine) => mine.responses += count.responses,
                None => self.0.push(*count),
            }
        }
    }

    /// The same counts ordered by status code.
    pub fn sorted(mut self) -> StatusCounts {
        self.0.sort_by_key(|count| count.status);
        self
    }

    pub fn total(&self) -> u64 {
        self.0.iter().map(|count| count.responses).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_up_per_code_and_sort() {
        let mut one = StatusCounts::default();
        for status in [404, 200, 200, 503] {
            one.record(status);
        }
        let mut two = StatusCounts::default();
        two.record(200);
        two.record(201);
        one.add(&two);
        let sorted = one.sorted();
        let pairs: Vec<(u16, u64)> = sorted.0.iter().map(|count| (count.status, count.responses)).collect();
        assert_eq!(pairs, [(200, 3), (201, 1), (404, 1), (503, 1)]);
        assert_eq!(sorted.total(), 6);
    }
}

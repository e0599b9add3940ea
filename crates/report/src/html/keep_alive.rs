//! A sync-model target's keep-alive policy in words, for the methodology's targets table, from what the driver
//! recorded (nothing for a file written before it recorded one).

use results::{KeepAlive, TargetResult};

/// E.g. "keep-alive: at most 100 requests per connection (Apache's MaxKeepAliveRequests)"; None for the other
/// models and where results.json recorded no policy.
pub fn keep_alive_text(target: &TargetResult) -> Option<String> {
    Some(match target.keep_alive? {
        KeepAlive::Off => {
            "no keep-alive: each connection closes after its response (gunicorn's sync worker)".to_owned()
        }
        KeepAlive::Unbounded => "keep-alive: no bound on the requests per connection (--max-keepalive-requests 0): a \
                                 client that keeps sending holds its thread for good"
            .to_owned(),
        KeepAlive::Bounded { requests } => format!(
            "keep-alive: at most {requests} requests per connection (Apache's MaxKeepAliveRequests), the last \
             answered with Connection: close"
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_reads_in_words_and_an_unrecorded_one_says_nothing() {
        let mut target = results::testing::target("sync", Vec::new());
        let text = |target: &TargetResult| keep_alive_text(target).unwrap_or_default();
        target.keep_alive = Some(KeepAlive::Bounded { requests: 100 });
        assert!(
            text(&target).starts_with("keep-alive: at most 100 requests per connection (Apache's"),
            "{}",
            text(&target)
        );
        target.keep_alive = Some(KeepAlive::Unbounded);
        assert!(text(&target).contains("no bound"));
        target.keep_alive = Some(KeepAlive::Off);
        assert!(text(&target).starts_with("no keep-alive"));
        target.keep_alive = None;
        assert_eq!(keep_alive_text(&target), None);
    }
}

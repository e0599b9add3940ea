//! The open-file limit: every connection is a file descriptor, and a soft limit of 1024 (a common default) would
//! fail a run of 1024 connections at its first connects. The run raises its own soft limit up to the hard one.

use nix::sys::resource::{getrlimit, setrlimit, Resource};

/// Descriptors kept for what is not a connection: stdio, the runtimes' event and timer descriptors, files.
const SPARE_DESCRIPTORS: u64 = 64;

/// Raises this process's soft limit on open files, up to the hard limit, when `connections` do not fit under it.
/// Returns the soft limit in force afterwards (None when it cannot be read); a hard limit too low is only warned
/// about: the connects beyond it fail and are counted as connect failures.
pub(crate) fn make_room_for(connections: usize) -> Option<u64> {
    let needed = connections as u64 + SPARE_DESCRIPTORS;
    let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).ok()?;
    if soft >= needed {
        return Some(soft);
    }
    if let Err(error) = setrlimit(Resource::RLIMIT_NOFILE, hard, hard) {
        tracing::warn!(%error, soft, hard, "cannot raise the open-file limit");
        return Some(soft);
    }
    if hard < needed {
        tracing::warn!(connections, hard, "the hard open-file limit is below what the connections need");
    }
    Some(hard)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_already_large_enough_is_left_alone_and_a_small_one_is_raised_to_the_hard_one() {
        let (soft, hard) = getrlimit(Resource::RLIMIT_NOFILE).unwrap();
        assert_eq!(make_room_for(1), Some(soft));
        let small = hard.min(256);
        setrlimit(Resource::RLIMIT_NOFILE, small, hard).unwrap();
        assert_eq!(make_room_for(small as usize), Some(hard));
        assert_eq!(getrlimit(Resource::RLIMIT_NOFILE).unwrap(), (hard, hard));
    }
}

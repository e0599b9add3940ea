//! The graceful stop as the connection tasks see it. A connection task is polled about twice per request, and each
//! poll also asked `CancellationToken::cancelled()`, which takes two locks every time (the token's state and its
//! `Notify`'s waiters). Here a poll costs one atomic load: each task's waker is registered once, when the task
//! first waits, and woken when the stop is broadcast.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};

/// One server's stop, told to every connection waiting on it.
#[derive(Default)]
pub(crate) struct StopBroadcast {
    stopped: AtomicBool,
    next_key: AtomicU64,
    waiting: Mutex<HashMap<u64, Waker>>,
}

impl StopBroadcast {
    /// Marks the stop and wakes every registered task; later polls see the mark without waiting.
    pub(crate) fn stop(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let waiting = std::mem::take(&mut *self.waiting.lock().unwrap_or_else(PoisonError::into_inner));
        for waker in waiting.into_values() {
            waker.wake();
        }
    }

    /// A connection's view of the stop; it leaves the broadcast when dropped.
    pub(crate) fn watch(self: &Arc<Self>) -> StopWatch {
        StopWatch { broadcast: Arc::clone(self), key: self.next_key.fetch_add(1, Ordering::Relaxed), waker: None }
    }
}

pub(crate) struct StopWatch {
    broadcast: Arc<StopBroadcast>,
    key: u64,
    /// The waker registered with the broadcast, kept to see whether a later poll comes from the same task.
    waker: Option<Waker>,
}

impl StopWatch {
    /// Ready once the stop is broadcast. Registers the caller's waker on the first poll, and again only when a
    /// poll comes with a waker that would not wake the same task.
    pub(crate) fn poll_stopped(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.broadcast.stopped.load(Ordering::Acquire) {
            return Poll::Ready(());
        }
        if self.waker.as_ref().is_some_and(|waker| waker.will_wake(cx.waker())) {
            return Poll::Pending;
        }
        let waker = cx.waker().clone();
        self.lock_waiting().insert(self.key, waker.clone());
        self.waker = Some(waker);
        // A stop between the first look and the registration drained the map before this waker was in it.
        if self.broadcast.stopped.load(Ordering::SeqCst) {
            return Poll::Ready(());
        }
        Poll::Pending
    }

    fn lock_waiting(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Waker>> {
        self.broadcast.waiting.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for StopWatch {
    fn drop(&mut self) {
        if self.waker.is_some() {
            self.lock_waiting().remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::task::Wake;

    /// A waker that counts its wake-ups.
    #[derive(Default)]
    struct Counting(AtomicUsize);

    impl Wake for Counting {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Counting>, Waker) {
        let counting = Arc::new(Counting::default());
        (Arc::clone(&counting), Waker::from(counting))
    }

    #[test]
    fn a_waiting_task_is_woken_once_by_the_stop_and_then_sees_it() {
        let broadcast = Arc::new(StopBroadcast::default());
        let mut watch = broadcast.watch();
        let (wakes, waker) = counting_waker();
        let mut cx = Context::from_waker(&waker);
        assert!(watch.poll_stopped(&mut cx).is_pending());
        assert!(watch.poll_stopped(&mut cx).is_pending(), "polled again by the same task");
        assert_eq!(broadcast.waiting.lock().unwrap().len(), 1, "registered once");
        broadcast.stop();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 1);
        assert!(watch.poll_stopped(&mut cx).is_ready());
    }

    #[test]
    fn a_watch_made_after_the_stop_is_ready_at_once() {
        let broadcast = Arc::new(StopBroadcast::default());
        broadcast.stop();
        let (_wakes, waker) = counting_waker();
        assert!(broadcast.watch().poll_stopped(&mut Context::from_waker(&waker)).is_ready());
    }

    #[test]
    fn a_poll_from_another_task_moves_the_registration_to_it() {
        let broadcast = Arc::new(StopBroadcast::default());
        let mut watch = broadcast.watch();
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        assert!(watch.poll_stopped(&mut Context::from_waker(&first_waker)).is_pending());
        assert!(watch.poll_stopped(&mut Context::from_waker(&second_waker)).is_pending());
        broadcast.stop();
        assert_eq!((first.0.load(Ordering::SeqCst), second.0.load(Ordering::SeqCst)), (0, 1));
    }

    #[test]
    fn a_dropped_watch_leaves_the_broadcast() {
        let broadcast = Arc::new(StopBroadcast::default());
        let (wakes, waker) = counting_waker();
        let mut watch = broadcast.watch();
        assert!(watch.poll_stopped(&mut Context::from_waker(&waker)).is_pending());
        drop(watch);
        assert!(broadcast.waiting.lock().unwrap().is_empty());
        broadcast.stop();
        assert_eq!(wakes.0.load(Ordering::SeqCst), 0);
    }
}

//! Tests of the resolver's thread pool (pool.rs), kept apart so that the pool itself reads
//! in one sitting. `threads`: real threads running gated jobs. `loom_tests`: every
//! interleaving of the protocol. Both are submodules of `pool`, so they see its private
//! state.

#[cfg(not(loom))]
mod threads {
    use super::super::*;

    /// Jobs: 0 answers at once; anything else blocks until released (tests run at once,
    /// so each uses numbers of its own).
    static RELEASED: parking_lot::Mutex<Vec<usize>> = parking_lot::Mutex::new(Vec::new());

    fn release(n: usize) {
        RELEASED.lock().push(n);
    }

    fn gated(n: &usize) -> usize {
        let until = Instant::now() + Duration::from_secs(20);
        while *n != 0 && !RELEASED.lock().contains(n) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(1));
        }
        *n
    }

    fn pool(max_threads: usize) -> Pool<usize, usize> {
        Pool::new(max_threads, gated, std::sync::Arc::new(|| {}))
    }

    fn wait_for(what: &str, done: impl Fn() -> bool) {
        let until = Instant::now() + Duration::from_secs(10);
        while !done() {
            assert!(Instant::now() < until, "{what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn dropping_the_pool_joins_its_idle_threads_and_clock() {
        let mut pool = pool(4).with_deadline(Duration::from_secs(60), || 99);
        pool.submit(1, 0).unwrap();
        wait_for("the job did not finish", || pool.has_answers() && pool.shared.state.lock().idle == 1);
        let shared = pool.shared.clone();
        drop(pool);
        // The threads' own references went with them: joined, not left running.
        assert_eq!(Arc::strong_count(&shared), 1);
    }

    #[test]
    fn a_job_that_finds_every_thread_busy_gets_a_new_one() {
        // Four jobs that hang (a dead name server) take four threads; the fifth still
        // gets one of its own and answers at once.
        let mut pool = pool(64);
        for ticket in 1..=4 {
            pool.submit(ticket, 1_000_000 + ticket as usize).unwrap();
        }
        pool.submit(5, 0).unwrap();
        wait_for("the fifth job waited behind the hanging ones", || pool.has_answers());
        assert_eq!(pool.take_answers(), vec![(5, 0)]);
        assert_eq!(pool.threads(), 5);
        (1_000_001..=1_000_004).for_each(release);
    }

    #[test]
    fn overdue_jobs_are_answered_by_the_clock_and_their_threads_stay_counted() {
        let mut pool = pool(1).with_deadline(Duration::from_millis(100), || 99);
        let start = Instant::now();
        pool.submit(1, 2_000_001).unwrap(); // hangs on the only thread
        pool.submit(2, 0).unwrap(); // queued behind it
        wait_for("no time-outs", || pool.shared.state.lock().answers.len() == 2);
        assert!(start.elapsed() >= Duration::from_millis(100));
        let mut answers = pool.take_answers();
        answers.sort_unstable();
        assert_eq!(answers, vec![(1, 99), (2, 99)]);
        // The hanging thread is still the pool's, inside its job; no other was started.
        assert_eq!(pool.threads(), 1);
        assert!(pool.shared.state.lock().busy[0].is_some());
        // When it returns at last, its answer is dropped and it serves the next job.
        release(2_000_001);
        pool.submit(3, 0).unwrap();
        wait_for("the thread did not come back", || pool.has_answers());
        assert_eq!(pool.take_answers(), vec![(3, 0)]);
    }

    #[test]
    fn cancelling_a_queued_job_drops_it_at_once() {
        let mut pool = pool(1);
        pool.submit(1, 3_000_001).unwrap();
        pool.submit(2, 0).unwrap();
        wait_for("the first job was not taken", || pool.shared.state.lock().busy[0].is_some());
        assert_eq!(pool.queued(), 1);
        pool.cancel(2);
        assert_eq!(pool.queued(), 0);
        pool.cancel(1);
        release(3_000_001);
        wait_for("the thread did not come back", || pool.shared.state.lock().idle == 1);
        assert!(pool.take_answers().is_empty());
    }

    #[test]
    fn a_thread_that_cannot_start_is_an_error_only_without_threads() {
        fn refuse() -> io::Result<()> {
            Err(io::Error::from_raw_os_error(libc::EAGAIN))
        }
        let mut pool = pool(4);
        pool.before_spawn = refuse;
        let error = pool.submit(1, 0).unwrap_err();
        assert_eq!(error.symbol.name(), "file-error");
        assert_eq!(error.message(), "Cannot start resolver thread: Resource temporarily unavailable");
        assert_eq!(pool.queued(), 0);
        // With one thread there, a job waits for it instead.
        pool.before_spawn = spawn_allowed;
        pool.submit(2, 0).unwrap();
        wait_for("no answer", || pool.has_answers());
        pool.before_spawn = refuse;
        pool.submit(3, 0).unwrap();
        wait_for("no answer", || pool.shared.state.lock().answers.len() == 2);
        // And with deadlines, a clock that cannot start is an error too.
        let mut timed = self::pool(4).with_deadline(Duration::from_secs(1), || 99);
        timed.before_spawn = refuse;
        assert!(timed.submit(1, 0).is_err());
    }
}

/// Every interleaving of the pool's protocol, with a trivial job in place of getaddrinfo
/// and a modelled reactor that sleeps until `notify` wakes it. Run by `make test`:
/// `RUSTFLAGS="--cfg loom" cargo test --release --lib loom_tests`.
#[cfg(loom)]
mod loom_tests {
    use super::super::*;

    /// A reactor's wake-up: a counter the resolver bumps and the host thread waits on.
    struct Wakeups {
        count: Mutex<usize>,
        changed: Condvar,
    }

    impl Wakeups {
        fn new() -> Wakeups {
            Wakeups { count: Mutex::new(0), changed: Condvar::new() }
        }

        fn wake(&self) {
            *self.count.lock() += 1;
            self.changed.notify_all();
        }

        /// Sleep until more than `seen` wake-ups happened.
        fn wait_past(&self, seen: usize) -> usize {
            let mut count = self.count.lock();
            while *count <= seen {
                self.changed.wait(&mut count);
            }
            *count
        }
    }

    fn double(n: &u32) -> u32 {
        n * 2
    }

    fn pool(max_threads: usize, wakeups: &std::sync::Arc<Wakeups>) -> Pool<u32, u32> {
        let wakeups = wakeups.clone();
        Pool::new(max_threads, double, std::sync::Arc::new(move || wakeups.wake()))
    }

    /// The reactor's loop: sleep until woken, take answers, until `want` arrived. A lost
    /// wake-up (an answer added after the host looked, with no wake after it) would leave
    /// this thread asleep forever, which loom reports as a deadlock.
    fn collect(pool: &Pool<u32, u32>, wakeups: &Wakeups, want: usize) -> Vec<(u64, u32)> {
        collect_until(pool, wakeups, |got| got.len() >= want)
    }

    fn collect_until(
        pool: &Pool<u32, u32>,
        wakeups: &Wakeups,
        done: impl Fn(&[(u64, u32)]) -> bool,
    ) -> Vec<(u64, u32)> {
        let mut got = pool.take_answers();
        let mut seen = 0;
        while !done(&got) {
            seen = wakeups.wait_past(seen);
            got.extend(pool.take_answers());
        }
        got.sort_unstable();
        got
    }

    #[test]
    fn answer_is_there_when_the_reactor_wakes() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 21).unwrap();
            assert_eq!(collect(&pool, &wakeups, 1), vec![(1, 42)]);
            // Idle now: the drop joins it.
            drop(pool);
        });
    }

    #[test]
    fn two_jobs_on_two_threads_both_answer() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(2, &wakeups);
            pool.submit(1, 1).unwrap();
            pool.submit(2, 2).unwrap();
            assert_eq!(collect(&pool, &wakeups, 2), vec![(1, 2), (2, 4)]);
        });
    }

    #[test]
    fn queued_job_waits_for_the_only_thread() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 1).unwrap();
            pool.submit(2, 2).unwrap();
            assert_eq!(pool.workers.len(), 1);
            assert_eq!(collect(&pool, &wakeups, 2), vec![(1, 2), (2, 4)]);
        });
    }

    #[test]
    fn cancel_from_the_host_thread_races_the_worker() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 5).unwrap();
            pool.cancel(1);
            // Cancelled while queued, taken or running: no answer for it, ever (the cancel
            // also takes back an answer already posted). The second job is answered.
            pool.submit(2, 6).unwrap();
            let answers = collect_until(&pool, &wakeups, |got| got.contains(&(2, 12)));
            assert_eq!(answers, vec![(2, 12)]);
            assert!(pool.take_answers().is_empty());
        });
    }

    #[test]
    fn drop_while_a_job_runs_leaves_no_thread_behind() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            let mut pool = pool(1, &wakeups);
            pool.submit(1, 1).unwrap();
            let shared = pool.shared.clone();
            // Dropped while the worker may be waiting, taking the job, or inside `work`:
            // an idle worker is joined, a busy one finishes and exits by itself (loom runs
            // every thread to its end and reports one that never ends).
            drop(pool);
            assert!(shared.state.lock().shutdown);
        });
    }

    #[test]
    fn the_clock_is_joined_at_drop() {
        loom::model(|| {
            let wakeups = std::sync::Arc::new(Wakeups::new());
            // A deadline far away: the clock only waits, and the drop must wake and join
            // it whatever it is doing.
            let mut pool = pool(1, &wakeups).with_deadline(Duration::from_secs(3600), || 0);
            pool.submit(1, 1).unwrap();
            assert_eq!(collect(&pool, &wakeups, 1), vec![(1, 2)]);
            drop(pool);
        });
    }
}

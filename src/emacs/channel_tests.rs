//! Tests of the watcher's handshake with the main thread (channel.rs).
//!
//! `loom_tests`: every interleaving of the protocol, under `RUSTFLAGS="--cfg loom"` (`make
//! test`). The arming state is the real one (`Channel::rearm` and `wait_armed` on the
//! `core::sync` types); the reactor, the pipe and the two loops are models, step for step,
//! of `watch` (wait until armed; poll the backend fd, at once when `next_timeout` says work
//! is waiting; ring), of `netproc--dispatch` in primitives.rs (poll(0), which reads at most
//! a budget and leaves the rest ready; re-arm; write a byte itself when work is left; on a
//! quit, only re-arm) and of the boundary's check after every module call (boundary.rs:
//! work left means `Shared::wakeup`). Keep them in step with those functions. A lost
//! wake-up leaves the Emacs thread waiting for a byte that never comes, which loom reports
//! as a deadlock.
//!
//! `threads`: the real watcher thread over a real context and pipe, with data sent from
//! another thread (`make test-tsan` runs it under ThreadSanitizer).

#[cfg(loom)]
mod loom_tests {
    use super::super::Channel;
    use crate::core::sync::{thread, Arc, Condvar, Mutex};

    /// The reactor as the two threads see it.
    #[derive(Default)]
    struct ReactorState {
        /// Socket events not yet taken by an epoll_wait: the backend fd is readable.
        incoming: usize,
        /// Taken but not delivered (the read budget ran out): `next_timeout` is zero.
        ready: usize,
        /// The mio waker fired and no epoll_wait took it: the backend fd is readable.
        woken: bool,
        /// The test is over (the real watcher would block in poll for good).
        closed: bool,
    }

    struct Reactor {
        state: Mutex<ReactorState>,
        readable: Condvar,
    }

    /// Emacs's pipe process: bytes written and not yet read, and whether it is open.
    struct Pipe {
        state: Mutex<(usize, bool)>,
        filled: Condvar,
    }

    impl Pipe {
        fn write(&self) -> bool {
            let mut state = self.state.lock();
            if !state.1 {
                return false;
            }
            state.0 += 1;
            self.filled.notify_all();
            true
        }

        /// Emacs's read: wait for at least one byte, take every byte there is.
        fn read(&self) {
            let mut state = self.state.lock();
            while state.0 == 0 {
                self.filled.wait(&mut state);
            }
            state.0 = 0;
        }
    }

    struct World {
        channel: Channel,
        reactor: Reactor,
        pipe: Pipe,
    }

    fn world() -> Arc<World> {
        Arc::new(World {
            channel: Channel { fd: Mutex::new(None), armed: Mutex::new(true), rearmed: Condvar::new() },
            reactor: Reactor { state: Mutex::new(ReactorState::default()), readable: Condvar::new() },
            pipe: Pipe { state: Mutex::new((0, true)), filled: Condvar::new() },
        })
    }

    /// `watch`.
    fn watcher(world: &World) {
        let World { channel, reactor, pipe } = world;
        loop {
            channel.wait_armed();
            {
                // poll(backend, timeout_ms(next_timeout())): returns at once when work is
                // ready, else when the backend fd becomes readable.
                let mut state = reactor.state.lock();
                if state.ready == 0 {
                    while state.incoming == 0 && !state.woken && !state.closed {
                        reactor.readable.wait(&mut state);
                    }
                }
                if state.closed {
                    return;
                }
            }
            // Channel::ring, with the modelled pipe.
            *channel.armed.lock() = false;
            if !pipe.write() {
                return;
            }
        }
    }

    /// Emacs: read the byte, run `netproc--dispatch` (reading at most `budget` events per
    /// poll), then the boundary's check; until `want` events were delivered. With
    /// `quit_first`, the first dispatch sees C-g.
    fn emacs(world: &World, want: usize, budget: usize, quit_first: bool) {
        let World { channel, reactor, pipe } = world;
        let mut delivered = 0;
        let mut quit = quit_first;
        while delivered < want {
            pipe.read();
            if std::mem::take(&mut quit) {
                channel.rearm();
            } else {
                let work_left = {
                    let mut state = reactor.state.lock();
                    state.ready += std::mem::take(&mut state.incoming);
                    state.woken = false;
                    let taken = state.ready.min(budget);
                    state.ready -= taken;
                    delivered += taken;
                    state.ready > 0
                };
                channel.rearm();
                if work_left && !pipe.write() {
                    unreachable!("the pipe is open while Emacs dispatches");
                }
            }
            let mut state = reactor.state.lock();
            if state.ready > 0 {
                state.woken = true;
                reactor.readable.notify_all();
            }
        }
        // Emacs closes the pipe: the watcher's next write fails and it exits.
        pipe.state.lock().1 = false;
        reactor.state.lock().closed = true;
        reactor.readable.notify_all();
        channel.rearm();
    }

    /// `events` arrive one by one from the network (another thread's sends, a resolver).
    fn network(world: &World, events: usize) {
        for _ in 0..events {
            world.reactor.state.lock().incoming += 1;
            world.reactor.readable.notify_all();
        }
    }

    fn check(events: usize, budget: usize, quit_first: bool) {
        loom::model(move || {
            let world = world();
            let (w, n) = (world.clone(), world.clone());
            let watcher = thread::spawn(move || watcher(&w));
            let network = thread::spawn(move || network(&n, events));
            emacs(&world, events, budget, quit_first);
            network.join().unwrap();
            watcher.join().unwrap();
        });
    }

    #[test]
    fn every_event_reaches_a_dispatch() {
        check(2, usize::MAX, false);
    }

    #[test]
    fn work_left_by_the_read_budget_is_dispatched() {
        check(2, 1, false);
    }

    #[test]
    fn a_quit_dispatch_rearms_and_the_next_one_delivers() {
        check(1, usize::MAX, true);
    }
}

#[cfg(not(loom))]
mod threads {
    use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
    use std::time::{Duration, Instant};

    use super::super::Channel;
    use crate::core::{ContactQuery, Host, ProcRef, Shared, Value};

    /// Bytes delivered to filters.
    #[derive(Default)]
    struct Count(usize);

    impl Host for Count {
        fn filter(&mut self, _: &ProcRef, _: &Value, data: &[u8]) {
            self.0 += data.len();
        }
        fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &crate::core::event::SentinelEvent) {}
        fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &crate::core::event::LogEvent) {}
        fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
            None
        }
        fn get_buffer_create(&mut self, name: &[u8]) -> Value {
            Value::string(name)
        }
    }

    #[test]
    fn data_from_another_thread_all_reaches_the_dispatch() {
        const CHUNKS: usize = 300;
        let shared = Shared::new().unwrap();
        let mut host = Count::default();
        let pairs = [
            (":name", Value::string("srv")),
            (":server", Value::T),
            (":service", Value::T),
            (":host", Value::string("127.0.0.1")),
        ];
        let args = pairs.iter().map(|(k, v)| (Value::symbol(k), v.clone())).collect();
        let server = shared.make_network_process(args, &mut host).unwrap().unwrap();
        let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else {
            panic!("no port")
        };
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two descriptors, which we own from here on.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC | libc::O_NONBLOCK) }, 0);
        // SAFETY: as above.
        let read_end = unsafe { OwnedFd::from_raw_fd(fds[0]) };
        let channel = Channel::start(shared.clone(), fds[1]).unwrap();
        let network = std::thread::spawn(move || {
            let mut stream = std::net::TcpStream::connect(("127.0.0.1", port as u16)).unwrap();
            for _ in 0..CHUNKS {
                std::io::Write::write_all(&mut stream, &[b'x'; 100]).unwrap();
                std::thread::sleep(Duration::from_micros(200));
            }
        });
        // This thread is Emacs: wait for the byte, dispatch, re-arm, the boundary's check.
        let deadline = Instant::now() + Duration::from_secs(20);
        while host.0 < CHUNKS * 100 {
            assert!(Instant::now() < deadline, "{} bytes delivered", host.0);
            let mut poll_fd = libc::pollfd { fd: read_end.as_raw_fd(), events: libc::POLLIN, revents: 0 };
            // SAFETY: one valid pollfd, for the duration of the call.
            let ready = unsafe { libc::poll(&mut poll_fd, 1, 5000) };
            assert!(ready != 0, "no wake-up byte in 5 s, {} bytes delivered", host.0);
            let mut buf = [0u8; 64];
            // SAFETY: reading into a local buffer of that size.
            while unsafe { libc::read(read_end.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) } > 0 {}
            shared.poll(Some(Duration::ZERO), &mut host).unwrap();
            channel.rearm();
            if shared.next_timeout() == Some(Duration::ZERO) {
                shared.wakeup().unwrap();
            }
        }
        network.join().unwrap();
        assert_eq!(host.0, CHUNKS * 100);
    }
}

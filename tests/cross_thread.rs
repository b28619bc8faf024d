//! The context's cross-thread entry point, with real threads: `Shared::wakeup` (what
//! `netproc_wakeup` calls) from other threads while the context thread polls, and `:nowait`
//! lookups answered by resolver threads. Plain `cargo test` runs these; `make test-tsan`
//! runs them under ThreadSanitizer, with the resolver's and the Emacs channel's own tests.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use netproc::core::{Host, ProcRef, Shared, Value};

#[derive(Default)]
struct Recorder {
    sentinels: Vec<String>,
}

impl Host for Recorder {
    fn filter(&mut self, _: &ProcRef, _: &Value, _: &[u8]) {}
    fn sentinel(&mut self, process: &ProcRef, _: &Value, event: &netproc::core::event::SentinelEvent) {
        let message = &*event.message();
        self.sentinels.push(format!("{} {}", process.name_text(), message.trim_end()));
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &netproc::core::event::LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

/// Each waker thread publishes a value, then wakes the context; the context thread, in a
/// long poll, must see every value without waiting out its timeout (no lost wake-up).
#[test]
fn wakeups_from_other_threads_end_a_long_poll() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    let ctx = Shared::new().unwrap();
    let published = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicBool::new(false));
    let wakers: Vec<_> = (0..THREADS)
        .map(|_| {
            let (ctx, published) = (ctx.clone(), published.clone());
            std::thread::spawn(move || {
                for _ in 0..ROUNDS {
                    published.fetch_add(1, Ordering::Release);
                    ctx.wakeup().unwrap();
                    std::thread::yield_now();
                }
            })
        })
        .collect();
    // Meanwhile: more wake-ups than polls, which must coalesce, never pile up.
    let hammer = {
        let (ctx, done) = (ctx.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Acquire) {
                ctx.wakeup().unwrap();
            }
        })
    };
    let mut host = Recorder::default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while published.load(Ordering::Acquire) < THREADS * ROUNDS {
        assert!(Instant::now() < deadline, "a wake-up was lost");
        ctx.poll(Some(Duration::from_secs(10)), &mut host).unwrap();
    }
    for waker in wakers {
        waker.join().unwrap();
    }
    done.store(true, Ordering::Release);
    hammer.join().unwrap();
    // A burst of wake-ups is one readiness: one poll takes it, the next waits its timeout.
    for _ in 0..1000 {
        ctx.wakeup().unwrap();
    }
    let start = Instant::now();
    ctx.poll(Some(Duration::from_secs(10)), &mut host).unwrap();
    assert!(start.elapsed() < Duration::from_secs(5), "a wake-up did not end the poll");
    let start = Instant::now();
    ctx.poll(Some(Duration::from_millis(100)), &mut host).unwrap();
    assert!(start.elapsed() >= Duration::from_millis(90), "wake-ups piled up instead of coalescing");
}

fn args(pairs: &[(&str, Value)]) -> Vec<(Value, Value)> {
    pairs.iter().map(|(k, v)| (Value::symbol(k), v.clone())).collect()
}

/// `:nowait` connections resolve on resolver threads, which wake the context thread;
/// some are deleted while their lookup may be running, and the context is dropped with
/// lookups in flight.
#[test]
fn nowait_lookups_answer_across_threads_and_deletes_cancel() {
    let ctx = Shared::new().unwrap();
    let mut host = Recorder::default();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port() as i64;
    let mut clients = Vec::new();
    for i in 0..12 {
        let name = format!("c{i}");
        let client = ctx
            .make_network_process(
                args(&[
                    (":name", Value::string(&name)),
                    (":host", Value::string("localhost")),
                    (":service", Value::Int(port)),
                    (":nowait", Value::T),
                    (":sentinel", Value::symbol("s")),
                ]),
                &mut host,
            )
            .unwrap()
            .unwrap();
        if i % 3 == 2 {
            ctx.delete_process(&client, &mut host).unwrap();
        } else {
            clients.push(name);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while clients.iter().any(|name| !host.sentinels.iter().any(|s| s.starts_with(&format!("{name} ")))) {
        assert!(Instant::now() < deadline, "lookups did not finish: {:?}", host.sentinels);
        ctx.poll(Some(Duration::from_millis(100)), &mut host).unwrap();
    }
    for name in &clients {
        assert!(host.sentinels.contains(&format!("{name} open")), "{name}: {:?}", host.sentinels);
    }
    // Lookups in flight while the context goes.
    for i in 0..4 {
        ctx.make_network_process(
            args(&[
                (":name", Value::string(format!("late{i}"))),
                (":host", Value::string("localhost")),
                (":service", Value::Int(port)),
                (":nowait", Value::T),
            ]),
            &mut host,
        )
        .unwrap();
    }
    ctx.shutdown(&mut host);
    drop(ctx);
}

/// Not a test of netproc: a deliberate data race, which `make test-tsan` runs alone and
/// requires ThreadSanitizer to report, proving the build is really instrumented.
#[test]
#[ignore = "a deliberate data race for make test-tsan's canary"]
fn tsan_canary() {
    struct Racy(std::cell::UnsafeCell<u64>);
    // SAFETY: not safe at all; that is the point.
    unsafe impl Sync for Racy {}
    static RACY: Racy = Racy(std::cell::UnsafeCell::new(0));
    let writer = std::thread::spawn(|| {
        // SAFETY: none; a data race on purpose.
        unsafe { *RACY.0.get() += 1 };
    });
    // SAFETY: none; a data race on purpose.
    unsafe { *RACY.0.get() += 1 };
    writer.join().unwrap();
}

//! Heap allocations per message in a steady-state ping-pong (issue 15, item 7): a netproc
//! client sends 64 bytes, a plain std peer echoes them, the client's filter gets them and
//! the host sends the next. A counting global allocator counts every allocation in the
//! process (the peer's loop allocates nothing), after a warm-up that lets pools and queues
//! reach their size. `make bench-alloc` runs it; the exit status is non-zero if a message
//! costs an allocation.
//!
//!   alloc_pingpong [MESSAGES]     (default 100000)

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use netproc::core::event::{LogEvent, SentinelEvent};
use netproc::core::{Host, ProcRef, Shared, Value};

/// The system allocator, counting.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is passed to the system allocator unchanged; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const MESSAGE: usize = 64;

/// Counts the bytes its filter got; nothing else.
struct Pong {
    received: usize,
}

impl Host for Pong {
    fn filter(&mut self, _: &ProcRef, _: &Value, data: &[u8]) {
        self.received += data.len();
    }
    fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &SentinelEvent) {}
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

fn main() {
    let messages: usize = std::env::args().nth(1).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    let warm_up = 1_000;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = i64::from(listener.local_addr().expect("address").port());
    let total = warm_up + messages;
    // The peer keeps the connection until the count is taken: its close is not a message.
    static COUNTED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let peer = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().expect("accept");
        conn.set_nodelay(true).expect("nodelay");
        let mut block = [0u8; MESSAGE];
        for _ in 0..total {
            conn.read_exact(&mut block).expect("read");
            conn.write_all(&block).expect("write");
        }
        // (A channel would allocate here, inside the count.)
        while !COUNTED.load(Ordering::Acquire) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    let ctx = Shared::new().expect("context");
    let mut host = Pong { received: 0 };
    let key = |k: &str| Value::symbol(k);
    let args = vec![
        (key(":name"), Value::string("ping")),
        (key(":host"), Value::string("127.0.0.1")),
        (key(":service"), Value::Int(port)),
        // nil: the default filter (a symbol would be a String cloned per delivery).
        (key(":filter"), Value::Nil),
        (key(":nodelay"), Value::T),
    ];
    let client = ctx.make_network_process(args, &mut host).expect("connect").expect("a process");
    let message = [7u8; MESSAGE];
    let mut counted_from = None;
    let deadline = Instant::now() + Duration::from_secs(120);
    let started = Instant::now();
    for round in 0..total {
        if round == warm_up {
            counted_from = Some((ALLOCATIONS.load(Ordering::Relaxed), Instant::now()));
        }
        ctx.send(&client, &message).expect("send");
        let want = (round + 1) * MESSAGE;
        while host.received < want {
            assert!(Instant::now() < deadline, "no echo after {round} messages");
            ctx.poll(Some(Duration::from_millis(100)), &mut host).expect("poll");
        }
    }
    let (before, since) = counted_from.expect("more messages than the warm-up");
    let allocations = ALLOCATIONS.load(Ordering::Relaxed) - before;
    let elapsed = since.elapsed();
    COUNTED.store(true, Ordering::Release);
    peer.join().expect("peer");
    let per_message = allocations as f64 / messages as f64;
    println!(
        "ping-pong: {messages} messages of {MESSAGE} bytes after {warm_up} to warm up: \
         {allocations} heap allocations ({per_message:.4} per message), \
         {:.1} us per round trip (run took {:.2} s)",
        elapsed.as_secs_f64() * 1e6 / messages as f64,
        started.elapsed().as_secs_f64()
    );
    if allocations > 0 {
        std::process::exit(1);
    }
}

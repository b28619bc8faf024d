//! Values are shared, not copied: connections a server accepts hold its `:plist` and its
//! contact plist by reference (Emacs's `server_accept_connection` copies only the list's
//! spine). Measured with a counting allocator, so the test is about bytes, not time.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::TcpStream;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::{Duration, Instant};

use netproc::core::{ContactQuery, Host, ProcRef, Shared, Value};

/// The system allocator, counting the bytes live at any moment.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Keeps every accepted connection.
#[derive(Default)]
struct Acceptor {
    accepted: Vec<ProcRef>,
}

impl Host for Acceptor {
    fn filter(&mut self, _: &ProcRef, _: &Value, _: &[u8]) {}
    fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &netproc::core::event::SentinelEvent) {}
    fn log(&mut self, _: &ProcRef, _: &Value, client: Option<&ProcRef>, _: &netproc::core::event::LogEvent) {
        self.accepted.extend(client.cloned());
    }
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

#[test]
fn accepted_connections_share_the_servers_plist_and_contact() {
    const CONNECTIONS: usize = 100;
    const BIG: usize = 1 << 20;
    let ctx = Shared::new().unwrap();
    let mut host = Acceptor::default();
    let plist = Value::List(vec![Value::symbol(":big"), Value::string(vec![b'p'; BIG])].into());
    let args = vec![
        (Value::symbol(":name"), Value::string("srv")),
        (Value::symbol(":server"), Value::T),
        (Value::symbol(":service"), Value::T),
        (Value::symbol(":log"), Value::symbol("log")),
        (Value::symbol(":plist"), plist),
    ];
    let server = ctx.make_network_process(args, &mut host).unwrap().unwrap();
    let Value::Int(port) = server.contact(&ContactQuery::Key(":service".into()), false) else {
        panic!("no port");
    };
    let before = LIVE.load(Ordering::Relaxed);
    let mut peers = Vec::new();
    let mut kept = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while host.accepted.len() < CONNECTIONS {
        assert!(Instant::now() < deadline, "accepted only {}", host.accepted.len());
        if peers.len() < CONNECTIONS {
            peers.push(TcpStream::connect(("127.0.0.1", port as u16)).unwrap());
        }
        ctx.poll(Some(Duration::from_millis(1)), &mut host).unwrap();
    }
    for client in &host.accepted {
        // A setter writes into the contact plist; a getter builds it: neither copies.
        ctx.set_filter(client, Value::symbol("f")).unwrap();
        kept.push(client.plist());
        kept.push(client.contact(&ContactQuery::All, false));
    }
    let grown = LIVE.load(Ordering::Relaxed) - before;
    // Two copies per connection would be 200 MiB; the connections themselves, their read
    // buffers and the kept lists' spines take a few MiB.
    assert!(grown < 16 << 20, "{CONNECTIONS} connections hold {} MiB", grown >> 20);
    drop(kept);
    drop(peers);
    ctx.shutdown(&mut host);
}

//! `:nowait` name lookups in a real context, with a fake lookup in place of getaddrinfo:
//! names starting with "slow" hang (like a dead name server) until a test releases them,
//! any other name is 127.0.0.1. Literal addresses never wait for the resolver, slow names
//! hold up no other name, an overdue lookup fails its process, deleting a process frees
//! its lookup, and a resolver that cannot start a thread leaves no process behind.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::address::Address;
use super::context::{Host, Shared};
use super::error::Result;
use super::process::ProcRef;
use super::resolve::Lookup;
use super::value::Value;

static RELEASED: parking_lot::Mutex<Vec<Vec<u8>>> = parking_lot::Mutex::new(Vec::new());

fn release(host: &str) {
    RELEASED.lock().push(host.as_bytes().to_vec());
}

fn fake_lookup(query: &Lookup) -> Result<Vec<Address>> {
    let until = Instant::now() + Duration::from_secs(20);
    while query.host.starts_with(b"slow") && !RELEASED.lock().contains(&query.host) && Instant::now() < until
    {
        std::thread::sleep(Duration::from_millis(1));
    }
    let port = query.service.parse().unwrap_or(0);
    Ok(vec![Address::Inet4 { octets: [127, 0, 0, 1], port }])
}

#[derive(Default)]
struct Recorder {
    sentinels: Vec<(String, String)>,
}

impl Host for Recorder {
    fn filter(&mut self, _: &ProcRef, _: &Value, _: &[u8]) {}
    fn sentinel(&mut self, process: &ProcRef, _: &Value, event: &crate::core::event::SentinelEvent) {
        let message = &*event.message();
        self.sentinels.push((process.name_text(), message.to_string()));
    }
    fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &crate::core::event::LogEvent) {}
    fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
        None
    }
    fn get_buffer_create(&mut self, name: &[u8]) -> Value {
        Value::string(name)
    }
}

/// A context whose resolver runs `fake_lookup`, at most `threads` threads (None: as
/// many as a real context), each lookup given `deadline`.
fn context(threads: Option<usize>, deadline: Duration) -> Arc<Shared> {
    let ctx = Shared::new().unwrap();
    {
        let mut core = ctx.core.lock();
        core.lookups().resolver_mut().pool.set_work(fake_lookup, Some(deadline));
        if let Some(threads) = threads {
            core.lookups().resolver_mut().pool.max_threads = threads;
        }
    }
    ctx
}

fn nowait(ctx: &Shared, host: &mut Recorder, name: &str, port: u16) -> Result<ProcRef> {
    let args = vec![
        (Value::symbol(":name"), Value::string(name)),
        (Value::symbol(":host"), Value::string(name)),
        (Value::symbol(":service"), Value::Int(port.into())),
        (Value::symbol(":nowait"), Value::T),
    ];
    Ok(ctx.make_network_process(args, host)?.expect("a process"))
}

fn pump_until(ctx: &Shared, host: &mut Recorder, within: Duration, done: impl Fn(&Recorder) -> bool) -> bool {
    let until = Instant::now() + within;
    while !done(host) {
        if Instant::now() > until {
            return false;
        }
        ctx.poll(Some(Duration::from_millis(10)), host).unwrap();
    }
    true
}

fn opened(name: &str) -> impl Fn(&Recorder) -> bool + '_ {
    move |host| host.sentinels.iter().any(|(n, m)| n == name && m == "open\n")
}

#[test]
fn a_literal_host_never_waits_behind_the_resolver() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = context(Some(1), Duration::from_secs(60));
    let mut host = Recorder::default();
    // The only resolver thread hangs on a dead name server.
    nowait(&ctx, &mut host, "slow-literal", port).unwrap();
    let literal = nowait(&ctx, &mut host, "127.0.0.1", port).unwrap();
    assert!(pump_until(&ctx, &mut host, Duration::from_secs(3), opened("127.0.0.1")), "{:?}", host.sentinels);
    assert_eq!(literal.status().name(), "open");
    release("slow-literal");
    ctx.shutdown(&mut host);
}

#[test]
fn a_slow_name_server_holds_up_no_other_name() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = context(None, Duration::from_secs(60));
    let mut host = Recorder::default();
    for n in 1..=8 {
        nowait(&ctx, &mut host, &format!("slow-other-{n}"), port).unwrap();
    }
    nowait(&ctx, &mut host, "fast-other", port).unwrap();
    assert!(
        pump_until(&ctx, &mut host, Duration::from_secs(3), opened("fast-other")),
        "{:?}",
        host.sentinels
    );
    (1..=8).for_each(|n| release(&format!("slow-other-{n}")));
    ctx.shutdown(&mut host);
}

#[test]
fn a_lookup_past_its_deadline_fails_its_process() {
    let ctx = context(Some(1), Duration::from_millis(200));
    let mut host = Recorder::default();
    let start = Instant::now();
    let slow = nowait(&ctx, &mut host, "slow-deadline", 9).unwrap();
    // Queued behind it at the thread cap: bounded by its own deadline too.
    let queued = nowait(&ctx, &mut host, "queued-deadline", 9).unwrap();
    let failed = |name: &'static str| {
        move |host: &Recorder| {
            host.sentinels
                .contains(&(name.into(), format!("failed with code Name lookup of {name} failed\n")))
        }
    };
    assert!(
        pump_until(&ctx, &mut host, Duration::from_secs(3), failed("slow-deadline")),
        "{:?}",
        host.sentinels
    );
    assert!(
        pump_until(&ctx, &mut host, Duration::from_secs(3), failed("queued-deadline")),
        "{:?}",
        host.sentinels
    );
    assert!(start.elapsed() >= Duration::from_millis(200));
    assert_eq!((slow.status().name(), queued.status().name()), ("failed", "failed"));
    // The lookup returning at last changes nothing.
    release("slow-deadline");
    std::thread::sleep(Duration::from_millis(50));
    ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
    assert_eq!(host.sentinels.len(), 2, "{:?}", host.sentinels);
    ctx.shutdown(&mut host);
}

#[test]
fn deleting_a_process_frees_its_lookup() {
    let ctx = context(Some(1), Duration::from_secs(60));
    let mut host = Recorder::default();
    let running = nowait(&ctx, &mut host, "slow-delete", 9).unwrap();
    let queued = nowait(&ctx, &mut host, "queued-delete", 9).unwrap();
    let threads_busy = || ctx.core.lock().lookups().resolver_mut().pool.queued() == 1;
    let until = Instant::now() + Duration::from_secs(3);
    while !threads_busy() {
        assert!(Instant::now() < until, "the second lookup was not queued");
        std::thread::sleep(Duration::from_millis(1));
    }
    ctx.delete_process(&queued, &mut host).unwrap();
    ctx.delete_process(&running, &mut host).unwrap();
    ctx.notify_pending(&mut host);
    // The queued query is gone, and no one but this test holds either process, though
    // the first lookup still runs.
    assert_eq!(ctx.core.lock().lookups().resolver_mut().pool.queued(), 0);
    assert!(ctx.core.lock().lookups().is_empty());
    assert_eq!((Arc::strong_count(&queued), Arc::strong_count(&running)), (1, 1));
    release("slow-delete");
    ctx.shutdown(&mut host);
}

#[test]
fn a_resolver_that_cannot_start_leaves_no_process() {
    fn refuse() -> std::io::Result<()> {
        Err(std::io::Error::from_raw_os_error(libc::EAGAIN))
    }
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ctx = context(None, Duration::from_secs(60));
    ctx.core.lock().lookups().resolver_mut().pool.before_spawn = refuse;
    let mut host = Recorder::default();
    let error = nowait(&ctx, &mut host, "name-cannot-start", port).unwrap_err();
    assert_eq!(error.symbol.name(), "file-error");
    assert_eq!(error.message(), "Cannot start resolver thread: Resource temporarily unavailable");
    assert!(ctx.process_list().is_empty());
    assert!(ctx.core.lock().lookups().is_empty());
    // A literal address needs no thread.
    nowait(&ctx, &mut host, "127.0.0.1", port).unwrap();
    assert!(pump_until(&ctx, &mut host, Duration::from_secs(3), opened("127.0.0.1")), "{:?}", host.sentinels);
    ctx.shutdown(&mut host);
}

/// `:connect-timeout` counts the lookup: a name server that never answers fails the process
/// at its deadline with ETIMEDOUT, long before the resolver's own deadline, and the lookup
/// is abandoned (the process is let go by the lookups; a late answer changes nothing).
#[test]
fn the_connect_deadline_ends_a_pending_lookup() {
    let ctx = context(Some(1), Duration::from_secs(60));
    let mut host = Recorder::default();
    let start = Instant::now();
    let args = vec![
        (Value::symbol(":name"), Value::string("slow-timeout")),
        (Value::symbol(":host"), Value::string("slow-timeout")),
        (Value::symbol(":service"), Value::Int(9)),
        (Value::symbol(":nowait"), Value::T),
        (Value::symbol(":connect-timeout"), Value::cons(Value::Int(3), Value::Int(10))),
    ];
    let process = ctx.make_network_process(args, &mut host).unwrap().expect("a process");
    let failed =
        |host: &Recorder| host.sentinels.iter().any(|(_, message)| message == "failed with code 110\n");
    assert!(pump_until(&ctx, &mut host, Duration::from_secs(5), failed), "{:?}", host.sentinels);
    let took = start.elapsed();
    assert!(took >= Duration::from_millis(250) && took < Duration::from_secs(5), "{took:?}");
    assert_eq!(process.status().name(), "failed");
    assert!(ctx.core.lock().lookups().is_empty(), "the lookup is abandoned");
    release("slow-timeout");
    std::thread::sleep(Duration::from_millis(50));
    ctx.poll(Some(Duration::from_millis(50)), &mut host).unwrap();
    assert_eq!(host.sentinels.len(), 1, "{:?}", host.sentinels);
    ctx.shutdown(&mut host);
}

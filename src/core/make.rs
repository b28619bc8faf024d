//! `make-network-process`: the arguments checked in Emacs's order (so the first failing
//! check decides the error), resolution, the process object, and its socket.

use super::backpressure::{mark_of, Watermark, DEFAULT_HIGH_WATER};
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::address::{check_unix_path, numeric_service, Address, ServiceText, UNIX_PATH_MAX};
use super::attempts::{begin, Progress, Race};
use super::contact::Contact;
use super::context::{Host, Shared};
use super::error::{Error, Result};
use super::framing_ops::framer_from_contact;
use super::inbox::Arrival;
use super::process::{ProcRef, Role, State};
use super::process_coding::from_coding_argument;
use super::resolve::{gai_message, literal, lookup, Lookup};
use super::socket::{apply_options, new_socket, SocketKind};
use super::tls_connect::{handshake_now, tls_request};
use super::value::{FunctionRole, Plist, Value};

/// The keywords `make-network-process` reads (besides the network options). A boundary
/// whose values are objects of their own (the Emacs module) converts these to data, and
/// keeps the value of any other keyword as it is: the core only stores those in the
/// contact plist and hands them back. In strict mode (`Settings::strict_keywords`) these
/// and the options are the only keywords taken.
const READ_KEYWORDS: &[&str] = &[
    ":name",
    ":buffer",
    ":host",
    ":service",
    ":type",
    ":family",
    ":local",
    ":remote",
    ":coding",
    ":nowait",
    ":noquery",
    ":stop",
    ":filter",
    ":filter-multibyte",
    ":sentinel",
    ":log",
    ":plist",
    ":server",
    ":tls-parameters",
];

/// Whether `make-network-process` reads the value of `key` (see [`READ_KEYWORDS`]).
pub(crate) fn reads_keyword(key: &str) -> bool {
    READ_KEYWORDS.contains(&key)
        || super::socket::is_option(key)
        || super::interfaces::EXTENSION_KEYWORDS.contains(&key)
}

/// The default listen backlog.
const DEFAULT_BACKLOG: i32 = 5;

/// Where a process will connect or bind, once the arguments are checked.
enum Target {
    /// Known addresses, to try in order.
    Addresses(Vec<Address>),
    /// A name to resolve in the background (`:nowait`).
    Background(Lookup),
}

/// The checked arguments.
struct Request {
    kind: SocketKind,
    backlog: Option<i32>,
    nowait: bool,
    name: Vec<u8>,
    target: Target,
    /// For messages: the host as looked up.
    host_text: String,
    /// `:connect-timeout`: a stream client not open by then fails.
    connect_deadline: Option<Instant>,
    /// `:attempt-delay`, when given: Happy Eyeballs' delay between attempts.
    attempt_delay: Option<Duration>,
}

impl Shared {
    /// `make-network-process`. Returns None for an empty argument list, as Emacs does.
    pub fn make_network_process(
        &self,
        args: Vec<(Value, Value)>,
        host: &mut dyn Host,
    ) -> Result<Option<ProcRef>> {
        self.check_usable()?;
        if args.is_empty() {
            return Ok(None);
        }
        // The deadline counts from the call, name lookup included.
        let called = Instant::now();
        check_function_values(&args, self.settings().typed_functions)?;
        if self.settings().strict_keywords {
            check_keywords_known(&args)?;
        }
        let mut contact = Plist::from_pairs(args);
        let request = check_arguments(&mut contact, called)?;
        let race = || {
            let delay = request.attempt_delay.unwrap_or(self.settings().connect_attempt_delay);
            Race::new(delay, request.connect_deadline)
        };
        for (key, _) in contact.pairs() {
            if key.as_symbol().is_none() {
                return Err(Error::wrong_type("symbolp", key));
            }
        }
        let buffer = match contact.get_or_nil(":buffer") {
            Value::Str(name) => self.call_host(|| host.get_buffer_create(&name)),
            other @ (Value::Nil | Value::Host(_)) => other,
            other => return Err(Error::wrong_type("stringp", &other)),
        };
        let plist = match contact.get_or_nil(":plist") {
            value @ (Value::Nil | Value::List(_) | Value::Vector(_) | Value::Str(_)) => value,
            Value::Host(object) if object.is_list() => Value::Host(object),
            // copy-sequence of a dotted pair: (wrong-type-argument listp CDR).
            Value::Cons(_, cdr) => return Err(Error::wrong_type("listp", &cdr)),
            other => return Err(Error::wrong_type("sequencep", &other)),
        };
        // Step 11 too: Emacs rejects a :tls-parameters that is not a list. Files and
        // values are read now, so a bad one is the create call's error.
        let tls = tls_request(
            &contact.get_or_nil(":tls-parameters"),
            request.kind,
            request.backlog.is_some(),
            &request.host_text,
        )?;
        // Step 12: coding systems; an unknown one is (coding-system-error NAME).
        let mut coding =
            from_coding_argument(&contact.get_or_nil(":coding"), &self.settings().default_coding)?;
        // :filter-multibyte nil means unibyte strings, as documented (docs/DIFFERENCES.md).
        if contact.get(":filter-multibyte").is_some_and(Value::is_nil) {
            coding.set_filter_multibyte(false);
        }
        let watermark = watermark_request(&contact)?;
        // netproc's own: whole messages (framing_ops.rs).
        let framer = framer_from_contact(&contact, request.kind)?;
        let role = if request.backlog.is_some() { Role::Server } else { Role::Client };
        let mut state = State::new(role, request.kind, Contact::new(contact));
        state.coding = coding;
        state.set_framer(framer);
        if let Some(watermark) = watermark {
            *state.watermark_mut() = watermark;
        }
        state.set_buffer_at_opening(buffer);
        state.set_plist(plist);
        let (filter, sentinel) = (state.contact.get_or_nil(":filter"), state.contact.get_or_nil(":sentinel"));
        state.set_handlers_at_creation(filter, sentinel);
        let log = state.contact.get_or_nil(":log");
        if log.is_non_nil() {
            state.set_log(log);
        }
        state.lifecycle.set_stopped(state.contact.get_or_nil(":stop").is_non_nil());
        state.set_query_on_exit(state.contact.get_or_nil(":noquery").is_nil());
        state
            .link
            .set_abortive_close(super::socket::linger_is_abortive(state.contact.get(":linger").as_ref()));
        state.set_lookup_host(request.host_text.clone());

        let blocking_tls = tls.is_some_and(|tls| tls.apply(&mut state)) && !request.nowait;
        match (&request.target, role) {
            (Target::Addresses(addresses), Role::Server) => open_server(&mut state, &request, addresses)?,
            (Target::Addresses(addresses), _) if request.kind == SocketKind::Datagram => {
                open_datagram_client(&mut state, addresses)?
            }
            (Target::Addresses(addresses), _) if !request.nowait => {
                connect_blocking(&mut state, addresses, race())?;
                if blocking_tls {
                    handshake_now(&mut state, self.settings().tls_handshake_timeout)?;
                }
            }
            _ => {
                state.lifecycle.set_connecting();
                if request.kind != SocketKind::Datagram {
                    state.set_race(race());
                }
            }
        }

        let mut core = self.core.lock();
        let serial = core.table().next_serial();
        // The lookup starts before the process exists: a resolver that cannot start a
        // thread fails the call and leaves nothing behind in the process list.
        let (target, cancel) = match request.target {
            Target::Background(query) => (None, Some(core.lookups().submit(serial, query)?)),
            Target::Addresses(addresses) => (Some(addresses), None),
        };
        let name = core.table().unique_name(&[&request.name]);
        let process = core.new_process(serial, name, state);
        let mut state = process.state.lock();
        if let Err(err) = core.register(&process, &mut state) {
            if cancel.is_some() {
                core.lookups().cancel(serial);
            }
            return Err(Error::file("make client process failed", &err, vec![]));
        }
        core.table().list(&process, &mut state);
        match target {
            None => {
                state.set_lookup(cancel);
                core.lookups().wait_for(serial, &process);
                if let Some(deadline) = state.race_mut().and_then(|race| race.deadline()) {
                    core.deadlines().wake_connect_at(&process, deadline);
                }
            }
            Some(addresses) if state.lifecycle.is_connecting() => {
                // :nowait to known addresses (unix sockets, literal hosts): connect now,
                // report later. A failure found inside this call is the caller's news at
                // once, as process-status shows in Emacs; its sentinel still runs from the
                // next poll.
                if let Some(failure) = core.begin_connect(&process, &mut state, addresses) {
                    state.lifecycle.connect_failed(failure);
                }
            }
            Some(_) => {
                if blocking_tls {
                    // Open already; its "open\n" sentinel runs as Emacs's
                    // finish_after_tls_connection runs it.
                    core.inbox().record(&process, &mut state, Arrival::Connected { already_open: true });
                }
                if state.lifecycle.is_active() {
                    state.link.mark_readable();
                    core.round().mark_ready(&process, &mut state);
                }
            }
        }
        drop(state);
        Ok(Some(process))
    }
}

/// A host's typed functions, checked before anything else, in argument order: a value that
/// cannot be called as the function its keyword names is `(wrong-type-argument functionp
/// VALUE)`, and a function where a buffer goes `(wrong-type-argument stringp VALUE)`, as
/// Emacs's get-buffer-create says of a non-string.
/// `:high-water BYTES` and `:drain FUNCTION`: a mark for the output queue, if either is
/// given (the other defaults to 64 KiB, or no drain function).
fn watermark_request(contact: &Plist) -> Result<Option<Watermark>> {
    let high_water = contact.get(":high-water").filter(|value| value.is_non_nil());
    let drain = contact.get_or_nil(":drain");
    if high_water.is_none() && drain.is_nil() {
        return Ok(None);
    }
    let mark = match high_water {
        None => DEFAULT_HIGH_WATER,
        Some(value) => mark_of(value).ok_or_else(|| Error::msg("Bad option value for :high-water"))?,
    };
    Ok(Some(Watermark::new(mark, drain)))
}

/// Strict mode: every key is a keyword `make-network-process` reads.
fn check_keywords_known(args: &[(Value, Value)]) -> Result<()> {
    for (key, _) in args {
        match key.as_symbol() {
            Some(name) if reads_keyword(name) => {}
            Some(name) => return Err(Error::msg(format!("Unknown keyword {name}"))),
            None => return Err(Error::wrong_type("symbolp", key)),
        }
    }
    Ok(())
}

fn check_function_values(args: &[(Value, Value)], typed: bool) -> Result<()> {
    for (key, value) in args {
        let Some(key) = key.as_symbol() else { continue };
        if let Some(role) = FunctionRole::of_keyword(key) {
            if !value.fits_function(role, typed) {
                return Err(Error::wrong_type("functionp", value));
            }
        }
        if key == ":buffer" && value.function_role().is_some() {
            return Err(Error::wrong_type("stringp", value));
        }
    }
    Ok(())
}

/// Steps 1–8 of Emacs's checks, leaving resolution ready to run.
fn check_arguments(contact: &mut Plist, called: Instant) -> Result<Request> {
    let kind = SocketKind::from_value(&contact.get_or_nil(":type"))?;
    let connect_timeout = seconds_argument(contact, ":connect-timeout")?;
    if connect_timeout.is_some_and(|timeout| timeout.is_zero()) {
        return Err(Error::msg(":connect-timeout must be more than 0 seconds"));
    }
    let connect_deadline = connect_timeout.and_then(|timeout| called.checked_add(timeout));
    let attempt_delay = seconds_argument(contact, ":attempt-delay")?;
    let server = contact.get_or_nil(":server");
    let nowait = contact.get_or_nil(":nowait").is_non_nil();
    if server.is_non_nil() && nowait {
        // Emacs runs this text through substitute-command-keys, which curves the quotes in a
        // UTF-8 locale; netproc always gives the curved form.
        return Err(Error::msg("‘:server’ is incompatible with ‘:nowait’"));
    }
    let name = match contact.get_or_nil(":name") {
        Value::Str(name) => name.to_vec(),
        other => return Err(Error::wrong_type("stringp", &other)),
    };
    let is_server = server.is_non_nil();
    // Clients use :remote; servers use :local (and datagram servers read :remote later).
    let address_key = if is_server { ":local" } else { ":remote" };
    let given_address = match contact.get_or_nil(address_key) {
        Value::Nil => None,
        value => Some(Address::from_value(&value)?),
    };
    let family = match contact.get_or_nil(":family") {
        Value::Nil => libc::AF_UNSPEC,
        Value::Symbol(name) if name == "ipv4" => libc::AF_INET,
        Value::Symbol(name) if name == "ipv6" => libc::AF_INET6,
        Value::Symbol(name) if name == "local" => libc::AF_UNIX,
        Value::Int(raw) if i32::try_from(raw).is_ok() => raw as i32,
        _ => return Err(Error::msg("Unknown address family")),
    };
    let host = match contact.get_or_nil(":host") {
        Value::Nil => None,
        Value::Symbol(name) if name == "local" => None,
        Value::Str(text) => Some(text.to_vec()),
        other => return Err(Error::wrong_type("stringp", &other)),
    };
    let backlog = match server {
        Value::Nil => None,
        Value::Int(n) if n < 0 => return Err(Error::wrong_type("natnump", &Value::Int(n))),
        Value::Int(n) => Some(n.min(i32::MAX as i64) as i32),
        _ => Some(DEFAULT_BACKLOG),
    };
    // A unix path, or an address given as :remote / :local, needs no resolution.
    let known = |address| Request {
        kind,
        backlog,
        nowait,
        name: name.clone(),
        target: Target::Addresses(vec![address]),
        host_text: String::new(),
        connect_deadline,
        attempt_delay,
    };
    if family == libc::AF_UNIX {
        let path = match contact.get_or_nil(":service") {
            Value::Str(path) => path.to_vec(),
            other if given_address.is_none() => return Err(Error::wrong_type("stringp", &other)),
            _ => Vec::new(),
        };
        if path.len() >= UNIX_PATH_MAX {
            return Err(Error::msg("Service name too long"));
        }
        check_unix_path(&path, &contact.get_or_nil(":service"))?;
        if contact.contains(":host") {
            contact.put(":host", Value::Nil);
        }
        return Ok(known(given_address.unwrap_or(Address::Local(path))));
    }
    if let Some(address) = given_address {
        return Ok(known(address));
    }
    let host = host.unwrap_or_else(|| {
        let default = if family == libc::AF_INET6 { "::1" } else { "127.0.0.1" };
        default.as_bytes().to_vec()
    });
    let host_text = String::from_utf8_lossy(&host).into_owned();
    if !host.is_ascii() {
        return Err(Error::msg(format!(
            "Non-ASCII hostname {host_text} detected, please use puny-encode-domain"
        )));
    }
    let service = service_text(&contact.get_or_nil(":service"), &host_text)?;
    let query = Lookup { host, service, family, socktype: kind.socktype(), numeric_host: false };
    let target = if nowait && !is_server {
        // A literal address needs no resolver thread, so it never waits behind lookups
        // of other names (Emacs sends every :nowait host through getaddrinfo_a).
        match literal(&query) {
            Some(addresses) => Target::Addresses(addresses),
            None => Target::Background(query),
        }
    } else {
        Target::Addresses(lookup(&query)?)
    };
    Ok(Request { kind, backlog, nowait, name, target, host_text, connect_deadline, attempt_delay })
}

/// A number of seconds (`:connect-timeout`, `:attempt-delay`): nil for none, an integer,
/// or `(TICKS . HZ)`, Emacs's time value for fractions (a Lisp float arrives so from the
/// Emacs module, which converts it with `time-convert`; C hosts have no floats).
fn seconds_argument(contact: &Plist, key: &str) -> Result<Option<Duration>> {
    let value = contact.get_or_nil(key);
    let (ticks, hz) = match &value {
        Value::Nil => return Ok(None),
        Value::Int(seconds) => (*seconds, 1),
        Value::Cons(ticks, hz) => match (&**ticks, &**hz) {
            (Value::Int(ticks), Value::Int(hz)) if *hz > 0 => (*ticks, *hz),
            _ => return Err(Error::wrong_type("numberp", &value)),
        },
        _ => return Err(Error::wrong_type("numberp", &value)),
    };
    if ticks < 0 {
        return Err(Error::msg(format!("{key} must not be negative")));
    }
    let nanos = u128::from(ticks.unsigned_abs()) * 1_000_000_000 / u128::from(hz.unsigned_abs());
    // Past u64 nanoseconds (584 years) is as good as forever.
    Ok(Some(Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))))
}

/// The service as Emacs writes it for getaddrinfo. Unlike Emacs (whose getaddrinfo wraps
/// ports modulo 65536), a number outside 0–65535 is an error, whether an integer or text
/// that getaddrinfo would read as a number, sign and leading white space included
/// (`"+65616"` would be port 80). A negative number as text is getaddrinfo's own error, as
/// Emacs shows it for `"-1"`.
fn service_text(service: &Value, host: &str) -> Result<String> {
    let text = match service {
        Value::T => return Ok("0".into()),
        Value::Int(port) => port.to_string(),
        Value::Str(text) => String::from_utf8_lossy(text).into_owned(),
        other => return Err(Error::wrong_type("stringp", other)),
    };
    let in_range = match service {
        Value::Int(port) => (0..=65535).contains(port),
        _ => match numeric_service(text.as_bytes()) {
            ServiceText::Name | ServiceText::Port(_) => true,
            ServiceText::OutOfRange => false,
            ServiceText::Negative => {
                return Err(Error::msg(format!("{host}/{text} {}", gai_message(libc::EAI_SERVICE))))
            }
        },
    };
    if !in_range {
        return Err(Error::msg(format!("{host}/{text} Port number out of range")));
    }
    Ok(text)
}

fn contact_data(contact: &Plist) -> Vec<Value> {
    match contact.to_value() {
        Value::List(items) => items.to_vec(),
        _ => Vec::new(),
    }
}

/// Bind (and listen on) the first address whose socket can be made.
fn open_server(state: &mut State, request: &Request, addresses: &[Address]) -> Result<()> {
    let mut socket_error = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
    let mut opened = None;
    for address in addresses {
        match new_socket(address.family(), request.kind) {
            Ok(socket) => {
                opened = Some((socket, address));
                break;
            }
            Err(err) => socket_error = err,
        }
    }
    let Some((socket, address)) = opened else {
        return Err(Error::file(
            "make server process failed",
            &socket_error,
            contact_data(&state.contact.plist()),
        ));
    };
    apply_options(&socket, &state.contact.plist())?;
    let local_family = address.family() == libc::AF_UNIX;
    if !local_family && !state.contact.contains(":reuseaddr") {
        socket
            .set_reuse_address(true)
            .map_err(|err| Error::file("Cannot set reuse option on server socket", &err, vec![]))?;
    }
    socket
        .bind(&address.to_sockaddr())
        .map_err(|err| Error::file("Cannot bind server socket", &err, vec![]))?;
    if request.kind != SocketKind::Datagram {
        socket
            .listen(request.backlog.unwrap_or(DEFAULT_BACKLOG))
            .map_err(|err| Error::file("Cannot listen on server socket", &err, vec![]))?;
        state.lifecycle.set_listening();
    } else {
        let remote = state.contact.get_or_nil(":remote");
        state.set_datagram_peer(
            Address::from_value(&remote).ok().filter(|peer| peer.family() == address.family()),
        );
    }
    socket.set_nonblocking(true).map_err(|err| Error::file("make server process failed", &err, vec![]))?;
    let local = socket.local_addr().map(|addr| Address::from_sockaddr(&addr));
    if let Ok(local) = local {
        state.set_serves_one_address(!local.is_unspecified());
        if let Some(port) = local.port() {
            state.contact.put(":service", Value::Int(port as i64));
        }
        state.contact.put(":local", local.to_value());
    }
    state.set_family(address.family());
    state.link.attach(socket);
    Ok(())
}

/// A datagram client: a socket and a peer address; nothing to connect.
fn open_datagram_client(state: &mut State, addresses: &[Address]) -> Result<()> {
    let mut last_error = io::Error::from_raw_os_error(libc::EADDRNOTAVAIL);
    for address in addresses {
        match new_socket(address.family(), SocketKind::Datagram) {
            Ok(socket) => {
                socket
                    .set_nonblocking(true)
                    .map_err(|err| Error::file("make client process failed", &err, vec![]))?;
                state.contact.put(":remote", address.to_value());
                if let Ok(local) = socket.local_addr() {
                    state.contact.put(":local", Address::from_sockaddr(&local).to_value());
                }
                state.set_family(address.family());
                state.set_datagram_peer(Some(address.clone()));
                state.link.attach(socket);
                return Ok(());
            }
            Err(err) => last_error = err,
        }
    }
    Err(Error::file("make client process failed", &last_error, contact_data(&state.contact.plist())))
}

/// Connect to the addresses as a `:nowait` client does (Happy Eyeballs, and the deadline
/// of `:connect-timeout`), but wait for the result: the call returns connected, as Emacs's
/// does without `:nowait`, or signals why not.
fn connect_blocking(state: &mut State, addresses: &[Address], mut race: Race) -> Result<()> {
    let kind = state.kind();
    let options = state.contact.plist().into_owned();
    // A bad option fails every attempt the same way: it is what the call signals.
    let mut option_error = None;
    race.set_addresses(addresses.to_vec());
    let outcome = loop {
        let progress = race.advance(Instant::now(), &mut |address| {
            let socket = new_socket(address.family(), kind)
                .map_err(|err| err.raw_os_error().unwrap_or(libc::EMFILE))?;
            if let Err(err) = apply_options(&socket, &options) {
                let errno = err.errno.max(1);
                option_error.get_or_insert(err);
                return Err(errno);
            }
            begin(socket, address)
        });
        drop(race.take_closed());
        match progress {
            Progress::Won(winner) => break Ok(winner),
            Progress::Failed(errno) => break Err(io::Error::from_raw_os_error(errno)),
            Progress::Waiting => wait_for_attempts(&race),
        }
    };
    match outcome {
        Ok(winner) => {
            state.contact.put(":remote", winner.address.to_value());
            if let Ok(local) = winner.socket.local_addr() {
                state.contact.put(":local", Address::from_sockaddr(&local).to_value());
            }
            state.set_family(winner.address.family());
            state.link.attach(winner.socket);
            Ok(())
        }
        Err(_) if option_error.is_some() => Err(option_error.take().expect("checked")),
        Err(err) => {
            Err(Error::file("make client process failed", &err, contact_data(&state.contact.plist())))
        }
    }
}

/// Wait in poll(2) until an attempt of `race` finishes or the race's next time comes. A
/// signal ends the wait early; the caller looks and waits again.
fn wait_for_attempts(race: &Race) {
    let mut waiting: Vec<libc::pollfd> = race
        .in_flight()
        .map(|socket| libc::pollfd { fd: socket.as_raw_fd(), events: libc::POLLOUT, revents: 0 })
        .collect();
    let timeout = race.wake_at().map_or(-1, |at| {
        // Rounded up, so that the wait does not end just before the time and spin.
        let left = at.saturating_duration_since(Instant::now());
        i32::try_from(left.as_micros().div_ceil(1000)).unwrap_or(i32::MAX)
    });
    // SAFETY: `waiting` holds `waiting.len()` valid pollfds.
    unsafe { libc::poll(waiting.as_mut_ptr(), waiting.len() as libc::nfds_t, timeout) };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(pairs: &[(&str, Value)]) -> Plist {
        Plist::from_pairs(pairs.iter().map(|(k, v)| (Value::symbol(k), v.clone())).collect())
    }

    fn error_of(pairs: &[(&str, Value)]) -> String {
        match check_arguments(&mut args(pairs), Instant::now()) {
            Ok(_) => "ok".into(),
            Err(err) => format!("{}: {}", err.symbol, err.message()),
        }
    }

    #[test]
    fn function_values_are_checked_for_typed_hosts_only() {
        let pairs = |key: &str, value: Value| vec![(Value::symbol(key), value)];
        let symbol = Value::symbol("my-filter");
        let typed = check_function_values(&pairs(":filter", symbol.clone()), true).unwrap_err();
        assert_eq!(typed.message(), "Wrong type argument: functionp, my-filter");
        assert!(check_function_values(&pairs(":filter", symbol), false).is_ok(), "Lisp takes anything");
        assert!(check_function_values(&pairs(":filter", Value::T), true).is_ok());
        assert!(check_function_values(&pairs(":sentinel", Value::T), true).is_err(), "t is a filter only");
        assert!(check_function_values(&pairs(":log", Value::Nil), true).is_ok());
    }

    #[test]
    fn checks_run_in_emacs_order() {
        assert_eq!(
            error_of(&[(":type", Value::symbol("bogus")), (":name", Value::Int(1))]),
            "error: Unsupported connection type"
        );
        assert_eq!(
            error_of(&[(":server", Value::T), (":nowait", Value::T), (":name", Value::Int(1))]),
            "error: ‘:server’ is incompatible with ‘:nowait’"
        );
        assert_eq!(
            error_of(&[(":name", Value::Int(1))]),
            "wrong-type-argument: Wrong type argument: stringp, 1"
        );
        assert_eq!(
            error_of(&[(":name", Value::string("x")), (":remote", Value::Int(1))]),
            "error: Malformed :address"
        );
        assert_eq!(
            error_of(&[(":name", Value::string("x")), (":family", Value::symbol("ipx"))]),
            "error: Unknown address family"
        );
        assert_eq!(
            error_of(&[(":name", Value::string("x")), (":host", Value::Int(3))]),
            "wrong-type-argument: Wrong type argument: stringp, 3"
        );
        assert_eq!(
            error_of(&[
                (":name", Value::string("x")),
                (":family", Value::symbol("local")),
                (":service", Value::string(vec![b'a'; 108]))
            ]),
            "error: Service name too long"
        );
        assert_eq!(
            error_of(&[(":name", Value::string("x")), (":service", Value::Nil)]),
            "wrong-type-argument: Wrong type argument: stringp, nil"
        );
        assert_eq!(
            error_of(&[(":name", Value::string("x")), (":service", Value::Int(70000))]),
            "error: 127.0.0.1/70000 Port number out of range"
        );
    }

    #[test]
    fn tls_parameters_are_checked_when_created() {
        let ctx = super::super::Shared::new().unwrap();
        let make = |tls: Value| {
            let args = vec![
                (Value::symbol(":name"), Value::string("tls")),
                (Value::symbol(":server"), Value::T),
                (Value::symbol(":service"), Value::T),
                (Value::symbol(":tls-parameters"), tls),
            ];
            match ctx.make_network_process(args, &mut NoHost) {
                Ok(made) => format!("ok {}", made.map_or("none", |p| p.status().name())),
                Err(err) => format!("{}: {}", err.symbol, err.message()),
            }
        };
        let boot =
            Value::cons(Value::symbol("gnutls-x509pki"), Value::list(vec![Value::symbol(":hostname")]));
        assert_eq!(
            make(boot),
            "error: A TLS server needs a certificate and key: give :keylist or :cert-pem and :key-pem"
        );
        assert_eq!(make(Value::list(vec![Value::T])), "error: Unknown TLS credential type: t");
        assert_eq!(make(Value::Int(1)), "wrong-type-argument: Wrong type argument: listp, 1");
        assert_eq!(make(Value::Nil), "ok listen");
        assert!(ctx.process_list().len() == 1);
    }

    /// A host that is never called: the processes made here have no callbacks to run.
    struct NoHost;

    impl super::super::Host for NoHost {
        fn filter(&mut self, _: &ProcRef, _: &Value, _: &[u8]) {}
        fn sentinel(&mut self, _: &ProcRef, _: &Value, _: &crate::core::event::SentinelEvent) {}
        fn log(&mut self, _: &ProcRef, _: &Value, _: Option<&ProcRef>, _: &crate::core::event::LogEvent) {}
        fn buffer_name(&mut self, _: &Value) -> Option<Vec<u8>> {
            None
        }
        fn get_buffer_create(&mut self, name: &[u8]) -> Value {
            Value::string(name)
        }
    }
}

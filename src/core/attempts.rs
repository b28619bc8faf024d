//! A stream client's connect, as a race between its addresses (Happy Eyeballs, RFC 8305)
//! under an optional deadline (`:connect-timeout`).
//!
//! The addresses are tried in RFC 8305 §4's order: the families interleaved, starting with
//! the family of the resolver's first answer. An attempt starts when the one before it
//! failed, or `delay` after the one before it started if that one has not finished by
//! then; the first to connect wins, and the others are closed. At the deadline every
//! attempt is closed and the connect fails with ETIMEDOUT.
//!
//! This module owns the sockets of the attempts in flight and decides what happens next;
//! it knows no poller. The reactor (connect.rs) registers each attempt as it starts and
//! closes what [`Race::take_closed`] hands back; a blocking create (make.rs) waits for the
//! attempts in poll(2) itself.

use std::collections::VecDeque;
use std::io;
use std::time::{Duration, Instant};

use socket2::Socket;

use super::address::Address;

/// RFC 8305 §5: the delay between attempts "MUST NOT be less than 10 ms", so that a host
/// given 0 does not flood the network with simultaneous attempts.
pub(crate) const MIN_ATTEMPT_DELAY: Duration = Duration::from_millis(10);

/// One connect in flight (or just finished).
pub(crate) struct Attempt {
    pub(crate) socket: Socket,
    pub(crate) address: Address,
    /// The reactor slot its socket is registered under (none in a blocking create).
    pub(crate) slot: Option<usize>,
}

/// How starting an attempt went.
pub(crate) enum Started {
    /// connect(2) finished at once (unix sockets).
    Connected(Attempt),
    /// connect(2) is in progress.
    InProgress(Attempt),
}

/// Where the race stands after [`Race::advance`].
pub(crate) enum Progress {
    /// Attempts are in flight (or the addresses are not known yet): look again when an
    /// attempt's socket is ready, or at [`Race::wake_at`].
    Waiting,
    /// This attempt connected; the others are closed (see [`Race::take_closed`]).
    Won(Attempt),
    /// Every address failed (the errno of the last failure), or the deadline passed
    /// (ETIMEDOUT).
    Failed(i32),
}

pub(crate) struct Race {
    /// Addresses not tried yet, in the order to try them.
    pending: VecDeque<Address>,
    /// Whether the addresses are known (a `:nowait` lookup may still be running).
    addresses_known: bool,
    in_flight: Vec<Attempt>,
    /// Attempts that failed or lost, for the caller to close.
    closed: Vec<Attempt>,
    delay: Duration,
    deadline: Option<Instant>,
    /// When the next pending address starts if no attempt has connected by then.
    next_start: Option<Instant>,
    /// What the last failed attempt failed with.
    last_errno: i32,
}

impl Race {
    /// A race with no addresses yet; `delay` between attempts (at least
    /// [`MIN_ATTEMPT_DELAY`]), failing at `deadline` if one is given.
    pub(crate) fn new(delay: Duration, deadline: Option<Instant>) -> Race {
        Race {
            pending: VecDeque::new(),
            addresses_known: false,
            in_flight: Vec::new(),
            closed: Vec::new(),
            delay: delay.max(MIN_ATTEMPT_DELAY),
            deadline,
            next_start: None,
            last_errno: libc::EADDRNOTAVAIL,
        }
    }

    /// The addresses to connect to, as the resolver gave them; tried in RFC 8305's order.
    pub(crate) fn set_addresses(&mut self, addresses: Vec<Address>) {
        self.pending = interleave_families(addresses).into();
        self.addresses_known = true;
    }

    /// The deadline, if there is one.
    pub(crate) fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// When the race must be looked at again even if no socket reports anything: the
    /// next attempt's start, or the deadline, whichever is sooner.
    pub(crate) fn wake_at(&self) -> Option<Instant> {
        let next = self.next_start.filter(|_| !self.pending.is_empty() && !self.in_flight.is_empty());
        match (next, self.deadline) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The sockets of the attempts in flight, for a blocking create to poll.
    pub(crate) fn in_flight(&self) -> impl Iterator<Item = &Socket> {
        self.in_flight.iter().map(|attempt| &attempt.socket)
    }

    /// Attempts that failed or lost since the last call, for the caller to close.
    pub(crate) fn take_closed(&mut self) -> Vec<Attempt> {
        std::mem::take(&mut self.closed)
    }

    /// Every attempt, in flight or closed (the process is deleted, or its context freed).
    pub(crate) fn abandon(mut self) -> Vec<Attempt> {
        self.closed.append(&mut self.in_flight);
        self.closed
    }

    /// Look at the attempts in flight, then start what is due at `now` with `start`
    /// (which makes the socket and calls connect(2); an errno when either fails).
    pub(crate) fn advance(
        &mut self,
        now: Instant,
        start: &mut dyn FnMut(&Address) -> Result<Started, i32>,
    ) -> Progress {
        let mut index = 0;
        while index < self.in_flight.len() {
            match connect_result(&self.in_flight[index].socket) {
                None => index += 1,
                Some(Ok(())) => {
                    let winner = self.in_flight.swap_remove(index);
                    return self.won(winner);
                }
                Some(Err(errno)) => {
                    self.last_errno = errno;
                    self.closed.push(self.in_flight.swap_remove(index));
                    // RFC 8305 §5: a failed attempt lets the next one start at once.
                    self.next_start = Some(now);
                }
            }
        }
        if self.deadline.is_some_and(|deadline| deadline <= now) {
            self.closed.append(&mut self.in_flight);
            self.pending.clear();
            return Progress::Failed(libc::ETIMEDOUT);
        }
        while self.in_flight.is_empty() || self.next_start.is_some_and(|at| at <= now) {
            let Some(address) = self.pending.pop_front() else { break };
            match start(&address) {
                Ok(Started::Connected(attempt)) => return self.won(attempt),
                Ok(Started::InProgress(attempt)) => {
                    self.in_flight.push(attempt);
                    self.next_start = Some(now + self.delay);
                }
                Err(errno) => {
                    self.last_errno = errno;
                    self.next_start = Some(now);
                }
            }
        }
        if self.in_flight.is_empty() && self.addresses_known {
            return Progress::Failed(self.last_errno);
        }
        Progress::Waiting
    }

    fn won(&mut self, winner: Attempt) -> Progress {
        self.closed.append(&mut self.in_flight);
        self.pending.clear();
        Progress::Won(winner)
    }
}

/// Start connecting `socket` (non-blocking) to `address`.
pub(crate) fn begin(socket: Socket, address: &Address) -> Result<Started, i32> {
    let errno = |err: io::Error| err.raw_os_error().unwrap_or(libc::ECONNREFUSED);
    socket.set_nonblocking(true).map_err(errno)?;
    let attempt = |socket| Attempt { socket, address: address.clone(), slot: None };
    match socket.connect(&address.to_sockaddr()) {
        Ok(()) => Ok(Started::Connected(attempt(socket))),
        Err(err) if err.raw_os_error() == Some(libc::EINPROGRESS) => Ok(Started::InProgress(attempt(socket))),
        Err(err) => Err(errno(err)),
    }
}

/// How a non-blocking connect went: None while it is in flight.
fn connect_result(socket: &Socket) -> Option<Result<(), i32>> {
    let errno = |err: io::Error| err.raw_os_error().unwrap_or(libc::ECONNREFUSED);
    match socket.take_error() {
        Ok(Some(err)) | Err(err) => Some(Err(errno(err))),
        Ok(None) => match socket.peer_addr() {
            Ok(_) => Some(Ok(())),
            // Not connected yet (a readiness event of another attempt, or a spurious one).
            Err(err) if err.raw_os_error() == Some(libc::ENOTCONN) => None,
            Err(err) => Some(Err(errno(err))),
        },
    }
}

/// RFC 8305 §4: the resolver's order, with the address families alternating, starting
/// with the family of its first answer (the "First Address Family Count" is 1). Other
/// families (unix sockets) keep their place at the end.
pub(crate) fn interleave_families(addresses: Vec<Address>) -> Vec<Address> {
    let Some(first) = addresses.first().map(Address::family) else { return addresses };
    let inet = |family| family == libc::AF_INET || family == libc::AF_INET6;
    if !inet(first) {
        return addresses;
    }
    let (mut preferred, mut other, mut rest) = (VecDeque::new(), VecDeque::new(), Vec::new());
    for address in addresses {
        match address.family() {
            family if family == first => preferred.push_back(address),
            family if inet(family) => other.push_back(address),
            _ => rest.push(address),
        }
    }
    let mut ordered = Vec::with_capacity(preferred.len() + other.len() + rest.len());
    while !preferred.is_empty() || !other.is_empty() {
        ordered.extend(preferred.pop_front());
        ordered.extend(other.pop_front());
    }
    ordered.extend(rest);
    ordered
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> Address {
        Address::Inet4 { octets: [192, 0, 2, last], port: 80 }
    }

    fn v6(last: u8) -> Address {
        Address::Inet6 { groups: [0x2001, 0xdb8, 0, 0, 0, 0, 0, u16::from(last)], port: 80 }
    }

    #[test]
    fn families_alternate_from_the_first_answer() {
        let order = interleave_families(vec![v6(1), v6(2), v6(3), v4(1), v4(2)]);
        assert_eq!(order, vec![v6(1), v4(1), v6(2), v4(2), v6(3)]);
        let order = interleave_families(vec![v4(1), v4(2), v6(1)]);
        assert_eq!(order, vec![v4(1), v6(1), v4(2)]);
        assert_eq!(interleave_families(vec![v4(1), v4(2)]), vec![v4(1), v4(2)]);
        assert!(interleave_families(Vec::new()).is_empty());
    }

    #[test]
    fn every_address_failing_at_once_fails_with_the_last_errno() {
        let mut race = Race::new(Duration::from_millis(250), None);
        race.set_addresses(vec![v6(1), v4(1), v4(2)]);
        let mut tried = Vec::new();
        let progress = race.advance(Instant::now(), &mut |address| {
            tried.push(address.clone());
            Err(if address.family() == libc::AF_INET6 { libc::ENETUNREACH } else { libc::ECONNREFUSED })
        });
        assert!(matches!(progress, Progress::Failed(libc::ECONNREFUSED)));
        assert_eq!(tried, vec![v6(1), v4(1), v4(2)], "a failure starts the next at once");
    }

    #[test]
    fn no_addresses_yet_waits_until_the_deadline() {
        let now = Instant::now();
        let mut race = Race::new(Duration::ZERO, Some(now + Duration::from_secs(1)));
        let mut never = |_: &Address| -> Result<Started, i32> { panic!("nothing to start") };
        assert!(matches!(race.advance(now, &mut never), Progress::Waiting));
        assert_eq!(race.wake_at(), Some(now + Duration::from_secs(1)));
        let later = now + Duration::from_secs(2);
        assert!(matches!(race.advance(later, &mut never), Progress::Failed(libc::ETIMEDOUT)));
        assert_eq!(race.delay, MIN_ATTEMPT_DELAY);
    }
}

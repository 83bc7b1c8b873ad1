//! The `outports` network feature: a comma list of
//! `[cidr-]port[:port or -port][/tcp, /udp or /icmp]`, e.g. `22/tcp,80/tcp`,
//! `8000:8080/udp`, `8899/tcp-8899/tcp` or `10.0.0.0/8-22`.

use std::net::IpAddr;

use winnow::ascii::{Caseless, digit1};
use winnow::combinator::{alt, opt, preceded, terminated};
use winnow::error::ModalResult;
use winnow::prelude::*;
use winnow::token::take_while;

/// Whether `value` is a valid `outports` value.
#[must_use]
pub fn is_valid(value: &str) -> bool {
    !value.trim().is_empty()
        && value.split(',').all(|item| {
            let mut input = item.trim();
            entry.parse_next(&mut input).is_ok() && input.is_empty()
        })
}

fn entry(input: &mut &str) -> ModalResult<()> {
    let _ = opt(terminated(cidr, '-')).parse_next(input)?;
    port.parse_next(input)?;
    alt((
        (':', port, opt(protocol)).void(),
        (opt(protocol), opt(('-', port, opt(protocol)))).void(),
    ))
    .parse_next(input)
}

fn port(input: &mut &str) -> ModalResult<u16> {
    digit1.try_map(str::parse::<u16>).parse_next(input)
}

fn protocol(input: &mut &str) -> ModalResult<()> {
    preceded(
        '/',
        alt((Caseless("tcp"), Caseless("udp"), Caseless("icmp"))),
    )
    .void()
    .parse_next(input)
}

/// `<address>/<prefix length>`
fn cidr(input: &mut &str) -> ModalResult<()> {
    (
        take_while(1.., |c: char| c.is_ascii_hexdigit() || c == '.' || c == ':'),
        '/',
        digit1,
    )
        .verify(|(address, _, bits): &(&str, char, &str)| {
            let bits = bits.parse::<u8>().ok();
            match address.parse::<IpAddr>() {
                Ok(IpAddr::V4(_)) => bits.is_some_and(|b| b <= 32),
                Ok(IpAddr::V6(_)) => bits.is_some_and(|b| b <= 128),
                Err(_) => false,
            }
        })
        .void()
        .parse_next(input)
}

#[cfg(test)]
mod tests {
    use super::is_valid;

    #[test]
    fn accepts_ports_ranges_mappings_protocols_and_cidrs() {
        for ok in [
            "22",
            "22/tcp,80/tcp",
            "22/TCP, 53/udp",
            "8/icmp",
            "8000:8080",
            "8000:8080/udp",
            "8899/tcp-8899/tcp",
            "8899-8899",
            "10.0.0.0/8-22/tcp",
            "0.0.0.0/0-1:10/tcp",
            "::/0-443",
        ] {
            assert!(is_valid(ok), "{ok}");
        }
    }

    #[test]
    fn rejects_anything_else() {
        for bad in [
            "",
            "a",
            "22/sctp",
            "22,",
            "70000",
            "22:",
            "22/tcp-",
            "10.0.0.0/33-22",
            "1.2.3/8-22",
            "22 80",
        ] {
            assert!(!is_valid(bad), "{bad}");
        }
    }
}

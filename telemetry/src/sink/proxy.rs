//! Which proxy a request goes through, read from the environment the way curl and most
//! HTTP clients read it (the client's own reading took the first variable set for every
//! scheme and matched `NO_PROXY` entries as exact strings):
//!
//! - an `https` endpoint: `HTTPS_PROXY` / `https_proxy`, else `ALL_PROXY` / `all_proxy`;
//! - an `http` endpoint: `HTTP_PROXY` / `http_proxy`, else `ALL_PROXY` / `all_proxy`;
//!   `HTTP_PROXY` is ignored in a CGI program (`REQUEST_METHOD` set), where a client's
//!   `Proxy:` header would have set it ("httpoxy");
//! - `NO_PROXY` / `no_proxy`: comma-separated, spaces ignored; `*` matches every host; a
//!   name matches itself and its subdomains (`example.com`, `.example.com`); an IP
//!   address matches itself, a CIDR block (`10.0.0.0/8`, `fd00::/8`) its addresses;
//!   IPv6 brackets and a `:port` are ignored;
//! - only `http://` proxies are used (a CONNECT tunnel); another scheme (`socks5://`)
//!   is not supported and means no proxy from that variable;
//! - loopback endpoints never go through a proxy.
//!
//! The upper-case name wins when both are set.

use std::net::IpAddr;

use ureq::http::Uri;

/// The proxy URL for `endpoint`, if one applies; `var` reads the environment.
pub(crate) fn for_endpoint(endpoint: &Uri, var: impl Fn(&str) -> Option<String>) -> Option<String> {
    let read = |name: &str| {
        var(name)
            .or_else(|| var(&name.to_ascii_lowercase()))
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let host = endpoint.host()?;
    if is_loopback(host) {
        return None;
    }
    if read("NO_PROXY").is_some_and(|list| no_proxy_matches(&list, host)) {
        return None;
    }
    let scheme_var = match endpoint.scheme_str() {
        Some("https") => read("HTTPS_PROXY"),
        Some("http") if var("REQUEST_METHOD").is_none() => read("HTTP_PROXY"),
        _ => None,
    };
    scheme_var
        .or_else(|| read("ALL_PROXY"))
        .filter(|proxy| is_http_proxy(proxy))
}

/// `http://host[:port]`, or a bare `host:port` (taken as http).
fn is_http_proxy(proxy: &str) -> bool {
    match proxy.split_once("://") {
        Some((scheme, _)) => scheme.eq_ignore_ascii_case("http"),
        None => true,
    }
}

/// `host` without IPv6 brackets.
fn bare(host: &str) -> &str {
    host.trim_start_matches('[').trim_end_matches(']')
}

fn is_loopback(host: &str) -> bool {
    bare(host).parse::<IpAddr>().map_or_else(
        |_| host.eq_ignore_ascii_case("localhost"),
        |ip| ip.is_loopback(),
    )
}

/// Whether the `NO_PROXY` list exempts `host` (module docs).
fn no_proxy_matches(list: &str, host: &str) -> bool {
    let host = bare(host).to_ascii_lowercase();
    let ip = host.parse::<IpAddr>().ok();
    list.split(',')
        .map(str::trim)
        .filter(|entry| !entry.is_empty())
        .any(|entry| {
            if entry == "*" {
                return true;
            }
            match ip {
                Some(ip) => ip_matches(entry, ip),
                None => name_matches(entry, &host),
            }
        })
}

fn name_matches(entry: &str, host: &str) -> bool {
    // `example.com:8080` and `.example.com` both name the domain.
    let entry = strip_port(entry)
        .trim_start_matches('.')
        .to_ascii_lowercase();
    !entry.is_empty()
        && (host == entry
            || host
                .strip_suffix(entry.as_str())
                .is_some_and(|rest| rest.ends_with('.')))
}

fn ip_matches(entry: &str, ip: IpAddr) -> bool {
    let (addr, prefix) = match entry.split_once('/') {
        Some((addr, bits)) => match bits.parse::<u8>() {
            Ok(bits) => (addr, Some(bits)),
            Err(_) => return false,
        },
        None => (entry, None),
    };
    let Ok(net) = bare(strip_port(addr)).parse::<IpAddr>() else {
        return false;
    };
    match (net, ip) {
        (IpAddr::V4(net), IpAddr::V4(ip)) => {
            prefix_equal(&net.octets(), &ip.octets(), prefix.unwrap_or(32))
        }
        (IpAddr::V6(net), IpAddr::V6(ip)) => {
            prefix_equal(&net.octets(), &ip.octets(), prefix.unwrap_or(128))
        }
        _ => false,
    }
}

/// Whether the first `bits` bits of `a` and `b` are equal (`bits` beyond their length:
/// never).
fn prefix_equal(a: &[u8], b: &[u8], bits: u8) -> bool {
    let bits = usize::from(bits);
    if bits > a.len() * 8 {
        return false;
    }
    let (whole, rest) = (bits / 8, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || {
        let mask = 0xff_u8 << (8 - rest);
        a[whole] & mask == b[whole] & mask
    }
}

/// `host:port` without the port (not an IPv6 literal's colons).
fn strip_port(entry: &str) -> &str {
    if entry.starts_with('[') {
        return entry
            .split(']')
            .next()
            .map_or(entry, |h| &entry[..=h.len()]);
    }
    match entry.rsplit_once(':') {
        Some((host, port)) if !host.contains(':') && port.parse::<u16>().is_ok() => host,
        _ => entry,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxy_for(url: &str, env: &[(&str, &str)]) -> Option<String> {
        let env: HashMap<String, String> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        for_endpoint(&url.parse().unwrap(), |name| env.get(name).cloned())
    }

    #[test]
    fn each_scheme_reads_its_own_variable_then_all_proxy() {
        let env = [
            ("HTTPS_PROXY", "http://s:1"),
            ("HTTP_PROXY", "http://h:1"),
            ("ALL_PROXY", "http://a:1"),
        ];
        assert_eq!(
            proxy_for("https://t.example/x", &env).as_deref(),
            Some("http://s:1")
        );
        assert_eq!(
            proxy_for("http://t.example/x", &env).as_deref(),
            Some("http://h:1")
        );
        // Only HTTP_PROXY: an https endpoint goes direct.
        assert_eq!(
            proxy_for("https://t.example/x", &[("HTTP_PROXY", "http://h:1")]),
            None
        );
        assert_eq!(
            proxy_for("https://t.example/x", &[("all_proxy", "http://a:1")]).as_deref(),
            Some("http://a:1")
        );
        // Upper case wins.
        assert_eq!(
            proxy_for(
                "https://t.example/x",
                &[("HTTPS_PROXY", "http://U:1"), ("https_proxy", "http://l:1")]
            )
            .as_deref(),
            Some("http://U:1")
        );
    }

    #[test]
    fn cgi_ignores_http_proxy_and_socks_is_not_used() {
        let cgi = [("REQUEST_METHOD", "GET"), ("HTTP_PROXY", "http://evil:1")];
        assert_eq!(proxy_for("http://t.example/x", &cgi), None);
        assert_eq!(
            proxy_for("https://t.example/x", &[("ALL_PROXY", "socks5://s:1")]),
            None
        );
        // A socks ALL_PROXY does not hide HTTPS_PROXY.
        let both = [("ALL_PROXY", "socks5://s:1"), ("HTTPS_PROXY", "http://p:1")];
        assert_eq!(
            proxy_for("https://t.example/x", &both).as_deref(),
            Some("http://p:1")
        );
    }

    #[test]
    fn no_proxy_names_domains_addresses_and_blocks() {
        let with = |no: &str, url: &str| {
            proxy_for(url, &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", no)]).is_none()
        };
        assert!(with("localhost, t.example.com", "https://t.example.com/x"));
        assert!(with("example.com", "https://a.b.example.com/x"));
        assert!(with(".example.com", "https://example.com/x"));
        assert!(!with("example.com", "https://badexample.com/x"));
        assert!(with("EXAMPLE.com:443", "https://t.example.com/x"));
        assert!(with("10.0.0.0/8", "https://10.20.30.40/x"));
        assert!(!with("10.0.0.0/8", "https://11.0.0.1/x"));
        assert!(with("192.168.1.7", "https://192.168.1.7:8443/x"));
        assert!(with("fd00::5", "https://[fd00::5]/x"));
        assert!(with("[fd00::5]", "https://[fd00::5]/x"));
        assert!(with("fd00::/8", "https://[fd12::1]/x"));
        assert!(with("*", "https://anything.example/x"));
        assert!(!with("10.0.0.0/99", "https://10.0.0.1/x"));
        assert!(!with("", "https://t.example/x"));
    }

    #[test]
    fn loopback_never_goes_through_a_proxy() {
        let env = [("ALL_PROXY", "http://p:1"), ("HTTP_PROXY", "http://p:1")];
        for url in [
            "http://127.0.0.1:9/x",
            "http://localhost:9/x",
            "http://[::1]:9/x",
        ] {
            assert_eq!(proxy_for(url, &env), None, "{url}");
        }
    }
}

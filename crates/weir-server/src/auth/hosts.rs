//! The host names the server answers to when authentication is off (DNS rebinding). A page on
//! another site can point its own name at 127.0.0.1 once the browser has loaded it; its requests
//! then reach weir as same-origin ones (`Origin` and `Host` both the attacker's name), which the
//! cross-site checks cannot tell from weir's own pages. Without credentials nothing else stops
//! them, so a request is answered only when its `Host` is a name this server is known by:
//! `localhost` (and `*.localhost`, which browsers resolve to loopback themselves), an IP address
//! (a rebinding page always has a name of its own), `server.public_url`'s host, and the names in
//! `server.allowed_hosts` (`*`: any).

use axum::http::uri::Authority;
use axum::http::{HeaderMap, Uri, header};

/// The host names a server answers to; by default any (no check).
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    /// Lower-cased names besides localhost and IP addresses; None: any host.
    names: Option<Vec<String>>,
}

impl AllowedHosts {
    /// Any host: no check (authentication is on, or a test's server).
    pub fn any() -> AllowedHosts {
        AllowedHosts::default()
    }

    /// localhost, IP addresses, `public_url`'s host and `extra` (where `*` allows any host).
    pub fn new(public_url: &str, extra: &[String]) -> AllowedHosts {
        if extra.iter().any(|name| name.trim() == "*") {
            return AllowedHosts::any();
        }
        let public = public_url
            .parse::<Uri>()
            .ok()
            .and_then(|uri| uri.host().map(str::to_string));
        let names = extra
            .iter()
            .map(String::as_str)
            .chain(public.as_deref())
            .map(normalise)
            .filter(|name| !name.is_empty())
            .collect();
        AllowedHosts { names: Some(names) }
    }

    /// Whether a request with these headers may be answered, or why not. A request without
    /// `Host` (HTTP/1.0) comes from no browser and is answered.
    pub fn check(&self, headers: &HeaderMap) -> Result<(), String> {
        let Some(names) = &self.names else {
            return Ok(());
        };
        let Some(value) = headers.get(header::HOST) else {
            return Ok(());
        };
        let host = value
            .to_str()
            .ok()
            .and_then(|text| text.parse::<Authority>().ok())
            .map(|authority| normalise(authority.host()));
        match host {
            Some(host) if allowed(&host, names) => Ok(()),
            _ => Err(format!(
                "this server does not answer to the host `{}` (authentication is off, so only \
                 localhost, IP addresses, server.public_url's host and server.allowed_hosts are \
                 answered, against DNS rebinding); add the name to server.allowed_hosts in \
                 weir.toml",
                String::from_utf8_lossy(value.as_bytes())
            )),
        }
    }
}

/// A host name as compared: lower case, without the root's final dot or an IPv6 literal's
/// brackets.
fn normalise(host: &str) -> String {
    let host = host.trim().trim_end_matches('.').to_ascii_lowercase();
    match host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        Some(inner) => inner.to_string(),
        None => host,
    }
}

fn allowed(host: &str, names: &[String]) -> bool {
    host.parse::<std::net::IpAddr>().is_ok()
        || host == "localhost"
        || host.ends_with(".localhost")
        || names.iter().any(|name| name == host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn with_host(host: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).unwrap());
        headers
    }

    #[test]
    fn loopback_names_addresses_and_configured_names_are_answered() {
        let hosts = AllowedHosts::new("https://weir.example.com/", &["Build-Box".into()]);
        for host in [
            "localhost:8080",
            "LOCALHOST",
            "weir.localhost:8080",
            "127.0.0.1:8080",
            "10.1.2.3",
            "[::1]:8080",
            "weir.example.com",
            "weir.example.com.:443",
            "build-box:8080",
        ] {
            assert_eq!(hosts.check(&with_host(host)), Ok(()), "{host}");
        }
        for host in [
            "evil.example:8080",
            "localhost.evil.example",
            "127.0.0.1.evil.example",
            "example.com",
            "",
            "a b",
        ] {
            let refused = hosts.check(&with_host(host)).unwrap_err();
            assert!(refused.contains("server.allowed_hosts"), "{refused}");
        }
        assert_eq!(hosts.check(&HeaderMap::new()), Ok(()));
    }

    #[test]
    fn a_star_or_no_setting_answers_any_host() {
        let evil = with_host("evil.example");
        assert_eq!(AllowedHosts::any().check(&evil), Ok(()));
        assert_eq!(AllowedHosts::new("", &["*".into()]).check(&evil), Ok(()));
        assert!(AllowedHosts::new("", &[]).check(&evil).is_err());
    }
}

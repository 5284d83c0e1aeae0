//! The second layer behind the per-account lockout: a per-client-address rate limit on
//! sign-in attempts (GCRA, from the `governor` crate). It slows a script trying many
//! accounts from one machine; its defaults are generous because a whole school may sit
//! behind one NAT address on the first school day.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, Ordering};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Sign-in attempts per client address: a sustained rate and a burst.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleSettings {
    pub per_minute: u32,
    pub burst: u32,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        Self {
            per_minute: 600,
            burst: 120,
        }
    }
}

pub struct ClientThrottle {
    limiter: Option<DefaultKeyedRateLimiter<IpAddr>>,
    checks: AtomicU32,
}

/// Forget idle addresses every this many checks, so the table stays small.
const SWEEP_EVERY: u32 = 4096;

impl ClientThrottle {
    /// `per_minute == 0` turns the throttle off.
    pub fn new(settings: ThrottleSettings) -> Self {
        let limiter = NonZeroU32::new(settings.per_minute).map(|rate| {
            let burst = NonZeroU32::new(settings.burst).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_minute(rate).allow_burst(burst))
        });
        Self {
            limiter,
            checks: AtomicU32::new(0),
        }
    }

    /// `Ok` if `client` may try now; otherwise the seconds to wait.
    pub fn check(&self, client: Option<&str>) -> Result<(), u32> {
        let (Some(limiter), Some(ip)) = (&self.limiter, client.and_then(client_key)) else {
            return Ok(());
        };
        if self.checks.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            limiter.retain_recent();
        }
        limiter.check_key(&ip).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            u32::try_from(wait.as_secs().saturating_add(1)).unwrap_or(u32::MAX)
        })
    }
}

/// The key an address is limited under: an IPv4 address itself, an IPv6 address by its
/// /64 (one household or device gets a whole /64, so keying the full address would
/// let it rotate through 2^64 keys).
fn client_key(client: &str) -> Option<IpAddr> {
    match client.parse::<IpAddr>().ok()? {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => Some(IpAddr::V4(v4)),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                Some(IpAddr::V6(prefix.into()))
            }
        },
        v4 => Some(v4),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_burst_passes_then_the_client_waits_and_others_do_not() {
        let throttle = ClientThrottle::new(ThrottleSettings {
            per_minute: 6,
            burst: 3,
        });
        for _ in 0..3 {
            assert_eq!(throttle.check(Some("10.0.0.1")), Ok(()));
        }
        let wait = throttle.check(Some("10.0.0.1"));
        assert!(
            matches!(wait, Err(secs) if (1..=11).contains(&secs)),
            "{wait:?}"
        );
        assert_eq!(throttle.check(Some("10.0.0.2")), Ok(()));
        assert_eq!(throttle.check(None), Ok(()));
    }

    #[test]
    fn an_ipv6_client_is_limited_by_its_64_not_by_each_address() {
        let throttle = ClientThrottle::new(ThrottleSettings {
            per_minute: 6,
            burst: 3,
        });
        for host in 1..=3 {
            assert_eq!(
                throttle.check(Some(&format!("2001:db8:1:2::{host}"))),
                Ok(())
            );
        }
        // Another address of the same /64 waits; another /64 does not.
        assert!(throttle.check(Some("2001:db8:1:2:ffff::9")).is_err());
        assert_eq!(throttle.check(Some("2001:db8:1:3::1")), Ok(()));
        assert_eq!(client_key("::ffff:10.0.0.1"), client_key("10.0.0.1"));
    }

    #[test]
    fn zero_turns_it_off() {
        let throttle = ClientThrottle::new(ThrottleSettings {
            per_minute: 0,
            burst: 0,
        });
        for _ in 0..1000 {
            assert_eq!(throttle.check(Some("10.0.0.1")), Ok(()));
        }
    }
}

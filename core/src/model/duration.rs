//! Durations as operators write them: `30s`, `2m`, `1h30m`, `500ms`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// The longest duration accepted: 100 years. Longer values would overflow
/// `Instant` arithmetic downstream and are never meant.
pub const MAX_DURATION: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// A non-negative duration written like Go's `time.Duration` (`2m`, `1h30m`),
/// at most [`MAX_DURATION`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FleetDuration(pub Duration);

impl FleetDuration {
    /// Parses `30s`, `2m`, `1h30m`, `500ms` (a bare number means seconds).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = || format!("invalid duration '{text}' (expected e.g. 30s, 2m, 1h30m)");
        let too_large = || format!("invalid duration '{text}': longer than 100 years");
        if text.is_empty() {
            return Err(invalid());
        }
        if text.bytes().all(|byte| byte.is_ascii_digit()) {
            let seconds: u64 = text.parse().map_err(|_| too_large())?;
            return Self::checked(Duration::from_secs(seconds)).ok_or_else(too_large);
        }
        let mut total = Duration::ZERO;
        let mut rest = text;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(invalid());
            }
            // All digits, so the only way to fail is to be too large.
            let amount: u64 = rest[..digits].parse().map_err(|_| too_large())?;
            rest = &rest[digits..];
            let unit_length = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let seconds_per_unit = match &rest[..unit_length] {
                "ms" => None,
                "s" => Some(1),
                "m" => Some(60),
                "h" => Some(3600),
                _ => return Err(invalid()),
            };
            let unit = match seconds_per_unit {
                None => Some(Duration::from_millis(amount)),
                Some(factor) => amount.checked_mul(factor).map(Duration::from_secs),
            };
            total = unit
                .and_then(|unit| total.checked_add(unit))
                .filter(|total| *total <= MAX_DURATION)
                .ok_or_else(too_large)?;
            rest = &rest[unit_length..];
        }
        Ok(Self(total))
    }

    fn checked(duration: Duration) -> Option<Self> {
        (duration <= MAX_DURATION).then_some(Self(duration))
    }
}

impl fmt::Display for FleetDuration {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let millis = self.0.as_millis();
        if !millis.is_multiple_of(1000) {
            return write!(formatter, "{millis}ms");
        }
        let seconds = self.0.as_secs();
        let (hours, minutes, seconds) = (seconds / 3600, seconds / 60 % 60, seconds % 60);
        let mut written = false;
        for (amount, unit) in [(hours, "h"), (minutes, "m"), (seconds, "s")] {
            if amount > 0 {
                write!(formatter, "{amount}{unit}")?;
                written = true;
            }
        }
        if !written {
            formatter.write_str("0s")?;
        }
        Ok(())
    }
}

impl Serialize for FleetDuration {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for FleetDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = FleetDuration;
            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                formatter.write_str("a duration such as 30s, 2m or 1h30m")
            }
            fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<FleetDuration, E> {
                FleetDuration::checked(Duration::from_secs(seconds)).ok_or_else(|| {
                    E::custom(format!("invalid duration {seconds}: longer than 100 years"))
                })
            }
            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<FleetDuration, E> {
                let seconds = u64::try_from(seconds).map_err(|_| {
                    E::custom(format!("invalid duration {seconds}: must not be negative"))
                })?;
                self.visit_u64(seconds)
            }
            fn visit_str<E: de::Error>(self, text: &str) -> Result<FleetDuration, E> {
                FleetDuration::parse(text).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_operator_durations() {
        assert_eq!(
            FleetDuration::parse("2m").unwrap().0,
            Duration::from_secs(120)
        );
        assert_eq!(
            FleetDuration::parse("1h30m").unwrap().0,
            Duration::from_secs(5400)
        );
        assert_eq!(
            FleetDuration::parse("500ms").unwrap().0,
            Duration::from_millis(500)
        );
        assert_eq!(
            FleetDuration::parse("45").unwrap().0,
            Duration::from_secs(45)
        );
        assert!(FleetDuration::parse("two minutes").is_err());
        assert!(FleetDuration::parse("5x").is_err());
        assert_eq!(FleetDuration::parse("1h30m").unwrap().to_string(), "1h30m");
        assert_eq!(FleetDuration::default().to_string(), "0s");
    }

    #[test]
    fn overflowing_durations_are_errors() {
        for text in [
            "18446744073709551615s18446744073709551615s",
            "18446744073709551615h",
            "99999999999999999999",
            "99999999999999999999s",
            "876001h",
            "3153600001",
        ] {
            let error = FleetDuration::parse(text).unwrap_err();
            assert!(error.contains("longer than 100 years"), "{text}: {error}");
        }
        assert_eq!(FleetDuration::parse("876000h").unwrap().0, MAX_DURATION);
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_is_an_error(text in "\\PC*") {
            let _ = FleetDuration::parse(&text);
        }

        #[test]
        fn any_number_and_unit_parses_or_is_an_error(
            parts in proptest::collection::vec((proptest::num::u64::ANY, "(ms|s|m|h|)"), 1..4)
        ) {
            let text: String = parts.iter().map(|(amount, unit)| format!("{amount}{unit}")).collect();
            if let Ok(parsed) = FleetDuration::parse(&text) {
                proptest::prop_assert!(parsed.0 <= MAX_DURATION);
            }
        }
    }
}

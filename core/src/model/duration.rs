//! Durations as operators write them: `30s`, `2m`, `1h30m`, `500ms`.

use std::fmt;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};

/// A non-negative duration written like Go's `time.Duration` (`2m`, `1h30m`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct FleetDuration(pub Duration);

impl FleetDuration {
    /// Parses `30s`, `2m`, `1h30m`, `500ms` (a bare number means seconds).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let invalid = || format!("invalid duration '{text}' (expected e.g. 30s, 2m, 1h30m)");
        if text.is_empty() {
            return Err(invalid());
        }
        if let Ok(seconds) = text.parse::<u64>() {
            return Ok(Self(Duration::from_secs(seconds)));
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
            let amount: u64 = rest[..digits].parse().map_err(|_| invalid())?;
            rest = &rest[digits..];
            let unit_length = rest
                .find(|c: char| c.is_ascii_digit())
                .unwrap_or(rest.len());
            let unit = match &rest[..unit_length] {
                "ms" => Duration::from_millis(amount),
                "s" => Duration::from_secs(amount),
                "m" => Duration::from_secs(amount * 60),
                "h" => Duration::from_secs(amount * 3600),
                _ => return Err(invalid()),
            };
            total += unit;
            rest = &rest[unit_length..];
        }
        Ok(Self(total))
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
                Ok(FleetDuration(Duration::from_secs(seconds)))
            }
            fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<FleetDuration, E> {
                u64::try_from(seconds)
                    .map(|seconds| FleetDuration(Duration::from_secs(seconds)))
                    .map_err(|_| {
                        E::custom(format!("invalid duration {seconds}: must not be negative"))
                    })
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
}

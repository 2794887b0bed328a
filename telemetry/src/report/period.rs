//! Report periods: UTC days, or weeks from Monday to Monday (UTC), named by their
//! first day (`2026-11-23`). Pure arithmetic on the day count since 1970-01-01.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::util::time::{date_of_day, days_of_date};

const DAY_SECS: u64 = 86_400;
/// 1970-01-01 was a Thursday: day 4 was the first Monday.
const FIRST_MONDAY: u64 = 4;

/// How long one report covers.
///
/// ```
/// assert_eq!(telemetry::ReportPeriod::default(), telemetry::ReportPeriod::Week);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ReportPeriod {
    /// One UTC day.
    Day,
    /// Monday 00:00 UTC to the next Monday (the default, as Go's telemetry does).
    #[default]
    Week,
}

impl ReportPeriod {
    /// The period's length in days.
    pub(crate) const fn days(self) -> u64 {
        match self {
            Self::Day => 1,
            Self::Week => 7,
        }
    }

    /// The word used in report files and by `status`.
    ///
    /// ```
    /// assert_eq!(telemetry::ReportPeriod::Day.as_str(), "day");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Day => "day",
            Self::Week => "week",
        }
    }
}

/// One period: its first day and its length, in days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Span {
    pub(crate) first_day: u64,
    pub(crate) days: u64,
}

impl Span {
    /// The period of `kind` that holds `at` (times before 1970 count as its first day).
    pub(crate) fn containing(kind: ReportPeriod, at: SystemTime) -> Self {
        let day = at.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs() / DAY_SECS;
        let first_day = match kind {
            ReportPeriod::Day => day,
            ReportPeriod::Week if day < FIRST_MONDAY => 0,
            ReportPeriod::Week => day - (day - FIRST_MONDAY) % 7,
        };
        Self {
            first_day,
            days: kind.days(),
        }
    }

    /// `YYYY-MM-DD` of the first day.
    pub(crate) fn start_date(self) -> String {
        date_of_day(self.first_day)
    }

    /// `YYYY-MM-DD` of the day after the last (the end is exclusive).
    pub(crate) fn end_date(self) -> String {
        date_of_day(self.first_day + self.days)
    }

    /// The first instant after the period.
    pub(crate) fn end(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs((self.first_day + self.days) * DAY_SECS)
    }

    /// The first instant of the period.
    #[cfg(test)]
    pub(crate) fn start(self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.first_day * DAY_SECS)
    }

    /// Whether the period is over at `now`.
    pub(crate) fn is_complete_at(self, now: SystemTime) -> bool {
        now >= self.end()
    }

    /// The period named by a report file's `period_start` and `period_end`.
    pub(crate) fn parse(start: &str, end: &str) -> Option<Self> {
        let first_day = days_of_date(start)?;
        let last = days_of_date(end)?;
        let days = last.checked_sub(first_day)?;
        (days == 1 || days == 7).then_some(Self { first_day, days })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(date: &str, hour: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(days_of_date(date).unwrap() * DAY_SECS + hour * 3600)
    }

    #[test]
    fn weeks_run_monday_to_monday_utc() {
        // 2026-11-23 is a Monday.
        for day in ["2026-11-23", "2026-11-25", "2026-11-29"] {
            let span = Span::containing(ReportPeriod::Week, at(day, 23));
            assert_eq!(span.start_date(), "2026-11-23", "{day}");
            assert_eq!(span.end_date(), "2026-11-30", "{day}");
        }
        let next = Span::containing(ReportPeriod::Week, at("2026-11-30", 0));
        assert_eq!(next.start_date(), "2026-11-30");
        assert!(
            Span::containing(ReportPeriod::Week, at("2026-11-23", 0)).is_complete_at(next.start())
        );
    }

    #[test]
    fn days_are_utc_days() {
        let span = Span::containing(ReportPeriod::Day, at("2024-02-29", 5));
        assert_eq!(
            (span.start_date(), span.end_date()),
            ("2024-02-29".into(), "2024-03-01".into())
        );
        assert_eq!(Span::parse("2024-02-29", "2024-03-01"), Some(span));
    }

    #[test]
    fn dates_round_trip_and_nonsense_is_refused() {
        for day in [0, 4, 19_000, 20_415, 2_932_896] {
            assert_eq!(days_of_date(&date_of_day(day)), Some(day));
        }
        for bad in [
            "2026-02-30",
            "2026-13-01",
            "1969-12-31",
            "2026-1-01",
            "20261101xx",
            "",
        ] {
            assert_eq!(days_of_date(bad), None, "{bad}");
        }
        assert_eq!(
            Span::parse("2026-11-23", "2026-11-25"),
            None,
            "two days is no period"
        );
    }
}

//! Wall-clock timestamps as the events carry them.

/// Whether `text` has the shape [`rfc3339_millis`] writes (`YYYY-MM-DDTHH:MM:SS.mmmZ`):
/// two such texts compare in time order as strings.
pub(crate) fn is_rfc3339_millis(text: &str) -> bool {
    const SHAPE: &[u8; 24] = b"0000-00-00T00:00:00.000Z";
    text.len() == SHAPE.len()
        && text.bytes().zip(SHAPE).all(|(b, &s)| {
            if s == b'0' {
                b.is_ascii_digit()
            } else {
                b == s
            }
        })
}

/// Formats a wall-clock time as RFC 3339 in UTC with millisecond precision
/// (`2026-11-21T05:43:56.281Z`). Times before 1970 are clamped to the epoch.
pub(crate) fn rfc3339_millis(time: std::time::SystemTime) -> String {
    Rfc3339Millis::of(time).as_str().to_owned()
}

/// An [`rfc3339_millis`] text held inline (24 bytes, no allocation): what the worker
/// writes into a spool line straight from a queued call.
#[derive(Clone, Copy)]
pub(crate) struct Rfc3339Millis([u8; 24]);

impl Rfc3339Millis {
    /// Written out rather than through a formatting crate: the worker formats one
    /// timestamp per event. The date and time of day (`2026-11-21T05:43:56`) are
    /// formatted once per second and per thread; each call then only writes the
    /// milliseconds.
    pub(crate) fn of(time: std::time::SystemTime) -> Self {
        thread_local! {
            /// The second last formatted on this thread, and its text.
            static LAST_SECOND: std::cell::Cell<(u64, [u8; 19])> =
                const { std::cell::Cell::new((u64::MAX, [0; 19])) };
        }
        let since_epoch = time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let secs = since_epoch.as_secs();
        let prefix = LAST_SECOND.with(|last| {
            let (cached_secs, text) = last.get();
            if cached_secs == secs {
                return text;
            }
            let text = format_second(secs);
            last.set((secs, text));
            text
        });
        let mut out = [b'0'; 24];
        out[..19].copy_from_slice(&prefix);
        out[19] = b'.';
        let millis = since_epoch.subsec_millis();
        for (i, divisor) in [100, 10, 1].into_iter().enumerate() {
            out[20 + i] = b'0' + (millis / divisor % 10) as u8;
        }
        out[23] = b'Z';
        Self(out)
    }

    /// The text (ASCII digits and punctuation only).
    pub(crate) fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("1970-01-01T00:00:00.000Z")
    }
}

/// `YYYY-MM-DDTHH:MM:SS` of a count of seconds since the epoch.
fn format_second(secs: u64) -> [u8; 19] {
    let (days, secs_of_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let mut text = String::with_capacity(19);
    let fields = [
        (year, 4, "-"),
        (month, 2, "-"),
        (day, 2, "T"),
        (secs_of_day / 3600, 2, ":"),
        (secs_of_day / 60 % 60, 2, ":"),
        (secs_of_day % 60, 2, ""),
    ];
    for (value, width, separator) in fields {
        push_digits(&mut text, value, width);
        text.push_str(separator);
    }
    let mut out = [b'0'; 19];
    for (o, b) in out.iter_mut().zip(text.bytes()) {
        *o = b;
    }
    out
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, value: u64, width: u32) {
    let mut divisor = 10_u64.pow(width - 1);
    while divisor > 0 {
        out.push(char::from(b'0' + (value / divisor % 10) as u8));
        divisor /= 10;
    }
}

/// `YYYY-MM-DD` of a day count since 1970-01-01 (the name of a report's period).
#[cfg(feature = "reports")]
pub(crate) fn date_of_day(days: u64) -> String {
    let (y, m, d) = civil_from_days(days);
    let mut out = String::with_capacity(10);
    push_digits(&mut out, y, 4);
    out.push('-');
    push_digits(&mut out, m, 2);
    out.push('-');
    push_digits(&mut out, d, 2);
    out
}

/// The milliseconds since the Unix epoch of a timestamp in exactly the form
/// [`rfc3339_millis`] writes (`2026-11-21T05:43:56.281Z`); `None` for any other text,
/// an impossible date or time of day (`2026-02-30`, `24:00:00`, a leap second), or a
/// time before 1970 (which [`rfc3339_millis`] never writes).
///
/// Only that one form: the events' timestamps are written by this crate, so anything
/// else (another precision, an offset) was not, and is refused rather than guessed at.
#[cfg(feature = "otlp")]
pub(crate) fn parse_rfc3339_millis(text: &str) -> Option<u64> {
    if !is_rfc3339_millis(text) {
        return None;
    }
    let days = days_of_date(&text[..10])?;
    let field = |at: usize, len: usize| digits(&text[at..at + len]);
    let (hours, minutes, seconds, millis) =
        (field(11, 2)?, field(14, 2)?, field(17, 2)?, field(20, 3)?);
    if hours > 23 || minutes > 59 || seconds > 59 {
        return None;
    }
    // At most 9999-12-31: about 2^48 milliseconds, far from overflowing.
    let secs = days * 86_400 + hours * 3_600 + minutes * 60 + seconds;
    Some(secs * 1_000 + millis)
}

/// The day count since 1970-01-01 of a `YYYY-MM-DD` date (exactly that form, a real
/// date, not before 1970): a report's period bounds and file names, an event's date.
#[cfg(any(feature = "otlp", feature = "reports"))]
pub(crate) fn days_of_date(date: &str) -> Option<u64> {
    let b = date.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (year, month, day) = (
        digits(&date[..4])?,
        digits(&date[5..7])?,
        digits(&date[8..])?,
    );
    if year < 1970 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

/// A run of ASCII digits as a number; `None` for anything else (a sign, a space).
#[cfg(any(feature = "otlp", feature = "reports"))]
fn digits(text: &str) -> Option<u64> {
    text.bytes()
        .try_fold(0_u64, |n, b| {
            b.is_ascii_digit().then(|| n * 10 + u64::from(b - b'0'))
        })
        .filter(|_| !text.is_empty())
}

#[cfg(any(feature = "otlp", feature = "reports"))]
fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The day count since 1970-01-01 of a proleptic Gregorian date from 1970 on: the
/// inverse of [`civil_from_days`] (Howard Hinnant's `days_from_civil`).
#[cfg(any(feature = "otlp", feature = "reports"))]
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    // Years counted from March, so that February's leap day ends the year.
    let year = if month <= 2 { year - 1 } else { year };
    let era = year / 400;
    let yoe = year - era * 400; // [0, 399]
    let mp = (month + 9) % 12; // [0, 11], March = 0
    let doy = (153 * mp + 2) / 5 + day - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for non-negative day counts).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March-based
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_is_rfc3339_utc_millis() {
        let at =
            |ms: u64| rfc3339_millis(std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms));
        assert_eq!(at(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(at(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            at(951_782_400_000),
            "2000-02-29T00:00:00.000Z",
            "leap day of a /400 year"
        );
        assert_eq!(
            at(4_107_542_399_999),
            "2100-02-28T23:59:59.999Z",
            "2100 is no leap year"
        );
        assert_eq!(at(4_107_542_400_000), "2100-03-01T00:00:00.000Z");
        assert_eq!(at(1_735_689_599_001), "2024-12-31T23:59:59.001Z");
        assert_eq!(at(253_402_300_799_999), "9999-12-31T23:59:59.999Z");
        let before_epoch = std::time::UNIX_EPOCH - std::time::Duration::from_secs(5);
        assert_eq!(rfc3339_millis(before_epoch), "1970-01-01T00:00:00.000Z");
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn timestamps_written_here_parse_back_to_their_millisecond() {
        use std::time::{Duration, UNIX_EPOCH};
        for ms in [
            0,
            1,
            999,
            1_700_000_000_123,
            951_782_400_000,
            4_107_542_399_999,
            1_735_689_599_001,
            253_402_300_799_999,
        ] {
            let text = rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms));
            assert_eq!(parse_rfc3339_millis(&text), Some(ms), "{text}");
        }
        // Every day of four centuries, at the last millisecond of the day.
        for day in (0..146_097_u64).step_by(7) {
            let ms = (day + 1) * 86_400_000 - 1;
            let text = rfc3339_millis(UNIX_EPOCH + Duration::from_millis(ms));
            assert_eq!(parse_rfc3339_millis(&text), Some(ms), "{text}");
        }
        assert_eq!(
            parse_rfc3339_millis("2026-11-23T10:20:30.456Z"),
            Some(1_795_429_230_456)
        );
    }

    #[cfg(feature = "otlp")]
    #[test]
    fn any_other_text_is_refused() {
        for bad in [
            "",
            "not a time",
            "2026-11-23T10:20:30Z",
            "2026-11-23T10:20:30.45Z",
            "2026-11-23T10:20:30.4567Z",
            "2026-11-23T10:20:30.456",
            "2026-11-23T10:20:30.456+00:00",
            "2026-11-23 10:20:30.456Z",
            "2026-11-23t10:20:30.456z",
            " 2026-11-23T10:20:30.456Z",
            "2026-11-23T10:20:30.456Z ",
            "+026-11-23T10:20:30.456Z",
            "2026-11-2310:20:30.456ZZ",
            "2026-00-23T10:20:30.456Z",
            "2026-13-23T10:20:30.456Z",
            "2026-11-00T10:20:30.456Z",
            "2026-11-31T10:20:30.456Z",
            "2026-02-29T10:20:30.456Z",
            "2100-02-29T10:20:30.456Z",
            "2026-11-23T24:00:00.000Z",
            "2026-11-23T10:60:30.456Z",
            "2026-11-23T23:59:60.000Z",
            "1969-12-31T23:59:59.999Z",
            "2026-11-23T10:20:30.456Ω",
        ] {
            assert_eq!(parse_rfc3339_millis(bad), None, "{bad:?}");
        }
        assert_eq!(
            parse_rfc3339_millis("2024-02-29T00:00:00.000Z"),
            Some(19_782 * 86_400 * 1_000),
            "a leap day"
        );
    }

    #[cfg(any(feature = "otlp", feature = "reports"))]
    #[test]
    fn dates_count_days_from_1970() {
        assert_eq!(days_of_date("1970-01-01"), Some(0));
        assert_eq!(days_of_date("2026-11-23"), Some(20_780));
        assert_eq!(days_of_date("2000-03-01"), Some(11_017));
        for days in 0..146_097 {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days, "{y}-{m}-{d}");
        }
        for bad in [
            "",
            "2026-11-3",
            "2026-1-23",
            "2026/11/23",
            "1969-12-31",
            "2026-11-23T",
        ] {
            assert_eq!(days_of_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn every_day_of_four_centuries_is_a_valid_increasing_date() {
        let mut previous = (1969, 12, 31);
        for days in 0..146_097 {
            let date = civil_from_days(days);
            let (y, m, d) = date;
            assert!((1..=12).contains(&m) && (1..=31).contains(&d), "{date:?}");
            let next_day = (previous.0, previous.1, previous.2 + 1);
            let next_month = (previous.0, previous.1 + 1, 1);
            let next_year = (previous.0 + 1, 1, 1);
            assert!(
                date == next_day || date == next_month || date == next_year,
                "{previous:?} -> {date:?}"
            );
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            if m == 2 && d == 29 {
                assert!(leap, "{date:?}");
            }
            previous = date;
        }
        assert_eq!(previous, (2369, 12, 31));
    }
}

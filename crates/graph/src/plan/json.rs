//! The JSON the plan writes, value by value into the response buffer, and why a plan may
//! stop: what [`super::run`] and [`super::items`] both write with.

use chrono::{DateTime, Utc};
use entity::task;
use sea_orm::{ActiveEnum as _, DbErr};

/// Why a plan did not answer.
#[derive(Debug, thiserror::Error)]
pub(super) enum Stop {
    /// The resolvers answer this one, with the error a plan does not write.
    #[error("left to the resolvers: {0}")]
    Fallback(&'static str),
    #[error(transparent)]
    Database(#[from] DbErr),
    #[error("the response could not be written: {0}")]
    Write(#[from] serde_json::Error),
}

pub(super) type Result<T> = std::result::Result<T, Stop>;

/// The `index`-th key of an object: a comma before all but the first.
pub(super) fn write_key(out: &mut Vec<u8>, index: usize, key: &str) {
    if index > 0 {
        out.push(b',');
    }
    // A response key is a GraphQL name (`[_A-Za-z][_0-9A-Za-z]*`): nothing to escape.
    out.push(b'"');
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
}

pub(super) fn write_str(out: &mut Vec<u8>, text: &str) -> Result<()> {
    serde_json::to_writer(&mut *out, text)?;
    Ok(())
}

/// A task's status, stored as `stored`, by its GraphQL name.
pub(super) fn write_status(out: &mut Vec<u8>, stored: &str) -> Result<()> {
    let status = task::TaskStatus::try_from_value(&stored.to_owned())?;
    let value = async_graphql::resolver_utils::enum_value(crate::task::TaskStatus::from(status));
    serde_json::to_writer(&mut *out, &value)?;
    Ok(())
}

pub(super) fn write_optional_str(out: &mut Vec<u8>, text: Option<&str>) -> Result<()> {
    match text {
        Some(text) => write_str(out, text),
        None => {
            out.extend_from_slice(b"null");
            Ok(())
        }
    }
}

/// An instant as the `DateTime` scalar writes it (`DateTime::to_rfc3339`: UTC as `+00:00`,
/// fractional seconds in 3, 6 or 9 digits and only when not whole), without the string.
pub(super) fn write_time(out: &mut Vec<u8>, at: DateTime<Utc>) -> Result<()> {
    use chrono::{Datelike as _, Timelike as _};
    // The fields of the instant in UTC, computed once (each of `DateTime`'s own would
    // convert it again).
    let at = at.naive_utc();
    let year = at.year();
    let Ok(year) = u32::try_from(year) else {
        return write_str(out, &at.and_utc().to_rfc3339());
    };
    if year > 9999 {
        return write_str(out, &at.and_utc().to_rfc3339());
    }
    let digits = |out: &mut Vec<u8>, value: u32, width: u32| {
        for place in (0..width).rev() {
            let digit = value / 10u32.pow(place) % 10;
            out.push(b'0' + u8::try_from(digit).unwrap_or(0));
        }
    };
    let mut second = at.second();
    let mut nano = at.nanosecond();
    if nano >= 1_000_000_000 {
        // A leap second, written as chrono does.
        second += 1;
        nano -= 1_000_000_000;
    }
    out.push(b'"');
    digits(out, year, 4);
    out.push(b'-');
    digits(out, at.month(), 2);
    out.push(b'-');
    digits(out, at.day(), 2);
    out.push(b'T');
    digits(out, at.hour(), 2);
    out.push(b':');
    digits(out, at.minute(), 2);
    out.push(b':');
    digits(out, second, 2);
    if nano != 0 {
        out.push(b'.');
        if nano.is_multiple_of(1_000_000) {
            digits(out, nano / 1_000_000, 3);
        } else if nano.is_multiple_of(1_000) {
            digits(out, nano / 1_000, 6);
        } else {
            digits(out, nano, 9);
        }
    }
    out.extend_from_slice(b"+00:00\"");
    Ok(())
}

/// A number as JSON writes it, without a string in between.
pub(super) fn write_number(out: &mut Vec<u8>, number: impl Into<serde_json::Number>) -> Result<()> {
    serde_json::to_writer(&mut *out, &number.into())?;
    Ok(())
}

pub(super) fn write_bool(out: &mut Vec<u8>, value: bool) {
    out.extend_from_slice(if value { b"true" } else { b"false" });
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone as _};

    use super::*;

    #[test]
    fn instants_are_written_as_the_date_time_scalar_writes_them() {
        let day = NaiveDate::from_ymd_opt(2026, 3, 1).expect("a date");
        let leap = day
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .expect("a leap second")
            .and_utc();
        let mut instants = vec![leap, Utc.timestamp_opt(0, 0).unwrap()];
        for nanos in [0, 7_000_000, 120_000, 123_456_000, 1, 999_999_999] {
            instants.push(
                day.and_hms_nano_opt(9, 5, 7, nanos)
                    .expect("an instant")
                    .and_utc(),
            );
        }
        instants.push(
            NaiveDate::from_ymd_opt(1, 1, 1)
                .and_then(|date| date.and_hms_opt(0, 0, 0))
                .expect("year 1")
                .and_utc(),
        );
        for at in instants {
            let mut written = Vec::new();
            write_time(&mut written, at).expect("written");
            let expected = serde_json::to_string(&at.to_rfc3339()).expect("a string");
            assert_eq!(String::from_utf8(written).expect("text"), expected);
        }
    }
}

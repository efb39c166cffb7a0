//! `--since` / `--until` times, in the forms ausearch accepts where sensible.

use chrono::{Datelike, Duration, Local, NaiveDate, NaiveDateTime, NaiveTime, TimeZone};

/// Parses a time given on the command line into seconds since the epoch.
///
/// Accepted (local time zone unless an offset is given):
/// - ausearch keywords: `now`, `recent` (10 minutes ago), `today`, `yesterday`,
///   `this-week` (last Sunday), `week-ago`, `this-month`, `this-year`
/// - ausearch dates: `MM/DD/YY` or `MM/DD/YYYY`, optionally followed by `HH:MM[:SS]`
///   (a separate word or after a space); a bare `HH:MM[:SS]` means today
/// - ISO forms: `YYYY-MM-DD`, `YYYY-MM-DD HH:MM[:SS]`, `YYYY-MM-DDTHH:MM[:SS]`,
///   RFC 3339 with an offset (`2022-05-30T11:55:17+00:00`)
/// - `@SECONDS` since the epoch
///
/// # Errors
/// A one-line description of what was not understood.
pub fn parse_time(s: &str) -> Result<i64, String> {
    let s = s.trim();
    let now = Local::now();
    let midnight = |d: NaiveDate| local_ts(d.and_time(NaiveTime::MIN));
    let today = now.date_naive();
    match s {
        "now" => return Ok(now.timestamp()),
        "recent" => return Ok(now.timestamp() - 600),
        "today" => return midnight(today),
        "yesterday" => return midnight(today - Duration::days(1)),
        "this-week" => {
            let back = i64::from(today.weekday().num_days_from_sunday());
            return midnight(today - Duration::days(back));
        }
        "week-ago" => return midnight(today - Duration::days(7)),
        "this-month" => return midnight(today.with_day(1).expect("day 1 exists")),
        "this-year" => {
            return midnight(NaiveDate::from_ymd_opt(today.year(), 1, 1).expect("Jan 1 exists"))
        }
        _ => {}
    }
    if let Some(secs) = s.strip_prefix('@') {
        return secs
            .parse()
            .map_err(|_| format!("bad time '{s}': expected @SECONDS"));
    }
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(s, fmt) {
            return local_ts(dt);
        }
    }
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return midnight(d);
    }
    // ausearch: a date, a time, or both.
    let mut date = None;
    let mut time = None;
    for word in s.split_whitespace() {
        if word.contains('/') {
            let parsed = NaiveDate::parse_from_str(word, "%m/%d/%Y")
                .ok()
                .filter(|d| d.year() >= 1000)
                .or_else(|| NaiveDate::parse_from_str(word, "%m/%d/%y").ok());
            date =
                Some(parsed.ok_or_else(|| {
                    format!("bad date '{word}': expected MM/DD/YY or MM/DD/YYYY")
                })?);
        } else if word.contains(':') {
            let parsed = NaiveTime::parse_from_str(word, "%H:%M:%S")
                .or_else(|_| NaiveTime::parse_from_str(word, "%H:%M"));
            time =
                Some(parsed.map_err(|_| {
                    format!("bad time of day '{word}': expected HH:MM or HH:MM:SS")
                })?);
        } else {
            return Err(format!(
                "bad time '{s}': expected a keyword (now, recent, today, yesterday, this-week, week-ago, this-month, this-year), MM/DD/YYYY [HH:MM:SS], YYYY-MM-DD [HH:MM:SS], RFC 3339 or @SECONDS"
            ));
        }
    }
    if date.is_none() && time.is_none() {
        return Err(format!("bad time '{s}'"));
    }
    local_ts(
        date.unwrap_or(today)
            .and_time(time.unwrap_or(NaiveTime::MIN)),
    )
}

fn local_ts(dt: NaiveDateTime) -> Result<i64, String> {
    Local
        .from_local_datetime(&dt)
        .earliest()
        .map(|t| t.timestamp())
        .ok_or_else(|| format!("time {dt} does not exist in the local time zone"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms() {
        assert_eq!(parse_time("@1653911717").unwrap(), 1653911717);
        assert_eq!(parse_time("2022-05-30T11:55:17+00:00").unwrap(), 1653911717);
        let a = parse_time("05/30/2022 11:55:17").unwrap();
        let b = parse_time("2022-05-30 11:55:17").unwrap();
        let c = parse_time("05/30/22 11:55:17").unwrap();
        assert_eq!(a, b);
        assert_eq!(a, c);
        assert!(parse_time("today").unwrap() <= parse_time("now").unwrap());
        assert!(parse_time("yesterday").unwrap() < parse_time("today").unwrap());
        assert!(parse_time("garbage").is_err());
        assert!(parse_time("13/40/2022").is_err());
        assert!(parse_time("25:00").is_err());
    }
}

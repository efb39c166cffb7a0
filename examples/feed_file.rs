//! Feeds a file through a Feeder (optionally with the ausearch grouping) and
//! prints the number of events: a small driver for valgrind and profiling.
//!
//! ```text
//! cargo run --example feed_file -- FILE [ausearch]
//! ```

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args_os()
        .nth(1)
        .ok_or("usage: feed_file FILE [ausearch]")?;
    let grouping = match std::env::args().nth(2).as_deref() {
        Some("ausearch") => auparse::Grouping::Ausearch,
        _ => auparse::Grouping::Libauparse,
    };
    let file = std::fs::File::open(path)?;
    let opts = auparse::ReadOptions::new().grouping(grouping);
    let mut n = 0usize;
    for ev in auparse::read_events_with(file, opts)? {
        ev?;
        n += 1;
    }
    println!("{n}");
    Ok(())
}

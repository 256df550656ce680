//! `PKHOUND_TRACE=1`: one line per phase of a history scan on stderr (wall time, process CPU time,
//! resident memory now and at its peak), so a slow or fat run can be cut into phases without a profiler.
//!
//! Off unless the variable is set to something other than `0`; nothing is read from `/proc` then. CPU
//! and memory come from `/proc/self` (Linux); elsewhere the line gives wall time only. The figures are
//! the whole process's, so a phase's CPU time includes every worker thread.

use std::{sync::OnceLock, time::Instant};

/// Whether `PKHOUND_TRACE` asks for phase lines (read once).
pub fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("PKHOUND_TRACE").is_some_and(|v| !v.is_empty() && v != "0"))
}

/// A phase being timed (when tracing is on); [`Phase::end`] prints its line.
pub struct Phase(Option<Started>);

struct Started {
    name: &'static str,
    wall: Instant,
    cpu: Option<f64>,
}

/// Starts timing `name`; does nothing when tracing is off.
pub fn phase(name: &'static str) -> Phase {
    Phase(enabled().then(|| Started {
        name,
        wall: Instant::now(),
        cpu: cpu_seconds(),
    }))
}

impl Phase {
    /// Prints `pkhound trace: NAME  1.234 s wall  2.345 s cpu  rss 120 MB  peak 150 MB`.
    pub fn end(self) {
        let Some(p) = self.0 else { return };
        let wall = p.wall.elapsed().as_secs_f64();
        let mut line = format!("pkhound trace: {:<10} {wall:7.3} s wall", p.name);
        if let (Some(a), Some(b)) = (p.cpu, cpu_seconds()) {
            line.push_str(&format!(" {:7.3} s cpu", b - a));
        }
        if let Some((rss, peak)) = memory_mb() {
            line.push_str(&format!("  rss {rss} MB  peak {peak} MB"));
        }
        eprintln!("{line}");
    }
}

/// User plus system CPU seconds of the whole process, from `/proc/self/stat` (fields 14 and 15, in clock
/// ticks of 1/100 s, the value Linux reports to user space on every common configuration).
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its end.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let mut fields = rest.split(' ').skip(11);
    let user: f64 = fields.next()?.parse().ok()?;
    let system: f64 = fields.next()?.parse().ok()?;
    Some((user + system) / 100.0)
}

/// (resident, peak resident) in MB, from `/proc/self/status`.
fn memory_mb() -> Option<(u64, u64)> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = |key: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(key))?;
        line.get(key.len()..)?.trim().trim_end_matches("kB").trim().parse().ok()
    };
    Some((kb("VmRSS:")? / 1024, kb("VmHWM:")? / 1024))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_figures_parse_on_linux() {
        if cfg!(target_os = "linux") {
            let cpu = cpu_seconds().expect("/proc/self/stat has utime and stime");
            assert!(cpu >= 0.0);
            let (rss, peak) = memory_mb().expect("/proc/self/status has VmRSS and VmHWM");
            assert!(peak >= rss, "peak {peak} MB below current {rss} MB");
        }
    }
}

//! The profile breakdown: where the time went, section by section.

use super::{Bar, bars};
use crate::display::Svg;
use crate::error::Result;
use crate::profile::Profile;

impl Profile {
    /// Bars of each section's *self* time (time not spent in child sections), in
    /// milliseconds, labelled with the section's path and its share of the total.
    ///
    /// ```
    /// use parlab::profile::Profiler;
    /// let prof = Profiler::new();
    /// prof.time("build", || prof.time("sort", || { let mut v: Vec<u32> = (0..1000).rev().collect(); v.sort(); v }));
    /// let svg = prof.report().plot().unwrap();
    /// assert!(svg.as_str().contains("build/sort"));
    /// ```
    ///
    /// # Errors
    /// [`ErrorKind::InvalidInput`](crate::ErrorKind::InvalidInput) when nothing was recorded.
    pub fn plot(&self) -> Result<Svg> {
        let total = self.total_s.max(f64::MIN_POSITIVE);
        let rows: Vec<Bar> = self
            .rows
            .iter()
            .map(|r| {
                let own = if r.parallel_children { 0.0 } else { r.self_s };
                Bar::new(r.path.clone(), own * 1e3).note(format!("{:.0} %", 100.0 * own / total))
            })
            .collect();
        bars("self time per section", "self time (ms)", &rows)
    }
}

#[cfg(test)]
mod tests {
    use crate::profile::Profiler;

    #[test]
    fn empty_profile_is_a_clear_error() {
        let e = Profiler::new().report().plot().unwrap_err();
        assert!(e.to_string().contains("no bars"), "{e}");
    }
}

//! How a render is waited for: the overall wait and a poll clock that follows the progress.

use std::time::Duration;

/// How a render is waited for. Polls are spaced by a [`PollClock`]: close together only near
/// the finish the backend's progress predicts, at most `poll_every` apart while nothing moves.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RenderWait {
    /// The longest gap while the progress says nothing (pending, or flat).
    pub poll_every: Duration,
    /// The shortest gap between two polls.
    pub min_gap: Duration,
    pub timeout: Duration,
    /// Consecutive failed polls tolerated before giving up.
    pub max_poll_errors: u32,
}

impl Default for RenderWait {
    fn default() -> Self {
        Self::new(Duration::from_secs(10), Duration::from_secs(20 * 60))
    }
}

impl RenderWait {
    /// `poll_every` the longest gap while nothing moves; the shortest is a tenth of it.
    pub fn new(poll_every: Duration, timeout: Duration) -> Self {
        Self {
            poll_every,
            min_gap: poll_every / 10,
            timeout,
            max_poll_errors: 10,
        }
    }
}

/// When to ask about a render next, from the progress it reports.
///
/// A fixed poll learns of the end half a period late on average. This one estimates the finish
/// from the rate of progress (between the last two polls that saw it move, else since the
/// start), waits [`PollClock::FRACTION`] of the time left (all of it once that is within five
/// short gaps), and so closes in on the finish in a few polls; it backs off (×1.5, up to `max`)
/// while the progress is flat or unknown. Tuned on renders of 30–90 s with linear, slow-start
/// and fast-start progress (see the tests): fewer polls than a fixed poll at `max`, and the end
/// seen within about one short gap.
///
/// ```
/// use nemo_client::PollClock;
/// use std::time::Duration;
/// let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
/// assert_eq!(clock.first(), Duration::from_secs(10));
/// let flat = clock.next(Duration::from_secs(10), Some(0)); // still pending: back off
/// assert!(flat > Duration::from_secs(1));
/// let later = clock.next(Duration::from_secs(20), Some(50)); // half done in 20 s
/// assert!(later >= Duration::from_secs(5) && later <= Duration::from_secs(20));
/// ```
#[derive(Debug, Clone)]
pub struct PollClock {
    min: Duration,
    max: Duration,
    gap: Duration,
    /// The last two polls at which the progress had moved: (time since start, percent).
    moved: [Option<(f64, f64)>; 2],
}

impl PollClock {
    /// The share of the estimated time left to wait before asking again.
    pub const FRACTION: f64 = 0.7;

    pub fn new(min: Duration, max: Duration) -> PollClock {
        let max = max.max(min);
        PollClock {
            min,
            max,
            gap: max,
            moved: [None, None],
        }
    }

    /// The first wait after a submit: `max`, as a render takes 30 s or more and reports no
    /// progress at first.
    pub fn first(&self) -> Duration {
        self.max
    }

    /// Record a poll made `at` (since the submit) that saw `progress` (0–100), and return the
    /// wait before the next one.
    pub fn next(&mut self, at: Duration, progress: Option<u8>) -> Duration {
        let t = at.as_secs_f64();
        let p = f64::from(progress.unwrap_or(0).min(100));
        let last = self.moved[1].unwrap_or((0.0, 0.0));
        if p <= last.1 {
            // Nothing moved: wait longer each time, up to `max`.
            self.gap = self.gap.mul_f64(1.5).min(self.max).max(self.min);
            return self.gap;
        }
        self.moved = [self.moved[1], Some((t, p))];
        let (t0, p0) = self.moved[0].unwrap_or((0.0, 0.0));
        let rate = (p - p0) / (t - t0).max(1e-3);
        let left = (100.0 - p) / rate.max(1e-6);
        // Far from the end, a part of the time left (the estimate improves as it nears);
        // within a few short gaps of it, the estimate itself.
        let min = self.min.as_secs_f64();
        let wait = if left < 5.0 * min {
            left
        } else {
            left * Self::FRACTION
        };
        let wait = wait.clamp(min, 2.0 * self.max.as_secs_f64());
        self.gap = (self.min * 3).min(self.max);
        Duration::from_secs_f64(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A render of `total` seconds as the contract describes it (30–90 s) and the simulator's
    /// realistic profile plays it: pending for a tenth, then uneven progress. Returns (polls,
    /// seconds between the end and the poll that saw it) for a schedule, in virtual time.
    fn play(
        total: f64,
        shape: f64,
        mut next: impl FnMut(f64, u8) -> f64,
        first: f64,
    ) -> (u32, f64) {
        let progress = |t: f64| -> u8 {
            if t >= total {
                100
            } else if t < total / 10.0 {
                0
            } else {
                ((t / total).powf(shape) * 100.0).clamp(1.0, 99.0) as u8
            }
        };
        let (mut t, mut polls) = (first, 0);
        loop {
            polls += 1;
            let p = progress(t);
            if p == 100 {
                return (polls, t - total);
            }
            t += next(t, p);
        }
    }

    fn poll_clock_against_fixed(shape: f64) {
        let (mut adaptive, mut fixed) = ((0u32, 0.0f64), (0u32, 0.0f64));
        let mut n = 0.0;
        for total in (30..=90).map(f64::from) {
            let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
            let first = clock.first().as_secs_f64();
            let a = play(
                total,
                shape,
                |t, p| {
                    clock
                        .next(Duration::from_secs_f64(t), Some(p))
                        .as_secs_f64()
                },
                first,
            );
            let f = play(total, shape, |_, _| 10.0, 10.0);
            adaptive = (adaptive.0 + a.0, adaptive.1 + a.1);
            fixed = (fixed.0 + f.0, fixed.1 + f.1);
            n += 1.0;
        }
        let (late_a, late_f) = (adaptive.1 / n, fixed.1 / n);
        eprintln!(
            "renders of 30–90 s, progress (t/T)^{shape}: adaptive {} polls, {late_a:.2} s late on average; fixed 10 s {} polls, {late_f:.2} s late",
            adaptive.0, fixed.0
        );
        assert!(late_a < 1.0, "adaptive: {late_a:.2} s late on average");
        assert!(
            adaptive.0 <= fixed.0,
            "{} polls against {}",
            adaptive.0,
            fixed.0
        );
    }

    #[test]
    fn the_poll_clock_sees_the_end_sooner_with_no_more_polls_than_a_fixed_10s_poll() {
        // Progress as the simulator's realistic profile plays it (slow start), linear, and
        // fast at first: the clock must not depend on one shape.
        for shape in [1.4, 1.0, 0.7] {
            poll_clock_against_fixed(shape);
        }
    }

    #[test]
    fn the_poll_clock_backs_off_while_nothing_moves() {
        let mut clock = PollClock::new(Duration::from_secs(1), Duration::from_secs(10));
        let gaps: Vec<Duration> = (1..8)
            .map(|i| clock.next(Duration::from_secs(i * 5), Some(0)))
            .collect();
        assert!(gaps.windows(2).all(|w| w[1] >= w[0]), "{gaps:?}");
        assert_eq!(gaps.last(), Some(&Duration::from_secs(10)), "capped at max");
        // Progress again: the clock estimates from it.
        let g = clock.next(Duration::from_secs(40), Some(40));
        assert!(g >= Duration::from_secs(1), "{g:?}");
    }
}

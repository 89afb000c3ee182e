//! A small seeded generator (SplitMix64): reproducible histories without a
//! rand crate, and cheap enough to give every dossier a stream of its own.

/// A deterministic pseudo-random stream.
#[derive(Debug, Clone)]
pub(crate) struct Rng(u64);

impl Rng {
    /// An independent stream for item `index` of purpose `stream` in a run
    /// seeded with `seed`: the same triple always gives the same stream,
    /// whatever else was drawn before.
    pub(crate) fn derive(seed: u64, stream: u64, index: u64) -> Self {
        let mut mixer = Rng(seed ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let base = mixer.next_u64();
        let mut mixer = Rng(base ^ index.wrapping_mul(0xA076_1D64_78BD_642F));
        Rng(mixer.next_u64())
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Uniform in `[low, high)`.
    pub(crate) fn uniform(&mut self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.unit()
    }

    /// Uniform in `low..=high` (`low` if the range is empty).
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low + 1)
    }

    /// An index below `len` (0 for an empty range).
    pub(crate) fn below(&mut self, len: usize) -> usize {
        if len == 0 {
            return 0;
        }
        (self.next_u64() % len as u64) as usize
    }

    /// An item of a non-empty slice; `None` for an empty one.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let index = self.below(items.len());
        items.get(index)
    }

    /// An index drawn with the given weights (the last one on rounding).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut draw = self.uniform(0.0, total);
        for (index, weight) in weights.iter().enumerate() {
            if draw < *weight {
                return index;
            }
            draw -= weight;
        }
        weights.len().saturating_sub(1)
    }

    /// Shuffles `items` in place (Fisher–Yates).
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for index in (1..items.len()).rev() {
            let other = self.below(index + 1);
            items.swap(index, other);
        }
    }
}

/// Cumulative weights, for drawing many times from one distribution in
/// O(log n) each.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cumulative {
    /// Running totals; the last is the total.
    totals: Vec<f64>,
}

impl Cumulative {
    pub(crate) fn new(weights: impl IntoIterator<Item = f64>) -> Self {
        let mut total = 0.0;
        let totals = weights
            .into_iter()
            .map(|weight| {
                total += weight.max(0.0);
                total
            })
            .collect();
        Cumulative { totals }
    }

    /// An index drawn with the weights; `None` when there is nothing to draw.
    pub(crate) fn draw(&self, rng: &mut Rng) -> Option<usize> {
        let total = *self.totals.last()?;
        if total <= 0.0 {
            return None;
        }
        let target = rng.uniform(0.0, total);
        let index = self.totals.partition_point(|running| *running <= target);
        Some(index.min(self.totals.len() - 1))
    }
}

//! `--partition K/N`: a document's operations shared among N CI jobs, as cargo-nextest shares
//! tests. Deterministic: the operations in the document's order (by client method name), the
//! K-th of every N; the N shares together hold each operation exactly once.

use std::fmt;

/// One of N deterministic shares of a document's operations, as cargo-nextest's `--partition
/// count:K/N`: the operations in the document's order (by client method name), the K-th of every
/// N. The N shares together hold each operation exactly once; a resource's lifecycle scenarios
/// run in the share that holds its create operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    /// Which share, from 1.
    pub k: usize,
    /// How many shares.
    pub n: usize,
}

impl Partition {
    /// `K/N` with 1 <= K <= N.
    pub fn parse(text: &str) -> Result<Partition, String> {
        let bad = || format!("--partition takes K/N with 1 <= K <= N (say 2/3), not `{text}`");
        let (k, n) = text.split_once('/').ok_or_else(bad)?;
        let (k, n): (usize, usize) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if k == 0 || n == 0 || k > n {
            return Err(bad());
        }
        Ok(Partition { k, n })
    }

    /// Whether the share holds the operation at `index` of the document's order.
    pub fn holds(&self, index: usize) -> bool {
        index % self.n == self.k - 1
    }

    /// The share's items of `items`, in order.
    pub fn share<T>(&self, items: Vec<T>) -> Vec<T> {
        items
            .into_iter()
            .enumerate()
            .filter(|(i, _)| self.holds(*i))
            .map(|(_, t)| t)
            .collect()
    }
}

impl fmt::Display for Partition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn bad_partitions_are_refused_with_the_form_expected() {
        for bad in ["", "1", "0/2", "3/2", "1/0", "a/b", "1/2/3", "-1/2"] {
            let e = Partition::parse(bad).unwrap_err();
            assert!(e.contains("K/N"), "{bad}: {e}");
        }
        assert_eq!(
            Partition::parse(" 2 / 3 ").unwrap(),
            Partition { k: 2, n: 3 }
        );
        assert_eq!(Partition::parse("2/3").unwrap().to_string(), "2/3");
    }

    proptest! {
        /// The N shares of any list hold each item exactly once, in the list's order, and the
        /// same list always shares the same way.
        #[test]
        fn the_shares_cover_each_item_exactly_once(len in 0usize..200, n in 1usize..12) {
            let items: Vec<usize> = (0..len).collect();
            let mut seen = Vec::new();
            for k in 1..=n {
                let p = Partition { k, n };
                let share = p.share(items.clone());
                prop_assert!(share.windows(2).all(|w| w[0] < w[1]));
                prop_assert_eq!(&share, &p.share(items.clone()));
                // No share is more than one item larger than another.
                prop_assert!(share.len() <= len.div_ceil(n) && share.len() >= len / n);
                seen.extend(share);
            }
            seen.sort_unstable();
            prop_assert_eq!(seen, items);
        }
    }
}

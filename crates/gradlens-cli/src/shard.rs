//! `--shard K/N`: one of N disjoint parts of a dataset, chosen by each row's id, so that N processes on
//! any scheduler (a Kubernetes Indexed Job, a Slurm array, Ray) split a corpus without talking to each
//! other, and a row lands in the same part whatever the file's order.

use std::str::FromStr;

/// The id of a dataset row (line `line` of its file, from 0): its `"id"`, else `line-N` (N from 1). The
/// one rule for `eval` and `explain --jsonl`, so that a row lands in the same part in both.
pub fn row_id(row: &serde_json::Value, line: usize) -> String {
    row["id"].as_str().map_or_else(|| format!("line-{}", line + 1), str::to_owned)
}

/// Part `index` (from 0) of `count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: u64,
    count: u64,
}

impl Shard {
    /// Whether the row called `id` belongs to this part: by the first 64 bits of the id's sha256 (stable
    /// across machines and versions, unlike std's hasher), modulo the number of parts.
    pub fn contains(&self, id: &str) -> bool {
        let digest = gradlens_model::site::sha256_hex(id.as_bytes());
        u64::from_str_radix(&digest[..16], 16).expect("sha256 hex digits") % self.count == self.index
    }
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || format!("{s:?}: a shard is K/N with 0 <= K < N (e.g. 0/4 ... 3/4)");
        let (k, n) = s.split_once('/').ok_or_else(usage)?;
        let (index, count): (u64, u64) = (k.trim().parse().map_err(|_| usage())?, n.trim().parse().map_err(|_| usage())?);
        if index >= count {
            return Err(usage());
        }
        Ok(Shard { index, count })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_disjoint_cover_everything_and_are_even() {
        let shards: Vec<Shard> = (0..3).map(|k| format!("{k}/3").parse().unwrap()).collect();
        let mut sizes = [0; 3];
        for row in 0..3000 {
            let id = format!("line-{row}");
            let owners: Vec<usize> = (0..3).filter(|&k| shards[k].contains(&id)).collect();
            assert_eq!(owners.len(), 1, "{id} belongs to exactly one part");
            sizes[owners[0]] += 1;
        }
        assert!(sizes.iter().all(|&n| (900..1100).contains(&n)), "about a third each: {sizes:?}");
        for bad in ["3/3", "1", "a/2", "1/0", "-1/2"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}

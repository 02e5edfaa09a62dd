//! Placement: a record's hash key is the MD5 of its partition key read as a big-endian 128-bit
//! number (or the explicit hash key it names), and it goes to the open shard whose inclusive
//! range holds it. New streams and uniform resharding split the key space evenly, as AWS does.

use md5::{Digest, Md5};

/// The hash key of a partition key.
pub fn hash_key(partition_key: &str) -> u128 {
    u128::from_be_bytes(Md5::digest(partition_key.as_bytes()).into())
}

/// `count` (> 0) inclusive ranges covering 0..=u128::MAX evenly, as AWS lays out a new stream's
/// shards: each starts at `i * (2^128 / count)` and the last ends at `2^128 - 1`.
pub fn even_ranges(count: u32) -> Vec<(u128, u128)> {
    if count <= 1 {
        return vec![(0, u128::MAX)];
    }
    let count = u128::from(count);
    // 2^128 / count without overflowing: (2^128 - 1) / count, plus one when count divides 2^128
    // (a power of two), where the remainder of the first division is count - 1.
    let width = u128::MAX / count + u128::from(u128::MAX % count == count - 1);
    (0..count)
        .map(|i| {
            let start = i * width;
            let end = if i + 1 == count {
                u128::MAX
            } else {
                (i + 1) * width - 1
            };
            (start, end)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_those_aws_shows() {
        let four = even_ranges(4);
        assert_eq!(four[0], (0, 85070591730234615865843651857942052863));
        assert_eq!(four[1].0, 85070591730234615865843651857942052864);
        assert_eq!(four[3].1, u128::MAX);
        assert_eq!(even_ranges(1), vec![(0, u128::MAX)]);
        let three = even_ranges(3);
        assert_eq!(three[0].1, 113427455640312821154458202477256070484);
        assert_eq!(three[2].0, 226854911280625642308916404954512140970);
        for count in [1, 2, 3, 5, 7, 100, 1000] {
            let ranges = even_ranges(count);
            assert_eq!(ranges.len(), count as usize);
            assert_eq!(ranges[0].0, 0);
            assert_eq!(ranges[ranges.len() - 1].1, u128::MAX);
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1 + 1, pair[1].0);
            }
        }
    }

    #[test]
    fn the_hash_key_is_the_md5_read_big_endian() {
        // MD5("") = d41d8cd98f00b204e9800998ecf8427e
        assert_eq!(hash_key(""), 0xd41d8cd98f00b204e9800998ecf8427e);
    }
}

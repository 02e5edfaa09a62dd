//! One queue's messages in memory: their states and the orders receives take them in. Bodies
//! stay in the store (a bounded share is kept here from the send, so a receive soon after needs
//! no read). Nothing here is scanned whole: visible messages of a standard queue are a set by
//! seq, messages waiting for a time (delayed or in flight) a set by that time, and a FIFO
//! queue's receivable message groups a set by the seq of their first message.
//!
//! A message is *pending* from its send until its commit is durable, and no receive takes it:
//! what a receive hands out is always in the store. In a FIFO queue a group whose first message
//! is not visible, or which has a message in flight, gives nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use super::message::QueueDepth;
use super::store_rows::Content;

/// How many bytes of bodies one queue keeps in memory.
const CACHE_BYTES: usize = 64 << 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Sent, not yet durable.
    Pending,
    /// Invisible until `visible_ms`: delayed, or in flight when `in_flight`.
    Waiting,
    /// Visible: a receive may take it.
    Ready,
}

#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub state: State,
    pub in_flight: bool,
    pub visible_ms: i64,
    pub sent_ms: i64,
    pub receive_count: u32,
    pub first_receive_ms: Option<i64>,
    pub last_receive_ms: Option<i64>,
    /// Changed by every receive: receipt handles carry it.
    pub nonce: u64,
    pub group: Option<Arc<str>>,
    pub size: usize,
    pub content: Option<Arc<Content>>,
}

impl Entry {
    pub fn new(sent_ms: i64, visible_ms: i64, group: Option<Arc<str>>, size: usize) -> Entry {
        Entry {
            state: State::Pending,
            in_flight: false,
            visible_ms,
            sent_ms,
            receive_count: 0,
            first_receive_ms: None,
            last_receive_ms: None,
            nonce: 0,
            group,
            size,
            content: None,
        }
    }
}

#[derive(Default)]
struct Group {
    seqs: BTreeSet<i64>,
    in_flight: usize,
    /// Its key in `available`, while there.
    available_at: Option<i64>,
}

/// A message a receive took, or one it passed to the dead-letter queue.
pub(crate) struct Taken {
    pub seq: i64,
    pub entry: Entry,
}

#[derive(Default)]
pub(crate) struct Index {
    fifo: bool,
    entries: BTreeMap<i64, Entry>,
    /// Standard queues: visible messages, oldest first.
    ready: BTreeSet<i64>,
    /// `(visible_ms, seq)` of delayed and in-flight messages.
    waiting: BTreeSet<(i64, i64)>,
    /// FIFO queues: message groups with messages.
    groups: HashMap<Arc<str>, Group>,
    /// FIFO queues: `(first seq, group)` of groups a receive may take from.
    available: BTreeSet<(i64, Arc<str>)>,
    depth: QueueDepth,
    pending: u64,
    cached_bytes: usize,
}

impl Index {
    pub fn new(fifo: bool) -> Index {
        Index {
            fifo,
            ..Index::default()
        }
    }

    pub fn get(&self, seq: i64) -> Option<&Entry> {
        self.entries.get(&seq)
    }

    /// Whether a receive could take something now (as of the last promotion).
    pub fn has_visible(&self) -> bool {
        if self.fifo {
            !self.available.is_empty()
        } else {
            !self.ready.is_empty()
        }
    }

    pub fn depth(&self) -> QueueDepth {
        self.depth
    }

    /// When the message with the lowest seq was sent: seqs grow with time, so this is the
    /// oldest message's send time (a redriven message keeps its own, so it is approximate, as
    /// SQS's ApproximateAgeOfOldestMessage is). O(log n).
    pub fn oldest_sent_ms(&self) -> Option<i64> {
        self.entries.values().next().map(|entry| entry.sent_ms)
    }

    /// The earliest time a waiting message becomes visible.
    pub fn next_visible_ms(&self) -> Option<i64> {
        self.waiting.first().map(|(at, _)| *at)
    }

    /// Adds a message just sent (pending until [`Index::commit`]), keeping its content when
    /// the cache has room.
    pub fn insert_pending(&mut self, seq: i64, mut entry: Entry, content: Option<Arc<Content>>) {
        entry.state = State::Pending;
        if content.is_some() && self.cached_bytes + entry.size <= CACHE_BYTES {
            self.cached_bytes += entry.size;
            entry.content = content;
        }
        self.pending += 1;
        let group = entry.group.clone();
        self.entries.insert(seq, entry);
        if self.fifo
            && let Some(group) = group
        {
            self.groups
                .entry(group.clone())
                .or_default()
                .seqs
                .insert(seq);
            self.refresh(&group);
        }
    }

    /// Adds a message read from the store (at start, or redriven here) in the state its times
    /// give it.
    pub fn insert_stored(&mut self, seq: i64, mut entry: Entry, now_ms: i64) {
        entry.in_flight = entry.receive_count > 0 && entry.visible_ms > now_ms;
        self.insert_pending(seq, entry, None);
        self.commit(seq, now_ms);
    }

    /// A pending message's commit is durable: it becomes visible or waits for its time.
    pub fn commit(&mut self, seq: i64, now_ms: i64) {
        let Some(entry) = self.entries.get_mut(&seq) else {
            return;
        };
        if entry.state != State::Pending {
            return;
        }
        self.pending -= 1;
        let in_flight = entry.in_flight;
        let group = entry.group.clone();
        if entry.visible_ms <= now_ms {
            entry.state = State::Ready;
            entry.in_flight = false;
            self.depth.visible += 1;
            if !self.fifo {
                self.ready.insert(seq);
            }
        } else {
            entry.state = State::Waiting;
            self.waiting.insert((entry.visible_ms, seq));
            if in_flight {
                self.depth.in_flight += 1;
            } else {
                self.depth.delayed += 1;
            }
        }
        if self.fifo
            && let Some(group) = group
        {
            let waiting = self.entries.get(&seq).map(|e| e.state) == Some(State::Waiting);
            if in_flight
                && waiting
                && let Some(g) = self.groups.get_mut(&group)
            {
                g.in_flight += 1;
            }
            self.refresh(&group);
        }
    }

    /// Makes visible every waiting message whose time has come.
    pub fn promote(&mut self, now_ms: i64) {
        while let Some(&(at, seq)) = self.waiting.first() {
            if at > now_ms {
                break;
            }
            self.waiting.pop_first();
            let Some(entry) = self.entries.get_mut(&seq) else {
                continue;
            };
            let was_in_flight = std::mem::take(&mut entry.in_flight);
            entry.state = State::Ready;
            if was_in_flight {
                self.depth.in_flight -= 1;
            } else {
                self.depth.delayed -= 1;
            }
            self.depth.visible += 1;
            let group = entry.group.clone();
            if self.fifo {
                if let Some(group) = group {
                    if was_in_flight && let Some(g) = self.groups.get_mut(&group) {
                        g.in_flight = g.in_flight.saturating_sub(1);
                    }
                    self.refresh(&group);
                }
            } else {
                self.ready.insert(seq);
            }
        }
    }

    /// Takes up to `max` visible messages for a receive: each becomes in flight until
    /// `now + visibility`, with a new nonce. A message already received `max_receive_count`
    /// times is removed instead and returned in the second list, for the dead-letter queue.
    pub fn take(
        &mut self,
        now_ms: i64,
        max: usize,
        visibility_ms: i64,
        max_receive_count: Option<u32>,
    ) -> (Vec<Taken>, Vec<Taken>) {
        let mut taken = Vec::new();
        let mut redriven = Vec::new();
        let exhausted = |entry: &Entry| max_receive_count.is_some_and(|m| entry.receive_count >= m);
        if !self.fifo {
            while taken.len() < max {
                let Some(&seq) = self.ready.first() else {
                    break;
                };
                if self.entries.get(&seq).is_some_and(exhausted) {
                    if let Some(entry) = self.remove(seq) {
                        redriven.push(Taken { seq, entry });
                    }
                    continue;
                }
                self.ready.pop_first();
                taken.push(self.receive(seq, now_ms, visibility_ms));
            }
            return (taken, redriven);
        }
        while taken.len() < max {
            let Some((_, group)) = self.available.pop_first() else {
                break;
            };
            if let Some(g) = self.groups.get_mut(&group) {
                g.available_at = None;
            }
            let mut from_group = 0;
            while taken.len() < max {
                let Some(seq) = self
                    .groups
                    .get(&group)
                    .and_then(|g| {
                        g.seqs.iter().find(|s| {
                            self.entries
                                .get(s)
                                .is_some_and(|e| !(e.state == State::Waiting && e.in_flight))
                        })
                    })
                    .copied()
                else {
                    break;
                };
                let Some(entry) = self.entries.get(&seq) else {
                    break;
                };
                if entry.state != State::Ready {
                    break;
                }
                if exhausted(entry) {
                    if let Some(entry) = self.remove(seq) {
                        redriven.push(Taken { seq, entry });
                    }
                    continue;
                }
                taken.push(self.receive(seq, now_ms, visibility_ms));
                from_group += 1;
            }
            if let Some(g) = self.groups.get_mut(&group) {
                g.in_flight += from_group;
            }
            self.refresh(&group);
        }
        (taken, redriven)
    }

    fn receive(&mut self, seq: i64, now_ms: i64, visibility_ms: i64) -> Taken {
        let entry = self
            .entries
            .get_mut(&seq)
            .expect("a ready message is indexed");
        entry.receive_count += 1;
        entry.first_receive_ms.get_or_insert(now_ms);
        entry.last_receive_ms = Some(now_ms);
        entry.nonce = fastrand::u64(..);
        entry.visible_ms = now_ms + visibility_ms;
        entry.state = State::Waiting;
        entry.in_flight = true;
        self.waiting.insert((entry.visible_ms, seq));
        self.depth.visible -= 1;
        self.depth.in_flight += 1;
        Taken {
            seq,
            entry: entry.clone(),
        }
    }

    /// Sets an in-flight message's visibility time; `false` when it is not in flight.
    pub fn set_visibility(&mut self, seq: i64, visible_ms: i64) -> bool {
        let Some(entry) = self.entries.get_mut(&seq) else {
            return false;
        };
        if !(entry.state == State::Waiting && entry.in_flight) {
            return false;
        }
        self.waiting.remove(&(entry.visible_ms, seq));
        entry.visible_ms = visible_ms;
        self.waiting.insert((visible_ms, seq));
        true
    }

    /// Removes a message, whatever its state.
    pub fn remove(&mut self, seq: i64) -> Option<Entry> {
        let entry = self.entries.remove(&seq)?;
        match entry.state {
            State::Pending => self.pending -= 1,
            State::Ready => {
                self.depth.visible -= 1;
                self.ready.remove(&seq);
            }
            State::Waiting => {
                self.waiting.remove(&(entry.visible_ms, seq));
                if entry.in_flight {
                    self.depth.in_flight -= 1;
                } else {
                    self.depth.delayed -= 1;
                }
            }
        }
        if entry.content.is_some() {
            self.cached_bytes -= entry.size;
        }
        if self.fifo
            && let Some(group) = &entry.group
        {
            if let Some(g) = self.groups.get_mut(group) {
                g.seqs.remove(&seq);
                if entry.state == State::Waiting && entry.in_flight {
                    g.in_flight = g.in_flight.saturating_sub(1);
                }
            }
            self.refresh(group);
        }
        Some(entry)
    }

    /// Removes messages sent before `before_ms` (retention), returning their seqs.
    pub fn expire(&mut self, before_ms: i64) -> Vec<i64> {
        let expired: Vec<i64> = self
            .entries
            .iter()
            .take_while(|(_, e)| e.sent_ms < before_ms)
            .filter(|(_, e)| e.state != State::Pending)
            .map(|(seq, _)| *seq)
            .collect();
        for seq in &expired {
            self.remove(*seq);
        }
        expired
    }

    /// Keeps `content` for a message (read from the store) if the cache has room.
    pub fn cache(&mut self, seq: i64, content: &Arc<Content>) {
        if let Some(entry) = self.entries.get_mut(&seq)
            && entry.content.is_none()
            && self.cached_bytes + entry.size <= CACHE_BYTES
        {
            self.cached_bytes += entry.size;
            entry.content = Some(Arc::clone(content));
        }
    }

    /// Puts a FIFO group in `available` exactly when a receive may take from it: nothing of
    /// it in flight and its first message visible.
    fn refresh(&mut self, group: &Arc<str>) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        if let Some(at) = g.available_at.take() {
            self.available.remove(&(at, Arc::clone(group)));
        }
        if g.seqs.is_empty() {
            self.groups.remove(group);
            return;
        }
        if g.in_flight == 0
            && let Some(&head) = g.seqs.first()
            && self
                .entries
                .get(&head)
                .is_some_and(|e| e.state == State::Ready)
        {
            self.available.insert((head, Arc::clone(group)));
            g.available_at = Some(head);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(index: &mut Index, seq: i64, sent_ms: i64, group: Option<&str>) {
        let entry = Entry::new(sent_ms, sent_ms, group.map(Arc::from), 10);
        index.insert_stored(seq, entry, 1_000);
    }

    #[test]
    fn retention_removes_the_oldest_messages_only() {
        let mut index = Index::new(false);
        for seq in 1..=5 {
            stored(&mut index, seq, seq * 100, None);
        }
        assert_eq!(index.expire(300), [1, 2]);
        assert_eq!(index.depth().visible, 3);
        let (taken, _) = index.take(1_000, 10, 1_000, None);
        let seqs: Vec<i64> = taken.iter().map(|t| t.seq).collect();
        assert_eq!(seqs, [3, 4, 5]);
    }

    #[test]
    fn a_pending_first_message_holds_its_fifo_group_back() {
        let mut index = Index::new(true);
        index.insert_pending(1, Entry::new(0, 0, Some(Arc::from("g")), 1), None);
        stored(&mut index, 2, 0, Some("g"));
        stored(&mut index, 3, 0, Some("h"));
        let (taken, _) = index.take(1_000, 10, 1_000, None);
        assert_eq!(taken.iter().map(|t| t.seq).collect::<Vec<_>>(), [3]);
        index.commit(1, 1_000);
        let (taken, _) = index.take(1_000, 10, 1_000, None);
        assert_eq!(taken.iter().map(|t| t.seq).collect::<Vec<_>>(), [1, 2]);
        // Past maxReceiveCount a message is passed on, and the group's next one is taken.
        index.promote(5_000);
        let (taken, redriven) = index.take(5_000, 10, 1_000, Some(1));
        assert!(taken.is_empty());
        assert_eq!(redriven.len(), 3);
        assert_eq!(index.depth(), QueueDepth::default());
    }
}

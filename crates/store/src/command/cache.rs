//! A bounded cache of recently used aggregates.
//!
//! Two generations: entries go into the young one; when it is full the old
//! one is dropped and the young one takes its place. A hit in the old
//! generation moves the entry back to the young one. So at most `capacity`
//! entries are kept, and an aggregate used at least once per
//! `capacity / 2` insertions stays cached: an LRU's behaviour without its
//! bookkeeping.
//!
//! Entries are only a guess at the current state: the command path appends
//! at the cached version, and a stale guess conflicts and is evicted.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::replay::Loaded;

pub(crate) struct AggregateCache<A> {
    generations: Mutex<Generations<A>>,
    /// Entries per generation; 0 disables the cache.
    generation_size: usize,
}

struct Generations<A> {
    young: HashMap<String, Loaded<A>>,
    old: HashMap<String, Loaded<A>>,
}

impl<A: Clone> AggregateCache<A> {
    pub(crate) fn new(capacity: usize) -> Self {
        AggregateCache {
            generations: Mutex::new(Generations {
                young: HashMap::new(),
                old: HashMap::new(),
            }),
            generation_size: capacity / 2,
        }
    }

    pub(crate) fn get(&self, aggregate_id: &str) -> Option<Loaded<A>> {
        let mut generations = self.lock()?;
        if let Some(entry) = generations.young.get(aggregate_id) {
            return Some(entry.clone());
        }
        let entry = generations.old.remove(aggregate_id)?;
        let copy = entry.clone();
        self.insert_young(&mut generations, aggregate_id.to_owned(), entry);
        Some(copy)
    }

    pub(crate) fn put(&self, aggregate_id: &str, entry: Loaded<A>) {
        if self.generation_size == 0 {
            return;
        }
        if let Some(mut generations) = self.lock() {
            generations.old.remove(aggregate_id);
            self.insert_young(&mut generations, aggregate_id.to_owned(), entry);
        }
    }

    pub(crate) fn remove(&self, aggregate_id: &str) {
        if let Some(mut generations) = self.lock() {
            generations.young.remove(aggregate_id);
            generations.old.remove(aggregate_id);
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().map_or(0, |generations| {
            generations.young.len() + generations.old.len()
        })
    }

    fn insert_young(&self, generations: &mut Generations<A>, key: String, entry: Loaded<A>) {
        if generations.young.len() >= self.generation_size && !generations.young.contains_key(&key)
        {
            generations.old = std::mem::take(&mut generations.young);
        }
        generations.young.insert(key, entry);
    }

    /// A poisoned lock (a panic while holding it) only costs cache hits:
    /// the cache is never needed for correctness.
    fn lock(&self) -> Option<std::sync::MutexGuard<'_, Generations<A>>> {
        self.generations.lock().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(sequence: i64) -> Loaded<u32> {
        Loaded {
            aggregate: 0,
            sequence,
            head_hash: None,
        }
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let cache = AggregateCache::new(10);
        for id in 0..1000 {
            cache.put(&id.to_string(), entry(id));
            assert!(cache.len() <= 10);
        }
        assert_eq!(cache.get("999").map(|entry| entry.sequence), Some(999));
        assert!(cache.get("0").is_none());
    }

    #[test]
    fn keeps_what_is_used_often() {
        let cache = AggregateCache::new(10);
        cache.put("hot", entry(1));
        for id in 0..1000 {
            cache.put(&id.to_string(), entry(id));
            assert!(cache.get("hot").is_some(), "evicted after {id}");
        }
    }

    #[test]
    fn a_zero_capacity_caches_nothing() {
        let cache = AggregateCache::new(0);
        cache.put("a", entry(1));
        assert!(cache.get("a").is_none());
    }

    #[test]
    fn removal_forgets_both_generations() {
        let cache = AggregateCache::new(4);
        cache.put("a", entry(1));
        cache.put("b", entry(1));
        cache.put("c", entry(1));
        cache.remove("a");
        cache.remove("c");
        assert!(cache.get("a").is_none() && cache.get("c").is_none());
        assert!(cache.get("b").is_some());
    }
}

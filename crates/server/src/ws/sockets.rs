//! The WebSockets open on this instance, in all and per account, for the caps on both.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use uuid::Uuid;

/// The open sockets' counts, shared by every socket of the instance.
#[derive(Clone, Default)]
pub struct Sockets(Arc<Mutex<Counts>>);

#[derive(Default)]
struct Counts {
    open: usize,
    per_user: HashMap<Uuid, usize>,
}

impl Sockets {
    fn lock(&self) -> MutexGuard<'_, Counts> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A place for one more socket, unless `max` are open.
    pub(super) fn open(&self, max: usize) -> Option<Slot> {
        let mut counts = self.lock();
        if counts.open >= max {
            return None;
        }
        counts.open += 1;
        Some(Slot {
            sockets: self.clone(),
            user: None,
        })
    }

    /// A place for a socket of `user`, unless the instance has `max` open or `user` has
    /// `max_per_user`.
    pub(super) fn admit(&self, user: Uuid, max: usize, max_per_user: usize) -> Result<Slot, Full> {
        let mut slot = self.open(max).ok_or(Full::Instance)?;
        if slot.claim(user, max_per_user) {
            Ok(slot)
        } else {
            Err(Full::Account)
        }
    }

    /// How many sockets hold a place, in all.
    pub fn open_count(&self) -> usize {
        self.lock().open
    }
}

/// Which cap a socket would pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Full {
    Instance,
    Account,
}

/// One open socket's place in the counts; given back when dropped.
pub(super) struct Slot {
    sockets: Sockets,
    user: Option<Uuid>,
}

impl Slot {
    /// Counts the socket as `user`'s, unless `user` has `max` sockets open already.
    pub(super) fn claim(&mut self, user: Uuid, max: usize) -> bool {
        if self.user == Some(user) {
            return true;
        }
        let mut counts = self.sockets.lock();
        let mine = counts.per_user.entry(user).or_default();
        if *mine >= max {
            if *mine == 0 {
                counts.per_user.remove(&user);
            }
            return false;
        }
        *mine += 1;
        drop(counts);
        self.release_user();
        self.user = Some(user);
        true
    }

    fn release_user(&mut self) {
        let Some(user) = self.user.take() else {
            return;
        };
        let mut counts = self.sockets.lock();
        if let Some(mine) = counts.per_user.get_mut(&user) {
            *mine = mine.saturating_sub(1);
            if *mine == 0 {
                counts.per_user.remove(&user);
            }
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.release_user();
        let mut counts = self.sockets.lock();
        counts.open = counts.open.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_count_in_all_and_per_user_and_come_back_when_dropped() {
        let sockets = Sockets::default();
        let (ann, bo) = (Uuid::now_v7(), Uuid::now_v7());
        let mut first = sockets.open(3).expect("room for one");
        let mut second = sockets.open(3).expect("room for two");
        assert!(first.claim(ann, 1));
        assert!(
            first.claim(ann, 1),
            "claiming again for the same user is a no-op"
        );
        assert!(!second.claim(ann, 1), "ann has her one socket");
        assert!(second.claim(bo, 1));
        let third = sockets.open(3).expect("room for three");
        assert!(sockets.open(3).is_none(), "three is the cap");
        drop(first);
        assert_eq!(sockets.open_count(), 2);
        let mut fourth = sockets.open(3).expect("a place came back");
        assert!(
            fourth.claim(ann, 1),
            "ann's place came back with her socket"
        );
        drop((second, third, fourth));
        assert_eq!(sockets.open_count(), 0);
        assert!(
            sockets.lock().per_user.is_empty(),
            "no user is left counted"
        );
    }
}

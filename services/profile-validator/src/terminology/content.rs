//! The content of a value set as a three-valued set of (system, code): each code is in it, not
//! in it, or cannot be told here. Three values, because a value set may select codes of a system
//! whose codes we do not have (SNOMED CT, LOINC) or by a filter we do not evaluate; a two-valued
//! set would have to guess, and a guess either refuses valid data or accepts invalid data.
//!
//! A set is stored sparsely: per system, the codes whose membership differs from that system's
//! `rest`, and for systems not listed, `other`. Include, exclude and import are then pointwise
//! union, difference and intersection, each linear in the sizes of the two sets.

use super::Membership;
use std::collections::HashMap;

/// A three-valued set of (system, code).
#[derive(Debug, Clone)]
pub(super) struct Content {
    systems: HashMap<String, Part>,
    other: Membership,
}

/// The codes of one system in a [`Content`].
#[derive(Debug, Clone)]
struct Part {
    codes: HashMap<String, Membership>,
    rest: Membership,
}

/// A pointwise operation on memberships.
type Op = fn(&Membership, &Membership) -> Membership;

impl Content {
    /// The empty set: every code of every system is not in it.
    pub(super) fn empty() -> Content {
        Content::everything(Membership::NotIn)
    }

    /// Every code of every system has this membership (`Unknown` for an unknown import).
    pub(super) fn everything(membership: Membership) -> Content {
        Content { systems: HashMap::new(), other: membership }
    }

    /// Exactly these codes of `system`.
    pub(super) fn codes<'a>(system: &str, codes: impl IntoIterator<Item = &'a String>) -> Content {
        let codes = codes.into_iter().map(|code| (code.clone(), Membership::In)).collect();
        let part = Part { codes, rest: Membership::NotIn };
        Content { systems: HashMap::from([(system.to_owned(), part)]), other: Membership::NotIn }
    }

    /// Every code of `system` has this membership; codes of other systems are not in the set.
    pub(super) fn system(system: &str, membership: Membership) -> Content {
        let part = Part { codes: HashMap::new(), rest: membership };
        Content { systems: HashMap::from([(system.to_owned(), part)]), other: Membership::NotIn }
    }

    /// The codes in either set.
    pub(super) fn union(self, other: &Content) -> Content {
        self.combine(other, union)
    }

    /// The codes in both sets.
    pub(super) fn intersect(self, other: &Content) -> Content {
        self.combine(other, intersect)
    }

    /// The codes in this set and not in `excluded`.
    pub(super) fn minus(self, excluded: &Content) -> Content {
        self.combine(excluded, minus)
    }

    /// The membership of one code.
    pub(super) fn get(&self, system: &str, code: &str) -> &Membership {
        match self.systems.get(system) {
            Some(part) => part.codes.get(code).unwrap_or(&part.rest),
            None => &self.other,
        }
    }

    /// Applies `op` to every (system, code), `self` on the left.
    fn combine(mut self, other: &Content, op: Op) -> Content {
        let fallback = self.other.clone();
        for system in other.systems.keys() {
            self.systems.entry(system.clone()).or_insert_with(|| Part::all(fallback.clone()));
        }
        for (system, part) in &mut self.systems {
            part.combine(other.systems.get(system), &other.other, op);
        }
        self.other = op(&self.other, &other.other);
        let other = &self.other;
        self.systems.retain(|_, part| !part.codes.is_empty() || part.rest != *other);
        self
    }
}

impl Part {
    /// Every code has this membership.
    fn all(membership: Membership) -> Part {
        Part { codes: HashMap::new(), rest: membership }
    }

    /// Applies `op` to every code, `self` on the left, `theirs` (or `their_other` when the other
    /// set does not list the system) on the right.
    fn combine(&mut self, theirs: Option<&Part>, their_other: &Membership, op: Op) {
        let their_rest = theirs.map_or(their_other, |part| &part.rest);
        if let Some(theirs) = theirs {
            for code in theirs.codes.keys() {
                self.codes.entry(code.clone()).or_insert_with(|| self.rest.clone());
            }
        }
        for (code, mine) in &mut self.codes {
            let their = theirs.and_then(|part| part.codes.get(code)).unwrap_or(their_rest);
            *mine = op(mine, their);
        }
        self.rest = op(&self.rest, their_rest);
        let rest = &self.rest;
        self.codes.retain(|_, membership| membership != rest);
    }
}

/// In either; otherwise unknown in either (the first reason); otherwise not in.
fn union(a: &Membership, b: &Membership) -> Membership {
    match (a, b) {
        (Membership::In, _) | (_, Membership::In) => Membership::In,
        (Membership::Unknown(_), _) => a.clone(),
        _ => b.clone(),
    }
}

/// Not in either; otherwise in both; otherwise unknown (the reason of the narrower side, `b`,
/// when both are unknown: a filter on a system says more than the system being unavailable).
fn intersect(a: &Membership, b: &Membership) -> Membership {
    match (a, b) {
        (Membership::NotIn, _) | (_, Membership::NotIn) => Membership::NotIn,
        (Membership::In, Membership::In) => Membership::In,
        (_, Membership::Unknown(_)) => b.clone(),
        _ => a.clone(),
    }
}

/// In `a` and not in `excluded`: an unknown exclusion makes a member unknown.
fn minus(a: &Membership, excluded: &Membership) -> Membership {
    match (a, excluded) {
        (_, Membership::In) | (Membership::NotIn, _) => Membership::NotIn,
        (_, Membership::Unknown(_)) => excluded.clone(),
        _ => a.clone(),
    }
}

/// A value set's content, expanded once, with an index for codes given without a system.
#[derive(Debug)]
pub(super) struct Expansion {
    content: Content,
    /// For each code listed in some system: its membership in any system (the union).
    any_system: HashMap<String, Membership>,
    /// The membership, in any system, of a code no system lists.
    any_rest: Membership,
}

impl Expansion {
    /// Indexes `content` for lookups without a system.
    pub(super) fn new(content: Content) -> Expansion {
        let any_rest = content.systems.values().fold(content.other.clone(), |acc, part| union(&acc, &part.rest));
        let mut any_system = HashMap::new();
        for code in content.systems.values().flat_map(|part| part.codes.keys()) {
            if !any_system.contains_key(code) {
                let membership = content
                    .systems
                    .keys()
                    .fold(content.other.clone(), |acc, system| union(&acc, content.get(system, code)));
                any_system.insert(code.clone(), membership);
            }
        }
        Expansion { content, any_system, any_rest }
    }

    /// The content, for a value set that imports this one.
    pub(super) fn content(&self) -> &Content {
        &self.content
    }

    /// The membership of `code` of `system`, or of any system.
    pub(super) fn get(&self, system: Option<&str>, code: &str) -> &Membership {
        match system {
            Some(system) => self.content.get(system, code),
            None => self.any_system.get(code).unwrap_or(&self.any_rest),
        }
    }
}

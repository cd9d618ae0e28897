//! Stage 7: group verified pairs into stories without chaining.
//!
//! Plain connected components chain: a round-up that quotes two wires would
//! tie their two stories into one. storyclust splits the verified-edge graph
//! into connected components (independent of each other, so they run in
//! parallel), then runs **average-linkage agglomeration** inside each one:
//! clusters `X` and `Y` merge, best pair first, while more than
//! `min_linkage` of the article pairs between them are verified edges:
//!
//! ```text
//! linkage(X, Y) = Σ_{x∈X, y∈Y} m_x·m_y·[x–y verified] / (M_X · M_Y)
//! ```
//!
//! where `m` counts the identical copies a node stands for and `M` sums them.
//! A bridge article linked to both stories gives them a linkage of at most
//! `1 / (|X| + 1)`: stories of two or more articles never merge through it.
//! Ties are broken by the mean pair strength, then by the smallest node ids,
//! so the result does not depend on thread count or input order.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use rayon::prelude::*;

/// A verified edge between two nodes, with its strength in 0..=1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Edge {
    /// One node.
    pub a: u32,
    /// The other node.
    pub b: u32,
    /// Strength (coverage or Jaccard), for ordering ties.
    pub strength: f64,
}

fn find(parent: &mut [u32], mut x: u32) -> u32 {
    while parent[x as usize] != x {
        let p = parent[parent[x as usize] as usize];
        parent[x as usize] = p;
        x = p;
    }
    x
}

/// Connected components of the edge graph, each a sorted list of nodes; only
/// components of two or more nodes, ordered by their smallest node.
pub fn components(n: usize, edges: &[Edge]) -> Vec<Vec<u32>> {
    let mut parent: Vec<u32> = (0..n as u32).collect();
    for e in edges {
        let (ra, rb) = (find(&mut parent, e.a), find(&mut parent, e.b));
        if ra != rb {
            parent[ra.max(rb) as usize] = ra.min(rb);
        }
    }
    let mut groups: HashMap<u32, Vec<u32>> = HashMap::new();
    for x in 0..n as u32 {
        let r = find(&mut parent, x);
        groups.entry(r).or_default().push(x);
    }
    let mut out: Vec<Vec<u32>> = groups.into_values().filter(|g| g.len() > 1).collect();
    out.sort_unstable_by_key(|g| g[0]);
    out
}

#[derive(Clone, Copy, Debug)]
struct Link {
    edges: f64,
    strength: f64,
}

#[derive(Debug)]
struct Entry {
    linkage: f64,
    strength: f64,
    x: u32,
    y: u32,
    vx: u32,
    vy: u32,
}

impl PartialEq for Entry {
    fn eq(&self, o: &Self) -> bool {
        self.cmp(o) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Entry {
    fn cmp(&self, o: &Self) -> Ordering {
        self.linkage
            .total_cmp(&o.linkage)
            .then(self.strength.total_cmp(&o.strength))
            .then(o.x.cmp(&self.x))
            .then(o.y.cmp(&self.y))
            .then(o.vx.cmp(&self.vx))
            .then(o.vy.cmp(&self.vy))
    }
}

/// Average-linkage clustering of one component. `weight[i]` is the number of
/// articles node `members[i]` stands for. Returns clusters of global node ids,
/// each sorted, ordered by smallest id.
fn agglomerate(members: &[u32], weight: &[u64], edges: &[Edge], min_linkage: f64) -> Vec<Vec<u32>> {
    let n = members.len();
    let local: HashMap<u32, u32> = members
        .iter()
        .enumerate()
        .map(|(i, &g)| (g, i as u32))
        .collect();
    let mut size: Vec<f64> = members.iter().map(|&g| weight[g as usize] as f64).collect();
    let mut nbr: Vec<HashMap<u32, Link>> = vec![HashMap::new(); n];
    for e in edges {
        let (Some(&a), Some(&b)) = (local.get(&e.a), local.get(&e.b)) else {
            continue;
        };
        if a == b {
            continue;
        }
        let w = weight[e.a as usize] as f64 * weight[e.b as usize] as f64;
        for (x, y) in [(a, b), (b, a)] {
            let l = nbr[x as usize].entry(y).or_insert(Link {
                edges: 0.0,
                strength: 0.0,
            });
            l.edges += w;
            l.strength += w * e.strength;
        }
    }
    let mut version = vec![0u32; n];
    let mut alive = vec![true; n];
    let mut heap = BinaryHeap::new();
    let entry = |x: u32, y: u32, l: &Link, size: &[f64], version: &[u32]| {
        let (x, y) = (x.min(y), x.max(y));
        let pairs = size[x as usize] * size[y as usize];
        Entry {
            linkage: l.edges / pairs,
            strength: l.strength / pairs,
            x,
            y,
            vx: version[x as usize],
            vy: version[y as usize],
        }
    };
    for x in 0..n as u32 {
        for (&y, l) in &nbr[x as usize] {
            if x < y {
                heap.push(entry(x, y, l, &size, &version));
            }
        }
    }
    let mut members_of: Vec<Vec<u32>> = (0..n as u32).map(|i| vec![i]).collect();
    while let Some(top) = heap.pop() {
        let (x, y) = (top.x as usize, top.y as usize);
        if !alive[x] || !alive[y] || version[x] != top.vx || version[y] != top.vy {
            continue;
        }
        if top.linkage <= min_linkage {
            break;
        }
        // Merge the smaller neighbourhood into the larger one.
        let (keep, gone) = if nbr[x].len() >= nbr[y].len() {
            (x, y)
        } else {
            (y, x)
        };
        alive[gone] = false;
        let gone_nbr = std::mem::take(&mut nbr[gone]);
        nbr[keep].remove(&(gone as u32));
        for (z, l) in gone_nbr {
            if z as usize == keep {
                continue;
            }
            let zl = nbr[z as usize].remove(&(gone as u32)).expect("symmetric");
            let _ = zl;
            let e = nbr[keep].entry(z).or_insert(Link {
                edges: 0.0,
                strength: 0.0,
            });
            e.edges += l.edges;
            e.strength += l.strength;
            let merged = *e;
            nbr[z as usize].insert(keep as u32, merged);
        }
        size[keep] += size[gone];
        version[keep] += 1;
        let moved = std::mem::take(&mut members_of[gone]);
        members_of[keep].extend(moved);
        let keep32 = keep as u32;
        let updates: Vec<Entry> = nbr[keep]
            .iter()
            .map(|(&z, l)| entry(keep32, z, l, &size, &version))
            .collect();
        heap.extend(updates);
    }
    let mut out: Vec<Vec<u32>> = (0..n)
        .filter(|&i| alive[i])
        .map(|i| {
            let mut v: Vec<u32> = members_of[i].iter().map(|&l| members[l as usize]).collect();
            v.sort_unstable();
            v
        })
        .collect();
    out.sort_unstable_by_key(|v| v[0]);
    out
}

/// Clusters `n` nodes (node `i` standing for `weight[i]` identical articles)
/// from verified edges. Returns the clusters of two or more nodes, each sorted,
/// ordered by smallest node; every node is in at most one.
pub fn cluster(weight: &[u64], edges: &[Edge], min_linkage: f64) -> Vec<Vec<u32>> {
    let n = weight.len();
    let comps = components(n, edges);
    // Edges per component.
    let mut comp_of = vec![u32::MAX; n];
    for (c, g) in comps.iter().enumerate() {
        for &x in g {
            comp_of[x as usize] = c as u32;
        }
    }
    let mut comp_edges: Vec<Vec<Edge>> = vec![Vec::new(); comps.len()];
    for e in edges {
        let c = comp_of[e.a as usize];
        if c != u32::MAX {
            comp_edges[c as usize].push(*e);
        }
    }
    let mut out: Vec<Vec<u32>> = comps
        .par_iter()
        .zip(comp_edges.par_iter())
        .flat_map_iter(|(g, es)| agglomerate(g, weight, es, min_linkage))
        .filter(|c| c.len() > 1)
        .collect();
    out.sort_unstable_by_key(|v| v[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(a: u32, b: u32) -> Edge {
        Edge {
            a,
            b,
            strength: 0.5,
        }
    }

    #[test]
    fn a_clique_is_one_story() {
        let edges = [e(0, 1), e(0, 2), e(1, 2), e(2, 3), e(0, 3), e(1, 3)];
        assert_eq!(cluster(&[1; 5], &edges, 0.5), vec![vec![0, 1, 2, 3]]);
    }

    #[test]
    fn a_bridge_does_not_chain_two_stories() {
        // Story {0,1,2} and story {4,5,6}; 3 is a round-up quoting both.
        let mut edges = vec![e(0, 1), e(0, 2), e(1, 2), e(4, 5), e(4, 6), e(5, 6)];
        for x in [0, 1, 2, 4, 5, 6] {
            edges.push(e(3, x));
        }
        let got = cluster(&[1; 7], &edges, 0.5);
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.iter().any(|c| c.starts_with(&[0, 1, 2])));
        assert!(got.iter().any(|c| c.ends_with(&[4, 5, 6])));
    }

    #[test]
    fn identical_copies_weigh_in() {
        // Node 0 stands for 3 copies; node 1 links to 0 only, node 2 to 1 only.
        let edges = [e(0, 1), e(1, 2)];
        let got = cluster(&[3, 1, 1], &edges, 0.5);
        assert_eq!(got, vec![vec![0, 1]]);
    }

    #[test]
    fn a_single_edge_is_a_story() {
        assert_eq!(cluster(&[1, 1, 1], &[e(2, 0)], 0.5), vec![vec![0, 2]]);
    }
}

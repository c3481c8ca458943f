//! Strongly connected components (Tarjan's algorithm, iterative), for finding recursive types.

use std::collections::{BTreeMap, BTreeSet};

/// Component id of every node of `edges` (nodes only named as targets included). Two nodes share
/// an id when each reaches the other.
pub fn components(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, usize> {
    let mut nodes: BTreeSet<&str> = edges.keys().map(String::as_str).collect();
    for targets in edges.values() {
        nodes.extend(targets.iter().map(String::as_str));
    }
    let index_of: BTreeMap<&str, usize> = nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    let names: Vec<&str> = nodes.into_iter().collect();
    let adj: Vec<Vec<usize>> = names
        .iter()
        .map(|n| {
            edges
                .get(*n)
                .into_iter()
                .flatten()
                .map(|t| index_of[t.as_str()])
                .collect()
        })
        .collect();

    let n = names.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut comp = vec![usize::MAX; n];
    let mut next_index = 0;
    let mut next_comp = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, position in its adjacency list)
        let mut work = vec![(root, 0usize)];
        while let Some((v, pos)) = work.pop() {
            if pos == 0 {
                index[v] = next_index;
                low[v] = next_index;
                next_index += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(&w) = adj[v].get(pos) {
                work.push((v, pos + 1));
                if index[w] == usize::MAX {
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            // v is done: fold its low link into its parent's, close a component at a root.
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    comp[w] = next_comp;
                    if w == v {
                        break;
                    }
                }
                next_comp += 1;
            }
        }
    }
    names
        .into_iter()
        .zip(comp)
        .map(|(n, c)| (n.to_string(), c))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(pairs: &[(&str, &str)]) -> BTreeMap<String, BTreeSet<String>> {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            g.entry(a.to_string()).or_default().insert(b.to_string());
        }
        g
    }

    #[test]
    fn cycles_share_a_component_and_chains_do_not() {
        let c = components(&graph(&[
            ("A", "B"),
            ("B", "C"),
            ("C", "A"),
            ("C", "D"),
            ("D", "E"),
            ("E", "E"),
        ]));
        assert_eq!(c["A"], c["B"]);
        assert_eq!(c["B"], c["C"]);
        assert_ne!(c["C"], c["D"]);
        assert_ne!(c["D"], c["E"]);
    }
}

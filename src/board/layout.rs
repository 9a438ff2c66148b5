//! A layered (Sugiyama-style) layout of a directed graph whose nodes belong
//! to ordered clusters, for the board's dependency graph: pure, no I/O.
//!
//! 1. **Orientation.** An edge between clusters points from the earlier
//!    cluster to the later one (an edge the other way is drawn reversed); an
//!    edge inside a cluster keeps its direction unless a depth-first search
//!    finds it closing a cycle, which is reversed instead. The graph the
//!    layout works on is then acyclic, whatever the input.
//! 2. **Layering.** Longest-path layering, cluster by cluster: each cluster
//!    (a phase) takes a band of consecutive layers after the previous
//!    cluster's band, and a node sits one layer right of its deepest
//!    predecessor, or at its band's first layer. Then each node with
//!    successors moves right to just before the nearest one (to the band's
//!    end when they all lie in later bands): shorter edges, fewer dummies,
//!    and a band's first layer no longer holds every task that could start.
//! 3. **Dummies.** An edge spanning several layers gets a dummy node in each
//!    layer it crosses, so every edge of the layered graph joins neighbouring
//!    layers and long edges take part in crossing reduction.
//! 4. **Crossing reduction.** Barycentre sweeps: down the layers, each node
//!    moves to the mean position of its neighbours in the layer before; then
//!    up, by the layer after; repeated while the crossing count (counted
//!    exactly, by inversions, O(E log V) per layer pair) improves, keeping
//!    the best order seen.
//! 5. **Coordinates.** Layers are columns, left to right. Within a column
//!    each node is pulled towards the mean height of its neighbours, keeping
//!    the order and the minimum gaps: a least-squares fit under order
//!    constraints, solved exactly by pool-adjacent-violators.
//!
//! The result holds each node's box, each edge's route (the points it
//! passes, left to right) and each cluster's band.

/// One node: its cluster (an index into the clusters) and its size.
#[derive(Clone, Copy, Debug)]
pub struct Node {
    pub cluster: usize,
    pub width: f32,
    pub height: f32,
}

/// The graph to lay out. Edges run from a dependency to its dependent;
/// clusters are laid out in index order.
#[derive(Clone, Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    pub edges: Vec<(usize, usize)>,
    pub clusters: usize,
}

/// Spacing and effort.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Horizontal gap between two layers of one cluster.
    pub layer_gap: f32,
    /// Extra horizontal room on each side of a cluster's band.
    pub cluster_pad: f32,
    /// Vertical gap between two nodes of a layer.
    pub node_gap: f32,
    /// Vertical gap next to a dummy (an edge passing through).
    pub dummy_gap: f32,
    /// Room above the nodes for the clusters' labels.
    pub top: f32,
    /// Most barycentre sweep pairs (down and up).
    pub sweeps: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            layer_gap: 48.0,
            cluster_pad: 16.0,
            node_gap: 12.0,
            dummy_gap: 6.0,
            top: 36.0,
            sweeps: 16,
        }
    }
}

/// Where a node went: its layer, its place in the layer (0 = top) and its
/// box's top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Placed {
    pub layer: usize,
    pub order: usize,
    pub x: f32,
    pub y: f32,
}

/// An edge's route: the points it passes, left to right, from the right
/// side of its left node to the left side of its right node. `reversed`:
/// the edge points right to left (its arrow head is at the first point).
/// A self-loop has no points.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub from: usize,
    pub to: usize,
    pub points: Vec<(f32, f32)>,
    pub reversed: bool,
}

/// A cluster's band: its layers and its horizontal extent (bands take the
/// layout's full height).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub first_layer: usize,
    pub last_layer: usize,
    pub x: f32,
    pub width: f32,
}

#[derive(Clone, Debug)]
pub struct Layout {
    pub nodes: Vec<Placed>,
    /// One per input edge, in input order.
    pub edges: Vec<Route>,
    /// One per cluster; `None` for a cluster without nodes.
    pub clusters: Vec<Option<Band>>,
    pub layers: usize,
    pub width: f32,
    pub height: f32,
    /// Edge crossings left between neighbouring layers.
    pub crossings: usize,
}

/// A node of the layered graph: a real node or a dummy on a long edge.
#[derive(Clone, Copy)]
struct LNode {
    layer: usize,
    height: f32,
    width: f32,
    dummy: bool,
    /// The input index of the real node (a dummy: its edge's left node), for
    /// a stable first order.
    key: usize,
}

/// Lay the graph out. Edges naming a node out of range are ignored (routed
/// with no points), so the function never panics on its input.
pub fn layout(graph: &Graph, opts: &Options) -> Layout {
    let n = graph.nodes.len();
    let clusters = graph
        .clusters
        .max(graph.nodes.iter().map(|v| v.cluster + 1).max().unwrap_or(0));
    let valid = |&(u, v): &(usize, usize)| u < n && v < n && u != v;

    // 1. Orientation: (left, right, reversed) per input edge.
    let oriented = orient(graph, clusters);

    // 2. Layering.
    let layer = layers(graph, clusters, &oriented);
    let layer_count = layer.iter().map(|&l| l + 1).max().unwrap_or(0);

    // 3. Dummies: chains of layered-graph nodes per distinct oriented edge.
    let mut lnodes: Vec<LNode> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, v)| LNode {
            layer: layer[i],
            height: v.height,
            width: v.width,
            dummy: false,
            key: i,
        })
        .collect();
    let mut chain_of: std::collections::HashMap<(usize, usize), usize> = Default::default();
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for (i, e) in graph.edges.iter().enumerate() {
        let Some((a, b, _)) = oriented[i] else {
            continue;
        };
        debug_assert!(valid(e));
        if chain_of.contains_key(&(a, b)) {
            continue;
        }
        let mut chain = vec![a];
        for l in layer[a] + 1..layer[b] {
            chain.push(lnodes.len());
            lnodes.push(LNode {
                layer: l,
                height: 0.0,
                width: 0.0,
                dummy: true,
                key: a,
            });
        }
        chain.push(b);
        chain_of.insert((a, b), chains.len());
        chains.push(chain);
    }
    let total = lnodes.len();
    let mut up: Vec<Vec<usize>> = vec![Vec::new(); total];
    let mut down: Vec<Vec<usize>> = vec![Vec::new(); total];
    for chain in &chains {
        for w in chain.windows(2) {
            down[w[0]].push(w[1]);
            up[w[1]].push(w[0]);
        }
    }

    // 4. Ordering.
    let mut order: Vec<Vec<usize>> = vec![Vec::new(); layer_count];
    let mut by_key: Vec<usize> = (0..total).collect();
    by_key.sort_by_key(|&v| (lnodes[v].key, lnodes[v].dummy, v));
    for v in by_key {
        order[lnodes[v].layer].push(v);
    }
    let crossings = reduce_crossings(&mut order, &up, &down, total, opts.sweeps);
    let mut pos = vec![0usize; total];
    for layer in &order {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }

    // 5. Coordinates: columns, then heights.
    let mut layer_width = vec![0f32; layer_count];
    for v in &lnodes {
        layer_width[v.layer] = layer_width[v.layer].max(v.width);
    }
    let cluster_of_layer: Vec<Option<usize>> = {
        let mut c = vec![None; layer_count];
        for (i, v) in graph.nodes.iter().enumerate() {
            c[layer[i]] = Some(v.cluster);
        }
        c
    };
    let mut layer_x = vec![0f32; layer_count];
    let mut x = 0f32;
    for l in 0..layer_count {
        let new_band = l == 0 || cluster_of_layer[l] != cluster_of_layer[l - 1];
        if new_band {
            if l > 0 {
                x += opts.cluster_pad;
            }
            x += opts.cluster_pad;
        } else {
            x += opts.layer_gap;
        }
        layer_x[l] = x;
        x += layer_width[l];
    }
    let width = if layer_count > 0 {
        x + opts.cluster_pad
    } else {
        0.0
    };
    let centers = heights(&lnodes, &order, &up, &down, opts);
    let top = centers
        .iter()
        .zip(&lnodes)
        .map(|(c, v)| c - v.height / 2.0)
        .fold(f32::INFINITY, f32::min);
    let shift = if top.is_finite() { opts.top - top } else { 0.0 };
    let bottom = centers
        .iter()
        .zip(&lnodes)
        .map(|(c, v)| c + v.height / 2.0 + shift)
        .fold(opts.top, f32::max);
    let height = bottom + opts.node_gap;

    let nodes: Vec<Placed> = (0..n)
        .map(|i| {
            let v = &lnodes[i];
            Placed {
                layer: v.layer,
                order: pos[i],
                x: layer_x[v.layer] + (layer_width[v.layer] - v.width) / 2.0,
                y: centers[i] + shift - v.height / 2.0,
            }
        })
        .collect();
    let edges: Vec<Route> = graph
        .edges
        .iter()
        .enumerate()
        .map(|(i, &(from, to))| match oriented[i] {
            None => Route {
                from,
                to,
                points: Vec::new(),
                reversed: false,
            },
            Some((a, b, reversed)) => {
                let chain = &chains[chain_of[&(a, b)]];
                let points = chain
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        let y = centers[v] + shift;
                        let l = lnodes[v].layer;
                        let x = if k == 0 {
                            nodes[v].x + lnodes[v].width
                        } else if k == chain.len() - 1 {
                            nodes[v].x
                        } else {
                            layer_x[l] + layer_width[l] / 2.0
                        };
                        (x, y)
                    })
                    .collect();
                Route {
                    from,
                    to,
                    points,
                    reversed,
                }
            }
        })
        .collect();
    let mut bands: Vec<Option<Band>> = vec![None; clusters];
    for (l, c) in cluster_of_layer.iter().enumerate() {
        let Some(c) = *c else { continue };
        let band = bands[c].get_or_insert(Band {
            first_layer: l,
            last_layer: l,
            x: 0.0,
            width: 0.0,
        });
        band.last_layer = l;
    }
    for band in bands.iter_mut().flatten() {
        band.x = layer_x[band.first_layer] - opts.cluster_pad;
        band.width =
            layer_x[band.last_layer] + layer_width[band.last_layer] + opts.cluster_pad - band.x;
    }
    Layout {
        nodes,
        edges,
        clusters: bands,
        layers: layer_count,
        width,
        height,
        crossings,
    }
}

/// Each input edge as (left node, right node, reversed), or `None` for a
/// self-loop or an edge naming no node.
fn orient(graph: &Graph, clusters: usize) -> Vec<Option<(usize, usize, bool)>> {
    let n = graph.nodes.len();
    let cluster = |v: usize| graph.nodes[v].cluster.min(clusters);
    // Inside a cluster: a depth-first search in input order; an edge to a
    // node still on the stack closes a cycle and is reversed.
    let mut inner: Vec<Vec<(usize, usize)>> = vec![Vec::new(); n];
    for (i, &(u, v)) in graph.edges.iter().enumerate() {
        if u < n && v < n && u != v && cluster(u) == cluster(v) {
            inner[u].push((v, i));
        }
    }
    let mut back = vec![false; graph.edges.len()];
    // 0 unseen, 1 on the stack, 2 done.
    let mut state = vec![0u8; n];
    for root in 0..n {
        if state[root] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(root, 0)];
        state[root] = 1;
        while let Some(&mut (v, ref mut next)) = stack.last_mut() {
            if let Some(&(w, e)) = inner[v].get(*next) {
                *next += 1;
                match state[w] {
                    0 => {
                        state[w] = 1;
                        stack.push((w, 0));
                    }
                    1 => back[e] = true,
                    _ => {}
                }
            } else {
                state[v] = 2;
                stack.pop();
            }
        }
    }
    graph
        .edges
        .iter()
        .enumerate()
        .map(|(i, &(u, v))| {
            if u >= n || v >= n || u == v {
                return None;
            }
            let reversed = match cluster(u).cmp(&cluster(v)) {
                std::cmp::Ordering::Less => false,
                std::cmp::Ordering::Greater => true,
                std::cmp::Ordering::Equal => back[i],
            };
            Some(if reversed {
                (v, u, true)
            } else {
                (u, v, false)
            })
        })
        .collect()
}

/// Longest-path layers, each cluster in its own band of layers.
fn layers(graph: &Graph, clusters: usize, oriented: &[Option<(usize, usize, bool)>]) -> Vec<usize> {
    let n = graph.nodes.len();
    let cluster = |v: usize| graph.nodes[v].cluster.min(clusters);
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &(a, b, _) in oriented.iter().flatten() {
        preds[b].push(a);
        succs[a].push(b);
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); clusters + 1];
    for v in 0..n {
        members[cluster(v)].push(v);
    }
    let mut layer = vec![0usize; n];
    let mut start = 0usize;
    // In-degree from the node's own cluster: edges from earlier clusters
    // are already settled when the cluster's turn comes.
    let mut indegree = vec![0usize; n];
    for v in 0..n {
        indegree[v] = preds[v]
            .iter()
            .filter(|&&p| cluster(p) == cluster(v))
            .count();
    }
    for nodes in &members {
        if nodes.is_empty() {
            continue;
        }
        let mut queue: std::collections::VecDeque<usize> = nodes
            .iter()
            .copied()
            .filter(|&v| indegree[v] == 0)
            .collect();
        let mut end = start;
        let mut topo = Vec::with_capacity(nodes.len());
        while let Some(v) = queue.pop_front() {
            topo.push(v);
            let l = preds[v]
                .iter()
                .map(|&p| layer[p] + 1)
                .max()
                .unwrap_or(0)
                .max(start);
            layer[v] = l;
            end = end.max(l);
            for &w in &succs[v] {
                if cluster(w) == cluster(v) {
                    indegree[w] -= 1;
                    if indegree[w] == 0 {
                        queue.push_back(w);
                    }
                }
            }
        }
        // Promotion: a node moves right to just before its nearest
        // successor (a node whose successors are all in later clusters, to
        // its band's last layer), so edges stay short and the first layers
        // of a band are not crowded with every task that can start early.
        // Reverse topological order: successors have their final layer.
        for &v in topo.iter().rev() {
            let mut nearest = None::<usize>;
            let mut later = false;
            for &w in &succs[v] {
                if cluster(w) == cluster(v) {
                    nearest = Some(nearest.map_or(layer[w], |n| n.min(layer[w])));
                } else {
                    later = true;
                }
            }
            match nearest {
                Some(n) => layer[v] = layer[v].max(n - 1),
                None if later => layer[v] = end,
                None => {}
            }
        }
        start = end + 1;
    }
    layer
}

/// Crossings between two neighbouring layers: `edges` holds, for each edge,
/// the positions of its ends in the upper and lower layer. Counted as
/// inversions with a Fenwick tree.
fn count_pair(edges: &mut [(usize, usize)], lower_len: usize) -> usize {
    edges.sort_unstable();
    let mut tree = vec![0usize; lower_len + 1];
    let mut crossings = 0;
    for (seen, &(_, b)) in edges.iter().enumerate() {
        // Edges already seen whose lower end is right of b cross this one.
        let mut i = b + 1;
        let mut not_greater = 0;
        while i > 0 {
            not_greater += tree[i];
            i &= i - 1;
        }
        crossings += seen - not_greater;
        let mut i = b + 1;
        while i <= lower_len {
            tree[i] += 1;
            i += i & i.wrapping_neg();
        }
    }
    crossings
}

/// Every crossing between neighbouring layers.
fn count_all(order: &[Vec<usize>], down: &[Vec<usize>], pos: &[usize]) -> usize {
    let mut total = 0;
    let mut edges = Vec::new();
    for l in 0..order.len().saturating_sub(1) {
        edges.clear();
        for &v in &order[l] {
            for &w in &down[v] {
                edges.push((pos[v], pos[w]));
            }
        }
        total += count_pair(&mut edges, order[l + 1].len());
    }
    total
}

/// Barycentre sweeps; `order` ends as the best order found. Returns its
/// crossing count.
fn reduce_crossings(
    order: &mut [Vec<usize>],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
    total: usize,
    sweeps: usize,
) -> usize {
    let mut pos = vec![0usize; total];
    for layer in order.iter() {
        for (i, &v) in layer.iter().enumerate() {
            pos[v] = i;
        }
    }
    let mut best = count_all(order, down, &pos);
    let mut best_order = order.to_vec();
    let mut stale = 0;
    let mut keyed: Vec<(f64, usize)> = Vec::new();
    for _ in 0..sweeps {
        if best == 0 {
            break;
        }
        for downward in [true, false] {
            let layers: Vec<usize> = if downward {
                (1..order.len()).collect()
            } else {
                (0..order.len().saturating_sub(1)).rev().collect()
            };
            for l in layers {
                let (reference, len) = if downward {
                    (up, order[l - 1].len())
                } else {
                    (down, order[l + 1].len())
                };
                let own = order[l].len();
                keyed.clear();
                for (i, &v) in order[l].iter().enumerate() {
                    let nbrs = &reference[v];
                    // Positions are taken as fractions of their layer's
                    // length, so layers of different sizes compare.
                    let bary = if nbrs.is_empty() {
                        (i as f64 + 0.5) / own as f64
                    } else {
                        nbrs.iter()
                            .map(|&u| (pos[u] as f64 + 0.5) / len as f64)
                            .sum::<f64>()
                            / nbrs.len() as f64
                    };
                    keyed.push((bary, v));
                }
                keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
                for (i, &(_, v)) in keyed.iter().enumerate() {
                    order[l][i] = v;
                    pos[v] = i;
                }
            }
        }
        transpose(order, up, down, &mut pos);
        let now = count_all(order, down, &pos);
        if now < best {
            best = now;
            best_order.clone_from_slice(order);
            stale = 0;
        } else {
            stale += 1;
            if stale >= 3 {
                break;
            }
        }
    }
    order.clone_from_slice(&best_order);
    best
}

/// Greedy switches: swap two neighbours of a layer while that removes
/// crossings with the layers on both sides, until no swap helps (a few
/// passes at most). It mends what averaging cannot see, such as two nodes
/// with equal barycentres in the wrong order.
fn transpose(order: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>], pos: &mut [usize]) {
    // Crossings between v's and w's edges, v above w: a pair crosses when
    // v's neighbour lies below w's.
    let cross = |v: usize, w: usize, pos: &[usize]| -> usize {
        let mut n = 0;
        for nbrs in [up, down] {
            for &a in &nbrs[v] {
                for &b in &nbrs[w] {
                    n += usize::from(pos[a] > pos[b]);
                }
            }
        }
        n
    };
    for _ in 0..4 {
        let mut improved = false;
        for layer in order.iter_mut() {
            for i in 0..layer.len().saturating_sub(1) {
                let (v, w) = (layer[i], layer[i + 1]);
                if cross(v, w, pos) > cross(w, v, pos) {
                    layer.swap(i, i + 1);
                    pos[v] = i + 1;
                    pos[w] = i;
                    improved = true;
                }
            }
        }
        if !improved {
            break;
        }
    }
}

/// The vertical centre of every layered-graph node: packed, then pulled
/// towards its neighbours by alternating sweeps.
fn heights(
    lnodes: &[LNode],
    order: &[Vec<usize>],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
    opts: &Options,
) -> Vec<f32> {
    let mut center = vec![0f32; lnodes.len()];
    let sep = |a: usize, b: usize| {
        let gap = if lnodes[a].dummy || lnodes[b].dummy {
            opts.dummy_gap
        } else {
            opts.node_gap
        };
        (lnodes[a].height + lnodes[b].height) / 2.0 + gap
    };
    for layer in order {
        let mut y = 0f32;
        for (i, &v) in layer.iter().enumerate() {
            if i > 0 {
                y += sep(layer[i - 1], v);
            }
            center[v] = y;
        }
    }
    // Down, up, down, up, then both sides at once.
    let passes: [(bool, bool); 5] = [
        (true, false),
        (false, true),
        (true, false),
        (false, true),
        (true, true),
    ];
    let mut wanted: Vec<f64> = Vec::new();
    let mut weights: Vec<f64> = Vec::new();
    let mut seps: Vec<f64> = Vec::new();
    for (use_up, use_down) in passes {
        let layers: Vec<usize> = if use_up && !use_down {
            (0..order.len()).collect()
        } else {
            (0..order.len()).rev().collect()
        };
        for l in layers {
            let layer = &order[l];
            if layer.is_empty() {
                continue;
            }
            wanted.clear();
            weights.clear();
            seps.clear();
            for (i, &v) in layer.iter().enumerate() {
                let mut sum = 0f64;
                let mut count = 0usize;
                if use_up {
                    for &u in &up[v] {
                        sum += f64::from(center[u]);
                        count += 1;
                    }
                }
                if use_down {
                    for &w in &down[v] {
                        sum += f64::from(center[w]);
                        count += 1;
                    }
                }
                if count == 0 {
                    wanted.push(f64::from(center[v]));
                    weights.push(0.25);
                } else {
                    wanted.push(sum / count as f64);
                    weights.push(if lnodes[v].dummy { 2.0 } else { 1.0 });
                }
                if i > 0 {
                    seps.push(f64::from(sep(layer[i - 1], v)));
                }
            }
            let fit = fit_ordered(&wanted, &weights, &seps);
            for (&v, y) in layer.iter().zip(fit) {
                center[v] = y as f32;
            }
        }
    }
    center
}

/// Positions `y` closest to `wanted` (weighted least squares) such that
/// `y[i + 1] >= y[i] + seps[i]`: with `z[i] = y[i] - S[i]` (S the running
/// sum of the gaps) this is isotonic regression of `wanted - S`, solved by
/// pool-adjacent-violators in linear time.
fn fit_ordered(wanted: &[f64], weights: &[f64], seps: &[f64]) -> Vec<f64> {
    let n = wanted.len();
    let mut offset = Vec::with_capacity(n);
    let mut s = 0f64;
    for i in 0..n {
        if i > 0 {
            s += seps[i - 1];
        }
        offset.push(s);
    }
    // Blocks of (mean, weight, length).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(n);
    for i in 0..n {
        let mut block = (wanted[i] - offset[i], weights[i].max(1e-9), 1usize);
        while let Some(&last) = blocks.last() {
            if last.0 <= block.0 {
                break;
            }
            blocks.pop();
            let w = last.1 + block.1;
            block = (
                (last.0 * last.1 + block.0 * block.1) / w,
                w,
                last.2 + block.2,
            );
        }
        blocks.push(block);
    }
    let mut out = Vec::with_capacity(n);
    for (mean, _, len) in blocks {
        for _ in 0..len {
            let i = out.len();
            out.push(mean + offset[i]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(clusters: &[usize], edges: &[(usize, usize)]) -> Graph {
        Graph {
            nodes: clusters
                .iter()
                .map(|&c| Node {
                    cluster: c,
                    width: 100.0,
                    height: 30.0,
                })
                .collect(),
            edges: edges.to_vec(),
            clusters: clusters.iter().map(|c| c + 1).max().unwrap_or(0),
        }
    }

    fn lay(clusters: &[usize], edges: &[(usize, usize)]) -> Layout {
        layout(&graph(clusters, edges), &Options::default())
    }

    /// No two real nodes overlap, and each layer keeps its order top-down.
    fn assert_no_overlap(g: &Graph, l: &Layout) {
        for i in 0..g.nodes.len() {
            for j in i + 1..g.nodes.len() {
                let (a, b) = (&l.nodes[i], &l.nodes[j]);
                if a.layer != b.layer {
                    continue;
                }
                let (top, bottom) = if a.order < b.order { (a, b) } else { (b, a) };
                assert!(
                    top.y + g.nodes[i].height <= bottom.y + 1e-3,
                    "nodes {i} and {j} overlap: {a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn longest_path_layers() {
        // 0 -> 1 -> 2, 0 -> 2, 3 alone.
        let l = lay(&[0, 0, 0, 0], &[(0, 1), (1, 2), (0, 2)]);
        let layers: Vec<usize> = l.nodes.iter().map(|p| p.layer).collect();
        assert_eq!(layers, [0, 1, 2, 0]);
        assert_eq!(l.layers, 3);
        // The long edge 0 -> 2 passes a dummy in layer 1: three points.
        assert_eq!(l.edges[2].points.len(), 3);
        assert!(l.edges.iter().all(|e| !e.reversed));
        for e in &l.edges {
            assert!(e.points.windows(2).all(|w| w[0].0 < w[1].0), "{e:?}");
        }
    }

    #[test]
    fn promotion_moves_early_nodes_next_to_their_successors() {
        // 0 -> 1 -> 2 -> 3, and 4 -> 3: longest path puts 4 in layer 0, two
        // layers from 3; promoted, it sits just before 3. Node 5 only feeds
        // the next cluster: it moves to its band's last layer. Node 6 feeds
        // nothing: it stays.
        let l = lay(
            &[0, 0, 0, 0, 0, 0, 0, 1],
            &[(0, 1), (1, 2), (2, 3), (4, 3), (5, 7)],
        );
        let layers: Vec<usize> = l.nodes.iter().map(|p| p.layer).collect();
        assert_eq!(layers, [0, 1, 2, 3, 2, 3, 0, 4]);
        assert_eq!(l.edges[3].points.len(), 2, "a short edge: no dummy");
    }

    #[test]
    fn clusters_take_consecutive_bands() {
        // Cluster 1's node 2 has no dependency but sits after cluster 0.
        let l = lay(&[0, 0, 1, 1], &[(0, 1), (2, 3)]);
        let layers: Vec<usize> = l.nodes.iter().map(|p| p.layer).collect();
        assert_eq!(layers, [0, 1, 2, 3]);
        let a = l.clusters[0].expect("band 0");
        let b = l.clusters[1].expect("band 1");
        assert_eq!((a.first_layer, a.last_layer), (0, 1));
        assert_eq!((b.first_layer, b.last_layer), (2, 3));
        assert!(a.x + a.width <= b.x, "bands overlap: {a:?} {b:?}");
        for (i, p) in l.nodes.iter().enumerate() {
            let band = l.clusters[[0, 0, 1, 1][i]].expect("band");
            assert!(p.x >= band.x && p.x + 100.0 <= band.x + band.width);
        }
    }

    #[test]
    fn empty_clusters_have_no_band() {
        let l = lay(&[0, 2], &[(0, 1)]);
        assert!(l.clusters[0].is_some());
        assert!(l.clusters[1].is_none());
        assert_eq!(l.nodes[1].layer, 1);
    }

    #[test]
    fn edges_against_the_cluster_order_are_reversed() {
        // Node 0 (cluster 0) depends on node 1 (cluster 1).
        let l = lay(&[0, 1], &[(1, 0)]);
        assert_eq!((l.nodes[0].layer, l.nodes[1].layer), (0, 1));
        let e = &l.edges[0];
        assert!(e.reversed);
        assert_eq!((e.from, e.to), (1, 0));
        assert!(e.points[0].0 < e.points[1].0);
    }

    #[test]
    fn cycles_are_broken_and_every_node_placed() {
        let l = lay(&[0, 0, 0], &[(0, 1), (1, 2), (2, 0), (1, 1), (7, 0)]);
        let layers: Vec<usize> = l.nodes.iter().map(|p| p.layer).collect();
        assert_eq!(layers, [0, 1, 2]);
        assert!(l.edges[2].reversed, "the edge closing the cycle");
        assert!(l.edges[3].points.is_empty(), "a self-loop has no route");
        assert!(l.edges[4].points.is_empty(), "an edge to no node");
    }

    #[test]
    fn barycentre_sweeps_untangle_a_crossing() {
        // Layer 0: 0, 1; layer 1: 2, 3 with 0 -> 3 and 1 -> 2: one crossing
        // in input order, none after ordering.
        let g = graph(&[0, 0, 0, 0], &[(0, 3), (1, 2)]);
        let l = layout(&g, &Options::default());
        assert_eq!(l.crossings, 0);
        assert!(l.nodes[3].order < l.nodes[2].order || l.nodes[0].order > l.nodes[1].order);
        assert_no_overlap(&g, &l);
    }

    #[test]
    fn crossings_are_counted_exactly() {
        // Every pair of edges (0,2),(1,1),(2,0) crosses: 3 crossings.
        let mut e = vec![(0, 2), (1, 1), (2, 0)];
        assert_eq!(count_pair(&mut e, 3), 3);
        let mut e = vec![(0, 0), (0, 1), (1, 0), (1, 1)];
        assert_eq!(count_pair(&mut e, 2), 1);
        let mut e = vec![(0, 0), (1, 1), (2, 2)];
        assert_eq!(count_pair(&mut e, 3), 0);
    }

    #[test]
    fn a_tree_is_drawn_without_crossings() {
        // A binary tree of depth 4, its nodes listed in a scrambled order.
        let n = 31;
        let scramble: Vec<usize> = (0..n).map(|i| (i * 17) % n).collect();
        let mut edges = Vec::new();
        for i in 1..n {
            edges.push((scramble[(i - 1) / 2], scramble[i]));
        }
        let g = graph(&vec![0; n], &edges);
        let l = layout(&g, &Options::default());
        assert_eq!(l.crossings, 0);
        assert_no_overlap(&g, &l);
    }

    #[test]
    fn sweeps_reduce_crossings_on_a_random_dag() {
        let mut rng = 0x1234_5678_u64;
        let mut next = |m: usize| {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            (rng % m as u64) as usize
        };
        let n = 200;
        let mut edges = Vec::new();
        for v in 1..n {
            for _ in 0..1 + next(2) {
                edges.push((v - 1 - next(v.min(20)), v));
            }
        }
        let clusters: Vec<usize> = (0..n).map(|v| v * 4 / n).collect();
        let g = graph(&clusters, &edges);
        let none = layout(
            &g,
            &Options {
                sweeps: 0,
                ..Options::default()
            },
        );
        let l = layout(&g, &Options::default());
        assert!(
            l.crossings * 2 < none.crossings,
            "{} crossings after sweeps, {} before",
            l.crossings,
            none.crossings
        );
        assert_no_overlap(&g, &l);
        for e in &l.edges {
            assert!(e.points.len() >= 2);
            assert!(e.points.windows(2).all(|w| w[0].0 < w[1].0));
        }
        for (i, p) in l.nodes.iter().enumerate() {
            assert!(p.y >= Options::default().top - 1e-3);
            assert!(p.y + 30.0 <= l.height && p.x + 100.0 <= l.width, "{i}");
        }
    }

    #[test]
    fn layout_is_deterministic_and_handles_empty_input() {
        let g = graph(&[0, 0, 1, 1, 0], &[(0, 2), (1, 3), (4, 2), (0, 3)]);
        let a = layout(&g, &Options::default());
        let b = layout(&g, &Options::default());
        assert_eq!(a.nodes, b.nodes);
        assert_eq!(a.edges, b.edges);
        let empty = layout(&Graph::default(), &Options::default());
        assert_eq!(empty.layers, 0);
        assert!(empty.nodes.is_empty());
    }

    #[test]
    fn fit_keeps_order_and_gaps_and_is_least_squares() {
        // Wanted out of order: pooled to the weighted mean.
        let y = fit_ordered(&[10.0, 0.0], &[1.0, 1.0], &[4.0]);
        assert_eq!(y, [3.0, 7.0]);
        // Already feasible: unchanged.
        let y = fit_ordered(&[0.0, 10.0, 30.0], &[1.0, 1.0, 1.0], &[4.0, 4.0]);
        assert_eq!(y, [0.0, 10.0, 30.0]);
        // A heavy node moves less.
        let y = fit_ordered(&[10.0, 0.0], &[3.0, 1.0], &[0.0]);
        assert_eq!(y, [7.5, 7.5]);
    }

    #[test]
    fn nodes_follow_their_neighbours() {
        // 0 and 1 in layer 0; 2 depends on 1 only: it lines up with 1.
        let g = graph(&[0, 0, 0], &[(1, 2)]);
        let l = layout(&g, &Options::default());
        assert!((l.nodes[2].y - l.nodes[1].y).abs() < 1e-3, "{:?}", l.nodes);
    }
}

package manifest

import "math/rand/v2"

// A treap is a sequence of edge indexes held in a randomized balanced
// binary tree, so that an edge can be found by a search down from the root,
// removed by its index, and its neighbours found, in O(log n) expected
// time. The order is the sweep's; the tree never compares two edges.
type treap struct {
	root  int32
	nodes []tnode // by edge index
}

type tnode struct {
	left, right, parent int32
	prio                uint32 // a heap on prio keeps the tree balanced
}

func (t *treap) init(n int) {
	t.root = -1
	t.nodes = make([]tnode, n)
	for i := range t.nodes {
		t.nodes[i] = tnode{left: -1, right: -1, parent: -1, prio: rand.Uint32()}
	}
}

// lowest returns the first index in the sequence for which up holds, or -1.
// up must be false for a prefix of the sequence and true after it.
func (t *treap) lowest(up func(int32) bool) int32 {
	found := int32(-1)
	for x := t.root; x >= 0; {
		if up(x) {
			found, x = x, t.nodes[x].left
		} else {
			x = t.nodes[x].right
		}
	}
	return found
}

func (t *treap) next(x int32) int32 {
	n := t.nodes
	if r := n[x].right; r >= 0 {
		for x = r; n[x].left >= 0; x = n[x].left {
		}
		return x
	}
	for p := n[x].parent; p >= 0; x, p = p, n[p].parent {
		if n[p].left == x {
			return p
		}
	}
	return -1
}

func (t *treap) prev(x int32) int32 {
	n := t.nodes
	if l := n[x].left; l >= 0 {
		for x = l; n[x].right >= 0; x = n[x].right {
		}
		return x
	}
	for p := n[x].parent; p >= 0; x, p = p, n[p].parent {
		if n[p].right == x {
			return p
		}
	}
	return -1
}

func (t *treap) last() int32 {
	x := t.root
	for x >= 0 && t.nodes[x].right >= 0 {
		x = t.nodes[x].right
	}
	return x
}

// insertAfter puts y right after x in the sequence, or first if x is -1.
func (t *treap) insertAfter(x, y int32) {
	n := t.nodes
	n[y].left, n[y].right = -1, -1
	switch {
	case t.root < 0:
		n[y].parent = -1
		t.root = y
		return
	case x < 0:
		x = t.root
		for n[x].left >= 0 {
			x = n[x].left
		}
		n[x].left, n[y].parent = y, x
	case n[x].right < 0:
		n[x].right, n[y].parent = y, x
	default:
		x = n[x].right
		for n[x].left >= 0 {
			x = n[x].left
		}
		n[x].left, n[y].parent = y, x
	}
	for n[y].parent >= 0 && n[y].prio < n[n[y].parent].prio {
		t.rotateUp(y)
	}
}

// remove takes x out of the sequence.
func (t *treap) remove(x int32) {
	n := t.nodes
	for n[x].left >= 0 || n[x].right >= 0 {
		c := n[x].left
		if c < 0 || (n[x].right >= 0 && n[n[x].right].prio < n[c].prio) {
			c = n[x].right
		}
		t.rotateUp(c)
	}
	switch p := n[x].parent; {
	case p < 0:
		t.root = -1
	case n[p].left == x:
		n[p].left = -1
	default:
		n[p].right = -1
	}
	n[x].parent = -1
}

// rotateUp swaps y with its parent, keeping the sequence's order.
func (t *treap) rotateUp(y int32) {
	n := t.nodes
	p := n[y].parent
	g := n[p].parent
	if n[p].left == y {
		n[p].left = n[y].right
		if c := n[y].right; c >= 0 {
			n[c].parent = p
		}
		n[y].right = p
	} else {
		n[p].right = n[y].left
		if c := n[y].left; c >= 0 {
			n[c].parent = p
		}
		n[y].left = p
	}
	n[p].parent, n[y].parent = y, g
	switch {
	case g < 0:
		t.root = y
	case n[g].left == p:
		n[g].left = y
	default:
		n[g].right = y
	}
}

package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Peer memory: a node keeps the names and addresses of the peers it has
// seen in a small file under --storage.path, so that after a restart it
// finds its fleet even when it has no join address of its own (node 0 of
// a fleet whose other nodes join the ones before them), and so that it
// knows how large its fleet was and notices when it is alone or in a
// minority of it.
//
// The file is JSON, rewritten atomically (a temporary file renamed over
// it) when the set of peers changes and when the node stops. It holds at
// most maxRemembered peers, the most recently seen first, and forgets a
// peer not seen for rememberFor.
const (
	memoryFileName = "peers.json"
	memoryVersion  = 1
	maxRemembered  = 64
	rememberFor    = 7 * 24 * time.Hour
	// minorityHorizon: a peer counts in the remembered fleet, for the
	// minority rule, while it was seen alive within this time and did not
	// leave gracefully. A peer that crashed for good stops counting after
	// it.
	minorityHorizon = time.Hour
	// maxMemoryFile bounds what is read: 64 entries fit in a few KiB.
	maxMemoryFile = 64 << 10
)

// rememberedPeer is one entry of the file.
type rememberedPeer struct {
	Name string `json:"name"`
	Addr string `json:"addr"`
	// LastSeen is when the peer was last seen alive (Unix ms, this node's
	// clock); for a peer that died or left, when it did.
	LastSeen int64 `json:"lastSeen"`
	// Left is true when the peer left gracefully (a scale-down or a
	// shutdown) rather than died: it is still tried at start, since a
	// whole fleet may be restarting, but it does not count in the
	// remembered fleet's size.
	Left bool `json:"left,omitempty"`
}

type memoryFile struct {
	Version int              `json:"version"`
	Cluster string           `json:"cluster"`
	Node    string           `json:"node"`
	Peers   []rememberedPeer `json:"peers"`
}

// peerMemory is the in-process copy of the file.
type peerMemory struct {
	path    string // "" when there is no storage directory: nothing is kept
	cluster string
	self    string

	mu      sync.Mutex
	peers   map[string]rememberedPeer
	written string // memoryKey of what was last read or written, to skip equal rewrites
}

// decodeMemory parses a peer-memory file. Entries that cannot be used (no
// name, an address that is not host:port) are dropped; a file of another
// cluster, or of a newer version, yields nothing.
func decodeMemory(b []byte, cluster, self string) ([]rememberedPeer, error) {
	if len(b) > maxMemoryFile {
		return nil, fmt.Errorf("peer memory: %d bytes, more than %d", len(b), maxMemoryFile)
	}
	var f memoryFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("peer memory: %w", err)
	}
	if f.Version != memoryVersion {
		return nil, fmt.Errorf("peer memory: unknown version %d", f.Version)
	}
	if f.Cluster != cluster {
		return nil, fmt.Errorf("peer memory: written for cluster %q, this node is in %q", f.Cluster, cluster)
	}
	var out []rememberedPeer
	seen := map[string]bool{}
	for _, p := range f.Peers {
		if p.Name == "" || len(p.Name) > 256 || p.Name == self || seen[p.Name] || !validPeerAddr(p.Addr) {
			continue
		}
		seen[p.Name] = true
		out = append(out, p)
	}
	return out, nil
}

// validPeerAddr accepts host:port with an IP or a host name.
func validPeerAddr(a string) bool {
	if _, err := netip.ParseAddrPort(a); err == nil {
		return true
	}
	j, err := parseJoinAddress(a)
	return err == nil && j.kind == joinHost && j.port != 0
}

func newPeerMemory(dir, cluster, self string) *peerMemory {
	m := &peerMemory{cluster: cluster, self: self, peers: map[string]rememberedPeer{}}
	if dir != "" {
		m.path = filepath.Join(dir, "cluster", memoryFileName)
	}
	return m
}

// load reads the file; a missing file is an empty memory.
func (m *peerMemory) load() error {
	if m.path == "" {
		return nil
	}
	b, err := os.ReadFile(m.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("peer memory: %w", err)
	}
	peers, err := decodeMemory(b, m.cluster, m.self)
	if err != nil {
		return fmt.Errorf("%s: %w", m.path, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range peers {
		m.peers[p.Name] = p
	}
	m.written = memoryKey(peers)
	return nil
}

// observe merges what this node knows now: live peers are seen now; a
// dead or departed peer keeps the time it went.
func (m *peerMemory) observe(now time.Time, peers []rememberedPeer, alive map[string]bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range peers {
		if p.Name == m.self || !validPeerAddr(p.Addr) {
			continue
		}
		old, known := m.peers[p.Name]
		if alive[p.Name] {
			p.LastSeen, p.Left = now.UnixMilli(), false
		} else if known && old.LastSeen > p.LastSeen {
			p.LastSeen = old.LastSeen
		}
		m.peers[p.Name] = p
	}
	// A live peer's address belongs to it: another name remembered at
	// that address (a node renamed, or an old pod) is gone.
	for _, p := range peers {
		if !alive[p.Name] {
			continue
		}
		for name, o := range m.peers {
			if name != p.Name && o.Addr == p.Addr {
				delete(m.peers, name)
			}
		}
	}
	m.trimLocked(now)
}

// trimLocked forgets peers not seen for rememberFor and keeps the
// maxRemembered most recently seen.
func (m *peerMemory) trimLocked(now time.Time) {
	for name, p := range m.peers {
		if now.Sub(time.UnixMilli(p.LastSeen)) > rememberFor {
			delete(m.peers, name)
		}
	}
	if len(m.peers) <= maxRemembered {
		return
	}
	for _, p := range m.sortedLocked()[maxRemembered:] {
		delete(m.peers, p.Name)
	}
}

// sortedLocked lists the peers, the most recently seen first.
func (m *peerMemory) sortedLocked() []rememberedPeer {
	out := make([]rememberedPeer, 0, len(m.peers))
	for _, p := range m.peers {
		out = append(out, p)
	}
	slices.SortFunc(out, func(a, b rememberedPeer) int {
		if a.LastSeen != b.LastSeen {
			if a.LastSeen > b.LastSeen {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out
}

// list returns the remembered peers, the most recently seen first.
func (m *peerMemory) list() []rememberedPeer {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sortedLocked()
}

// fleetSize is the size of the remembered fleet, this node included: the
// peers seen alive within minorityHorizon that did not leave gracefully.
func (m *peerMemory) fleetSize(now time.Time) int {
	if m == nil {
		return 1
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 1
	for _, p := range m.peers {
		if !p.Left && now.Sub(time.UnixMilli(p.LastSeen)) <= minorityHorizon {
			n++
		}
	}
	return n
}

// save writes the file if its content changed: to a temporary file in the
// same directory, synced, then renamed over the old one, so that a crash
// leaves either the old file or the new one. LastSeen alone changing does
// not cause a write (it would rewrite the file on every check); it is
// written with the next change and when the node stops.
func (m *peerMemory) save(force bool) error {
	if m.path == "" {
		return nil
	}
	m.mu.Lock()
	f := memoryFile{Version: memoryVersion, Cluster: m.cluster, Node: m.self, Peers: m.sortedLocked()}
	key := memoryKey(f.Peers)
	if !force && key == m.written {
		m.mu.Unlock()
		return nil
	}
	b, err := json.MarshalIndent(f, "", "  ")
	m.mu.Unlock()
	if err != nil {
		return err
	}
	if err := writeFileAtomic(m.path, append(b, '\n')); err != nil {
		return fmt.Errorf("peer memory: %w", err)
	}
	m.mu.Lock()
	m.written = key
	m.mu.Unlock()
	return nil
}

// memoryKey is what a rewrite depends on: names, addresses and whether
// each left, in name order.
func memoryKey(ps []rememberedPeer) string {
	parts := make([]string, 0, len(ps))
	for _, p := range ps {
		parts = append(parts, fmt.Sprintf("%s@%s/%v", p.Name, p.Addr, p.Left))
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

func writeFileAtomic(path string, b []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename, there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// memoryLoop keeps the peer memory current: every memoryCheck it merges
// the peers this node knows and rewrites the file if the set changed.
func (n *Node) memoryLoop(ctx context.Context) {
	const memoryCheck = time.Second
	t := time.NewTicker(memoryCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		n.rememberPeers(false)
	}
}

// rememberPeers merges the known peers into the memory and saves it
// (always with force, otherwise only if the set of peers changed).
func (n *Node) rememberPeers(force bool) {
	now := n.now()
	n.mu.Lock()
	ps := make([]rememberedPeer, 0, len(n.peers))
	alive := make(map[string]bool, len(n.peers))
	for _, p := range n.peers {
		if p.addr == "" {
			continue
		}
		ps = append(ps, rememberedPeer{Name: p.name, Addr: p.addr, LastSeen: p.leftAt.UnixMilli(), Left: !p.alive && p.left})
		if p.alive {
			alive[p.name] = true
		}
	}
	n.mu.Unlock()
	n.memory.observe(now, ps, alive)
	if err := n.memory.save(force); err != nil {
		n.mu.Lock()
		first := !n.memoryErrLogged
		n.memoryErrLogged = true
		n.mu.Unlock()
		if first {
			n.log.Warn("cannot save the remembered peers; a restart of this node may not find its fleet", "err", err)
		}
	}
}

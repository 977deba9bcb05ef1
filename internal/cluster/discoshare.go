package cluster

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/shoal-dev/shoal/internal/component"
)

// Discovery done once per fleet (--cluster.share-discovery).
//
// For each discovery component, the node that owns the key
// DiscoveryKey(id) by the same rendezvous hashing as targets runs the
// discoverer and serves its list on
//
//	GET /api/v1/ckit/transport/discovery/<id, path-escaped>?hash=H&version=V&digest=D&wait=MS
//
// The route sits under the gossip prefix, so it is authenticated as gossip
// is: never behind the UI's basic auth; with a cluster CA only for clients
// with a verified certificate; and with --cluster.gossip-key-file the
// request carries an HMAC-SHA256 of its URI and time under one of the
// gossip keys (header X-Shoal-Share-Auth: "<unix ms>.<base64 mac>"), and
// the answer is sealed with AES-GCM under the first key, its additional
// data the request's auth header, so it is secret and bound to the
// request. The server answers 200 with the list (JSON of
// component.SharedList) when its list is not (V, D), or waits up to MS
// (at most shareMaxWait) for a change and answers 204; 409 when its list
// was made from a config whose hash is not H; 404 when it serves no list
// for id. Every node serves the list it exports, whether it ran the
// discoverer or fetched the list, so a node that becomes the server has a
// list to serve at once.
const (
	sharePath       = TransportPathPrefix + "discovery/"
	headerShareAuth = "X-Shoal-Share-Auth"
	shareDomain     = "shoal/discovery-share/1\x00"
	// shareMaxWait bounds one long poll.
	shareMaxWait = 20 * time.Second
	// shareAuthWindow is how far a request's time may be from ours.
	shareAuthWindow = 5 * time.Minute
	// maxShareBody bounds a list answer.
	maxShareBody = 64 << 20
)

// DiscoveryKey is the ownership key of a discovery component's list.
func DiscoveryKey(id string) uint64 { return xxhash.Sum64String("shoal/discovery/" + id) }

// shares holds the lists this node serves.
type shares struct {
	mu    sync.Mutex
	lists map[string]*component.SharedList
	// changed is closed, and replaced, whenever a list changes.
	changed map[string]chan struct{}
}

func (s *shares) get(id string) (*component.SharedList, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.changed == nil {
		s.changed = make(map[string]chan struct{})
	}
	ch, ok := s.changed[id]
	if !ok {
		ch = make(chan struct{})
		s.changed[id] = ch
	}
	return s.lists[id], ch
}

func (s *shares) set(id string, l *component.SharedList) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lists == nil {
		s.lists = make(map[string]*component.SharedList)
	}
	if l == nil {
		delete(s.lists, id)
	} else {
		s.lists[id] = l
	}
	if ch, ok := s.changed[id]; ok {
		close(ch)
		delete(s.changed, id)
	}
}

var _ component.DiscoveryShare = (*Node)(nil)

// SharesDiscovery reports whether --cluster.share-discovery is on (and
// clustering with it).
func (n *Node) SharesDiscovery() bool { return n.enabled && n.cfg.ShareDiscovery }

// DiscoveryServer names the node that runs the discoverer of component id
// now: the owner of DiscoveryKey(id) at this moment.
func (n *Node) DiscoveryServer(id string) (string, bool) {
	if !n.SharesDiscovery() {
		return n.name, true
	}
	owner := n.OwnerOf(DiscoveryKey(id), n.nowMs())
	return owner, owner != "" && owner == n.name
}

// PublishDiscovery serves l as id's list; nil withdraws it.
// A list without a Source is this node's own.
func (n *Node) PublishDiscovery(id string, l *component.SharedList) {
	if l != nil && l.Source == "" {
		c := *l
		c.Source = n.name
		l = &c
	}
	n.shares.set(id, l)
}

// FetchDiscovery asks the node named node for id's list (see
// component.DiscoveryShare).
func (n *Node) FetchDiscovery(ctx context.Context, node, id, hash string, after uint64, digest string) (*component.SharedList, error) {
	if !n.SharesDiscovery() {
		return nil, component.ErrShareUnavailable
	}
	n.mu.Lock()
	p := n.peers[node]
	var addr string
	if p != nil && p.alive {
		addr = p.addr
	}
	n.mu.Unlock()
	if addr == "" {
		return nil, fmt.Errorf("no live peer %q", node)
	}
	q := url.Values{}
	q.Set("hash", hash)
	q.Set("version", strconv.FormatUint(after, 10))
	q.Set("digest", digest)
	q.Set("wait", strconv.FormatInt(shareMaxWait.Milliseconds(), 10))
	uri := sharePath + url.PathEscape(id) + "?" + q.Encode()
	ctx, cancel := context.WithTimeout(ctx, shareMaxWait+10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, n.transport.scheme+"://"+addr+uri, nil)
	if err != nil {
		return nil, err
	}
	auth := ""
	if len(n.gossipKeys) > 0 {
		auth = shareAuth(n.gossipKeys[0], n.cfg.Name, uri, n.nowMs())
		req.Header.Set(headerShareAuth, auth)
	}
	resp, err := n.transport.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxShareBody+1))
	if err != nil {
		return nil, fmt.Errorf("reading the list from %s: %w", node, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNoContent:
		return nil, nil
	case http.StatusConflict:
		return nil, component.ErrShareConfigDiffers
	case http.StatusNotFound:
		return nil, component.ErrShareUnavailable
	default:
		return nil, fmt.Errorf("%s answered %s: %s", node, resp.Status, strings.TrimSpace(string(body)))
	}
	if len(body) > maxShareBody {
		return nil, fmt.Errorf("the list from %s is larger than %d bytes", node, maxShareBody)
	}
	return decodeShared(n.gossipKeys, auth, body)
}

// decodeShared opens (with keys) and decodes a list answer; auth is the
// request's auth header, the sealed answer's additional data.
func decodeShared(keys [][]byte, auth string, body []byte) (*component.SharedList, error) {
	if len(keys) > 0 {
		plain, err := openShared(keys, []byte(auth), body)
		if err != nil {
			return nil, err
		}
		body = plain
	}
	var l component.SharedList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("decoding a shared list: %w", err)
	}
	if l.Digest != component.ShareDigest(l.Payload) {
		return nil, errors.New("a shared list does not match its digest")
	}
	return &l, nil
}

// shareAuth is the auth header of a request for uri at time ms.
func shareAuth(key []byte, cluster, uri string, ms int64) string {
	ts := strconv.FormatInt(ms, 10)
	return ts + "." + base64.RawStdEncoding.EncodeToString(shareMAC(key, cluster, uri, ts))
}

func shareMAC(key []byte, cluster, uri, ts string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(shareDomain))
	m.Write([]byte(cluster))
	m.Write([]byte{0})
	m.Write([]byte(uri))
	m.Write([]byte{0})
	m.Write([]byte(ts))
	return m.Sum(nil)
}

// checkShareAuth verifies an auth header against every key.
func checkShareAuth(keys [][]byte, cluster, uri, header string, now int64) error {
	ts, mac, ok := strings.Cut(header, ".")
	if !ok {
		return errors.New("missing or malformed " + headerShareAuth)
	}
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return errors.New("malformed time in " + headerShareAuth)
	}
	if d := time.Duration(now-ms) * time.Millisecond; d > shareAuthWindow || d < -shareAuthWindow {
		return errors.New("the request's time is too far from this node's")
	}
	got, err := base64.RawStdEncoding.DecodeString(mac)
	if err != nil {
		return errors.New("malformed MAC in " + headerShareAuth)
	}
	for _, k := range keys {
		if hmac.Equal(got, shareMAC(k, cluster, uri, ts)) {
			return nil
		}
	}
	return errors.New("the request is not signed with a gossip key of this cluster")
}

// sealShared encrypts an answer under key: nonce, then AES-GCM sealed
// bytes.
func sealShared(key, ad, plain []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	g, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, g.NonceSize(), g.NonceSize()+len(plain)+g.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return g.Seal(nonce, nonce, plain, ad), nil
}

// openShared decrypts an answer sealed under any of keys.
func openShared(keys [][]byte, ad, sealed []byte) ([]byte, error) {
	for _, k := range keys {
		block, err := aes.NewCipher(k)
		if err != nil {
			continue
		}
		g, err := cipher.NewGCM(block)
		if err != nil || len(sealed) < g.NonceSize() {
			continue
		}
		if plain, err := g.Open(nil, sealed[:g.NonceSize()], sealed[g.NonceSize():], ad); err == nil {
			return plain, nil
		}
	}
	return nil, errors.New("a shared list does not open with any gossip key")
}

// serveShare answers a peer's request for a list.
func (n *Node) serveShare(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "the discovery route accepts GET only", http.StatusMethodNotAllowed)
		return
	}
	if n.transport.requireClientCert && (r.TLS == nil || len(r.TLS.VerifiedChains) == 0) {
		http.Error(w, "the discovery route needs a client certificate signed by the cluster CA", http.StatusForbidden)
		return
	}
	if !n.SharesDiscovery() {
		http.Error(w, "discovery sharing is off on this node", http.StatusNotFound)
		return
	}
	auth := r.Header.Get(headerShareAuth)
	if len(n.gossipKeys) > 0 {
		if err := checkShareAuth(n.gossipKeys, n.cfg.Name, r.URL.RequestURI(), auth, n.nowMs()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
	}
	id, err := url.PathUnescape(strings.TrimPrefix(r.URL.EscapedPath(), sharePath))
	if err != nil || id == "" {
		http.Error(w, "no component ID in the path", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	hash, digest := q.Get("hash"), q.Get("digest")
	after, _ := strconv.ParseUint(q.Get("version"), 10, 64)
	wait, _ := strconv.ParseInt(q.Get("wait"), 10, 64)
	deadline := time.NewTimer(min(max(time.Duration(wait)*time.Millisecond, 0), shareMaxWait))
	defer deadline.Stop()
	for {
		l, changed := n.shares.get(id)
		switch {
		case l == nil:
			http.Error(w, "no list for "+id+" on this node", http.StatusNotFound)
			return
		case l.Hash != hash:
			http.Error(w, "the discovery config of "+id+" differs on this node", http.StatusConflict)
			return
		case l.Version != after || l.Digest != digest:
			n.writeShared(w, auth, l)
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			w.WriteHeader(http.StatusNoContent)
			return
		case <-r.Context().Done():
			return
		case <-n.transport.ctx.Done():
			http.Error(w, "the node is shutting down", http.StatusServiceUnavailable)
			return
		}
	}
}

func (n *Node) writeShared(w http.ResponseWriter, auth string, l *component.SharedList) {
	body, err := json.Marshal(l)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ct := "application/json"
	if len(n.gossipKeys) > 0 {
		if body, err = sealShared(n.gossipKeys[0], []byte(auth), body); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		ct = "application/octet-stream"
	}
	w.Header().Set("Content-Type", ct)
	_, _ = io.Copy(w, bytes.NewReader(body))
}

// withShare routes the discovery path to serveShare and the rest to next.
func (n *Node) withShare(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, sharePath) {
			n.serveShare(w, r)
			return
		}
		next.ServeHTTP(w, r)
	})
}

package cluster

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shoal-dev/shoal/internal/component"
)

func withShare(c *Config, _ *Options) { c.ShareDiscovery = true }

func sharedList(version uint64, payload string) *component.SharedList {
	return &component.SharedList{Version: version, Hash: "h1", Digest: component.ShareDigest([]byte(payload)), Payload: []byte(payload)}
}

// TestSharedListServedSealedAndLongPolled: with a gossip key, a peer
// fetches a node's list; the answer is sealed (an outsider sees neither
// the list nor gets an answer); a fetch of the current version waits
// until the list changes; another config hash is refused; every node
// agrees on which node serves a component.
func TestSharedListServedSealedAndLongPolled(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{3}, 32))+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	withKey := func(c *Config, _ *Options) { c.GossipKeyFile = key }
	a := startNode(t, "a", withShare, withKey)
	b := startNode(t, "b", withShare, withKey, withJoin(a.addr()))
	a.SetReady()
	b.SetReady()
	eventually(t, 15*time.Second, "a and b to be eligible in each other's view", func() bool {
		sa, _ := a.DiscoveryServer("discovery.http.x")
		sb, _ := b.DiscoveryServer("discovery.http.x")
		pa, _ := peerByName(a.Node, "b")
		pb, _ := peerByName(b.Node, "a")
		return sa != "" && sa == sb && pa.Eligible && pb.Eligible
	})
	// Both agree, and exactly one of them is the server.
	_, selfA := a.DiscoveryServer("discovery.http.x")
	_, selfB := b.DiscoveryServer("discovery.http.x")
	if selfA == selfB {
		t.Fatalf("a thinks it serves: %v, b thinks it serves: %v; want exactly one", selfA, selfB)
	}

	ctx := context.Background()
	if _, err := b.FetchDiscovery(ctx, "a", "discovery.http.x", "h1", 0, ""); !errors.Is(err, component.ErrShareUnavailable) {
		t.Fatalf("fetching a list a does not serve: %v, want ErrShareUnavailable", err)
	}
	a.PublishDiscovery("discovery.http.x", sharedList(4, `[{"__address__":"x:1"}]`))
	l, err := b.FetchDiscovery(ctx, "a", "discovery.http.x", "h1", 0, "")
	if err != nil || l == nil || l.Version != 4 || string(l.Payload) != `[{"__address__":"x:1"}]` || l.Source != "a" {
		t.Fatalf("fetched %+v, %v; want version 4 from a", l, err)
	}
	if _, err := b.FetchDiscovery(ctx, "a", "discovery.http.x", "other", 0, ""); !errors.Is(err, component.ErrShareConfigDiffers) {
		t.Fatalf("fetching with another config hash: %v, want ErrShareConfigDiffers", err)
	}

	// The long poll answers when the list changes.
	got := make(chan *component.SharedList, 1)
	go func() {
		l, err := b.FetchDiscovery(ctx, "a", "discovery.http.x", "h1", l.Version, l.Digest)
		if err != nil {
			t.Errorf("long poll: %v", err)
		}
		got <- l
	}()
	time.Sleep(100 * time.Millisecond) // let the poll reach a (not asserted)
	a.PublishDiscovery("discovery.http.x", sharedList(5, `[{"__address__":"y:1"}]`))
	select {
	case l := <-got:
		if l == nil || l.Version != 5 {
			t.Fatalf("the long poll returned %+v, want version 5", l)
		}
	case <-time.After(shareMaxWait + 15*time.Second):
		t.Fatal("the long poll never returned")
	}

	// An outsider without the key gets nothing, and a sealed answer
	// does not reveal the list.
	resp, err := http.Get("http://" + a.addr() + sharePath + "discovery.http.x?hash=h1")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || strings.Contains(string(body), "y:1") {
		t.Fatalf("an unsigned request got %s %q, want 401 without the list", resp.Status, body)
	}
	uri := sharePath + "discovery.http.x?hash=h1"
	req, _ := http.NewRequest(http.MethodGet, "http://"+a.addr()+uri, nil)
	auth := shareAuth(bytes.Repeat([]byte{3}, 32), "", uri, time.Now().UnixMilli())
	req.Header.Set(headerShareAuth, auth)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || bytes.Contains(body, []byte("y:1")) {
		t.Fatalf("a signed request got %s %q, want 200 with a sealed list", resp.Status, body)
	}
	if _, err := decodeShared([][]byte{bytes.Repeat([]byte{4}, 32)}, auth, body); err == nil {
		t.Fatal("a sealed list opened with the wrong key")
	}
	if _, err := decodeShared([][]byte{bytes.Repeat([]byte{3}, 32)}, auth+"x", body); err == nil {
		t.Fatal("a sealed list opened for another request")
	}
	if l, err := decodeShared([][]byte{bytes.Repeat([]byte{3}, 32)}, auth, body); err != nil || l.Version != 5 {
		t.Fatalf("the sealed list: %+v, %v", l, err)
	}
	// A replayed request from too long ago is refused.
	old := shareAuth(bytes.Repeat([]byte{3}, 32), "", uri, time.Now().Add(-time.Hour).UnixMilli())
	if err := checkShareAuth([][]byte{bytes.Repeat([]byte{3}, 32)}, "", uri, old, time.Now().UnixMilli()); err == nil {
		t.Fatal("a request from an hour ago was accepted")
	}
}

// TestShareOffAnswersNotFound: a node without --cluster.share-discovery
// serves no lists, and a node with it stops at the absent peer.
func TestShareOffAnswersNotFound(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withShare, withJoin(a.addr()))
	eventually(t, 10*time.Second, "a and b to see each other", func() bool { return sees(a.Node, "a", "b") && sees(b.Node, "a", "b") })
	a.PublishDiscovery("d", sharedList(1, "[]"))
	if _, err := b.FetchDiscovery(context.Background(), "a", "d", "h1", 0, ""); !errors.Is(err, component.ErrShareUnavailable) {
		t.Fatalf("fetching from a node that does not share: %v, want ErrShareUnavailable", err)
	}
	if _, err := b.FetchDiscovery(context.Background(), "nobody", "d", "h1", 0, ""); err == nil {
		t.Fatal("fetching from an unknown node succeeded")
	}
}

func FuzzDecodeShared(f *testing.F) {
	key := bytes.Repeat([]byte{1}, 16)
	plain := []byte(`{"version":3,"digest":"` + component.ShareDigest([]byte("[]")) + `","hash":"h","source":"a","payload":"W10="}`)
	sealed, err := sealShared(key, []byte("auth"), plain)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(plain, false)
	f.Add(sealed, true)
	f.Add([]byte(`{"payload":"!!"}`), false)
	f.Fuzz(func(t *testing.T, body []byte, withKey bool) {
		var keys [][]byte
		if withKey {
			keys = [][]byte{key}
		}
		l, err := decodeShared(keys, "auth", body)
		if err == nil && l.Digest != component.ShareDigest(l.Payload) {
			t.Fatalf("accepted a list whose digest does not match: %+v", l)
		}
	})
}

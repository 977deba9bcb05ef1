package cluster

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"reflect"
	"testing"
)

// FuzzNodeMeta feeds arbitrary gossip metadata to the record decoder: it
// must never panic, and whatever it accepts must survive a round trip.
// Seeds are in testdata/fuzz/FuzzNodeMeta.
func FuzzNodeMeta(f *testing.F) {
	for _, r := range []record{
		{},
		{State: Participant, Since: 1_780_000_000_000, Fingerprint: "abc"},
		{State: Terminating, Since: 2, Joined: 1, Watermark: -1, ExternalLabels: 9, Targets: []targetDigest{{ID: 1, Digest: 2, Count: 3}}},
	} {
		b, _ := r.encode(nil, maxMetaSize)
		f.Add(b)
	}
	// A signed record, and a node to vet what the fuzzer makes of it.
	p := newTestPKI(f)
	signer, vetter := idNode(f, p, "s"), idNode(f, p, "v")
	introduce(signer, vetter)
	quiet(signer, vetter)
	signed := signer.signedRecord(f, record{State: Participant, Since: signer.nowMs(), Fingerprint: "x", Targets: []targetDigest{{ID: 4, Digest: 5, Count: 6}}})
	f.Add(signed)
	f.Fuzz(func(t *testing.T, b []byte) {
		// The direct messages that carry records must not panic either.
		_, _, _ = parseAnnouncement(b)
		_, _ = parseDeathNotice(b)
		// Nor may vetting, and what is not the genuine record must not
		// pass for s's.
		if _, reason := vetter.vetRecord("s", signer.advertise, b); reason == "" && !bytes.Equal(b, signed) {
			t.Fatalf("vetting adopted a record s did not sign: %x", b)
		}
		_, _, _, _ = parseClockMessage(b)
		r, err := decodeRecord(b)
		if err != nil {
			return
		}
		if r.State > Terminating || len(r.Fingerprint) > maxFingerprint {
			t.Fatalf("decoder accepted an impossible record %+v", r)
		}
		enc, dropped := r.encode(nil, 1<<20)
		if dropped != 0 {
			t.Fatalf("re-encoding dropped %d digests", dropped)
		}
		again, err := decodeRecord(enc)
		if err != nil {
			t.Fatalf("re-encoded record does not decode: %v", err)
		}
		if len(b) == 0 {
			return // the empty record has no encoding of its own
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip changed %+v into %+v", r, again)
		}
	})
}

// FuzzJoinAddress feeds arbitrary --cluster.join-addresses entries to the
// parser: it must never panic, and what it accepts must name a host that
// a resolver or memberlist can use. Seeds are in
// testdata/fuzz/FuzzJoinAddress.
func FuzzJoinAddress(f *testing.F) {
	for _, s := range []string{"10.0.0.1:12345", "peers.svc", "dnssrv+_http._tcp.peers", "dns+a:1", "[::1]:80", "dnssrvnoa+x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := parseJoinAddress(s)
		if err != nil {
			return
		}
		if a.host == "" {
			t.Fatalf("accepted %q with an empty host", s)
		}
		if !a.ip.IsValid() && !validHostname(a.host) {
			t.Fatalf("accepted %q with host %q, neither an IP nor a name", s, a.host)
		}
		if a.ip.IsValid() && a.kind != joinHost {
			t.Fatalf("accepted a DNS lookup of the IP %q", s)
		}
	})
}

// FuzzCredential feeds arbitrary credentials to the decoder and the
// verifier: they must never panic, and nothing but a credential made with
// a certificate of the cluster CA may be kept. Seeds are in
// testdata/fuzz/FuzzCredential.
func FuzzCredential(f *testing.F) {
	p := newTestPKI(f)
	a, b := idNode(f, p, "a"), idNode(f, p, "b")
	quiet(a, b)
	f.Add(b.ident.cred)
	f.Add(a.ident.cred[:len(a.ident.cred)/2])
	f.Fuzz(func(t *testing.T, raw []byte) {
		_, _ = decodeCredential(raw)
		kid, reason, err := a.ident.addCredential(raw)
		if (err == nil) != (reason == "") {
			t.Fatalf("reason %q with error %v", reason, err)
		}
		if err == nil && kid != b.ident.id && kid != a.ident.id {
			t.Fatalf("kept a credential nobody in the fleet made: %x", raw)
		}
		a.addCredential(base64.StdEncoding.EncodeToString(raw))
	})
}

// quiet sends the nodes' logs nowhere: a fuzz target may not call f.Log.
func quiet(nodes ...*Node) {
	for _, n := range nodes {
		n.log = slog.New(slog.DiscardHandler)
	}
}

// FuzzPeerMemory feeds arbitrary files to the peer-memory decoder: it
// must never panic, and every peer it accepts must be usable: named, not
// this node, listed once, at a host:port address. Seeds are in
// testdata/fuzz/FuzzPeerMemory.
func FuzzPeerMemory(f *testing.F) {
	f.Add([]byte(`{"version":1,"cluster":"c","node":"self","peers":[{"name":"a","addr":"10.0.0.1:12345","lastSeen":1}]}`))
	f.Add([]byte(`{"version":1,"cluster":"c","peers":[{"name":"self","addr":"h:1"},{"name":"b","addr":"peer.svc:80","left":true},{"name":"b","addr":"x:2"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		peers, err := decodeMemory(b, "c", "self")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, p := range peers {
			if p.Name == "" || p.Name == "self" || seen[p.Name] || !validPeerAddr(p.Addr) {
				t.Fatalf("accepted an unusable peer %+v", p)
			}
			seen[p.Name] = true
		}
	})
}

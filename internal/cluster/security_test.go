package cluster

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/memberlist"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// idNode is a node built (not run) with a credential from p, listening
// nowhere: enough to sign records and to vet others.
func idNode(t testing.TB, p *testPKI, name string, opts ...nodeOpt) *Node {
	t.Helper()
	cert, key := p.issue(t, name)
	cfg := testConfig(name)
	cfg.EnableTLS, cfg.TLSCAPath, cfg.TLSCertPath, cfg.TLSKeyPath = true, p.caPath, cert, key
	cfg.NodeIdentity = true
	o := Options{ListenAddr: freeAddr(t), Logger: testLogger(t, name)}
	for _, f := range opts {
		f(&cfg, &o)
	}
	n, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	if !n.ident.canSign() {
		t.Fatalf("%s cannot sign", name)
	}
	return n
}

func freeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// introduce gives each node every other node's credential, as their
// streams' headers would.
func introduce(nodes ...*Node) {
	for _, a := range nodes {
		for _, b := range nodes {
			a.addCredential(b.ident.cred6)
		}
	}
}

func (n *Node) signedRecord(t testing.TB, r record) []byte {
	t.Helper()
	b, _ := n.encodeLocal(r, maxMetaSize)
	return b
}

func refusedCount(n *Node, reason string) float64 {
	return testutil.ToFloat64(n.metrics.recordsRefused.WithLabelValues(reason))
}

// offer hands a record to n's alive hook as memberlist would, for node
// name at addr, and reports the reason it was refused ("" if adopted).
func offer(t *testing.T, n *Node, name string, addr netip.AddrPort, meta []byte) string {
	t.Helper()
	node := &memberlist.Node{Name: name, Addr: addr.Addr().AsSlice(), Port: addr.Port(), Meta: meta}
	err := (&delegate{n: n}).NotifyAlive(node)
	if err == nil {
		return ""
	}
	reason := string(err.(recordRefused))
	if refusedCount(n, reason) == 0 {
		t.Errorf("%s refused a record for %s (%s) without counting it", n.name, name, reason)
	}
	return reason
}

func TestForgedRecordsAreRefusedAndCounted(t *testing.T) {
	p := newTestPKI(t)
	a, b, m := idNode(t, p, "a"), idNode(t, p, "b"), idNode(t, p, "m")
	introduce(a, b, m)
	now := a.nowMs()
	good := record{State: Participant, Since: now}

	if r := offer(t, a, "b", b.advertise, b.signedRecord(t, good)); r != "" {
		t.Fatalf("b's own record refused: %s", r)
	}

	// m claims b's name, at b's address and at its own, signing with its
	// own key: its certificate does not speak for b.
	forged := func(name string, addr netip.AddrPort, r record) []byte {
		body, _ := r.encode(nil, maxMetaSize-sigTrailer)
		return m.ident.sign(name, addr, body)
	}
	for _, addr := range []netip.AddrPort{b.advertise, m.advertise} {
		if r := offer(t, a, "b", addr, forged("b", addr, good)); r != refuseIdentity {
			t.Errorf("m's record claiming b at %s: %q, want %q", addr, r, refuseIdentity)
		}
	}

	// m mints a credential naming b with its own certificate: refused,
	// and so is every record signed with that credential's key.
	cert, err := tls.LoadX509KeyPair(filepath.Join(p.dir, "m.pem"), filepath.Join(p.dir, "m-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	mint := &identity{cluster: "", roots: m.ident.roots, now: time.Now, creds: map[keyID]*peerCred{}, refused: map[keyID]string{}}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	mint.priv, mint.id = priv, keyIDOf(pub)
	raw, err := makeCredential("", "b", pub, now, cert.Certificate, cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	a.addCredential(base64.StdEncoding.EncodeToString(raw))
	body, _ := good.encode(nil, maxMetaSize-sigTrailer)
	if r := offer(t, a, "b", b.advertise, mint.sign("b", b.advertise, body)); r != refuseIdentity {
		t.Errorf("record under a credential m minted for b: %q, want %q", r, refuseIdentity)
	}

	// b's genuine record replayed at another address.
	if r := offer(t, a, "b", m.advertise, b.signedRecord(t, good)); r != refuseBadSignature {
		t.Errorf("b's record at m's address: %q, want %q", r, refuseBadSignature)
	}
	// A flipped bit anywhere.
	for _, i := range []int{1, 5, -1} {
		meta := b.signedRecord(t, record{State: Participant, Since: now, Fingerprint: "abc"})
		if i < 0 {
			i = len(meta) - 1
		}
		meta[i] ^= 0x10
		// Depending on the byte, the times turn implausible first.
		if r := offer(t, a, "b", b.advertise, meta); r == "" {
			t.Errorf("b's record with byte %d flipped was adopted", i)
		}
	}
	// A far-future since, though b signed it itself.
	if r := offer(t, a, "b", b.advertise, b.signedRecord(t, record{State: Terminating, Since: now + 3_600_000})); r != refuseFuture {
		t.Errorf("b's record with a since an hour ahead: %q, want %q", r, refuseFuture)
	}
	if r := offer(t, a, "b", b.advertise, b.signedRecord(t, record{State: Terminating, Since: now, Joined: now + 1})); r != refuseInvalid {
		t.Errorf("b's record joined after since: %q, want %q", r, refuseInvalid)
	}
	// No signature where one is required.
	plain, _ := good.encode(nil, maxMetaSize)
	if r := offer(t, a, "b", b.advertise, plain); r != refuseUnsigned {
		t.Errorf("unsigned record: %q, want %q", r, refuseUnsigned)
	}
	// A node whose credential a has not seen yet.
	c := idNode(t, p, "c")
	if r := offer(t, a, "c", c.advertise, c.signedRecord(t, good)); r != refuseUnknownKey {
		t.Errorf("record of a node not introduced: %q, want %q", r, refuseUnknownKey)
	}
	select {
	case addr := <-a.credFetch:
		if addr != c.advertise.String() {
			t.Errorf("a asks %s for c's credential, want %s", addr, c.advertise)
		}
	default:
		t.Error("a does not ask c for its credential")
	}
	a.addCredential(c.ident.cred6)
	if r := offer(t, a, "c", c.advertise, c.signedRecord(t, good)); r != "" {
		t.Errorf("c's record once its credential arrived: %q", r)
	}
}

// TestRecordsOfAnotherCAAreRefused: a node whose certificate comes from
// another CA signs perfectly good records, which are refused because its
// credential does not chain to the cluster CA.
func TestRecordsOfAnotherCAAreRefused(t *testing.T) {
	p, other := newTestPKI(t), newTestPKI(t)
	a, x := idNode(t, p, "a"), idNode(t, other, "x")
	introduce(a, x)
	if r := offer(t, a, "x", x.advertise, x.signedRecord(t, record{State: Participant, Since: a.nowMs()})); r != refuseUntrusted {
		t.Errorf("record of a node certified by another CA: %q, want %q", r, refuseUntrusted)
	}
}

// TestFarFutureSinceIsRefusedWithoutTLS: the bound on since holds for
// unsigned records too.
func TestFarFutureSinceIsRefusedWithoutTLS(t *testing.T) {
	n, err := New(testConfig("a"), Options{ListenAddr: freeAddr(t), Logger: testLogger(t, "a")})
	if err != nil {
		t.Fatal(err)
	}
	addr := netip.MustParseAddrPort("127.0.0.1:1")
	fr := record{State: Participant, Since: n.nowMs() + 24*3_600_000}
	future, _ := fr.encode(nil, maxMetaSize)
	if r := offer(t, n, "b", addr, future); r != refuseFuture {
		t.Errorf("since a day ahead: %q, want %q", r, refuseFuture)
	}
	sr := record{State: Viewer, Since: n.nowMs() + 10_000}
	skewed, _ := sr.encode(nil, maxMetaSize)
	if r := offer(t, n, "b", addr, skewed); r != "" {
		t.Errorf("a viewer whose clock is 10s fast must stay visible; refused: %s", r)
	}
}

// TestCertificateMustNameTheNode: with --cluster.tls-node-identity a node
// whose certificate names another node does not start; without it (the
// default, for Alloy fleets that share one certificate) it does, and a
// peer accepts its records on the CA's word alone.
func TestCertificateMustNameTheNode(t *testing.T) {
	p := newTestPKI(t)
	cert, key := p.issue(t, "someone-else")
	cfg := testConfig("a")
	cfg.EnableTLS, cfg.TLSCAPath, cfg.TLSCertPath, cfg.TLSKeyPath = true, p.caPath, cert, key
	cfg.NodeIdentity = true
	_, err := New(cfg, Options{ListenAddr: freeAddr(t), Logger: testLogger(t, "a")})
	if err == nil || !strings.Contains(err.Error(), "--cluster.tls-node-identity") {
		t.Fatalf("New with a certificate for someone else: %v, want an error naming --cluster.tls-node-identity", err)
	}
	cfg.NodeIdentity = false
	a, err := New(cfg, Options{ListenAddr: freeAddr(t), Logger: testLogger(t, "a")})
	if err != nil {
		t.Fatalf("without --cluster.tls-node-identity: %v", err)
	}
	bcfg := testConfig("b")
	bcfg.EnableTLS, bcfg.TLSCAPath, bcfg.TLSCertPath, bcfg.TLSKeyPath = true, p.caPath, cert, key
	b, err := New(bcfg, Options{ListenAddr: freeAddr(t), Logger: testLogger(t, "b")})
	if err != nil {
		t.Fatal(err)
	}
	if _, reason, err := b.ident.addCredential(a.ident.cred); err != nil {
		t.Fatalf("a shared certificate's credential refused (%s): %v", reason, err)
	}
}

// TestSignedRecordFitsWorstCase fills every field of a record to its
// largest encoding, with a node name of 253 characters and many
// components: the signed record fits 512 bytes by dropping digests,
// counts the drop, and verifies.
func TestSignedRecordFitsWorstCase(t *testing.T) {
	p := newTestPKI(t)
	long := strings.Repeat("n", 61) + "." + strings.Repeat("o", 63) + "." + strings.Repeat("d", 63) + "." + strings.Repeat("e", 63)
	if len(long) != 253 {
		t.Fatalf("name of %d bytes", len(long))
	}
	certPath, keyPath := issueDNS(t, p, long)
	cfg := testConfig(long)
	cfg.EnableTLS, cfg.TLSCAPath, cfg.TLSCertPath, cfg.TLSKeyPath = true, p.caPath, certPath, keyPath
	cfg.NodeIdentity = true
	cfg.Name = strings.Repeat("c", 255)
	o := Options{ListenAddr: "[::1]:0", Logger: testLogger(t, "long")}
	ln, err := net.Listen("tcp", "[::1]:0")
	if err != nil {
		t.Skip("no IPv6 loopback")
	}
	o.ListenAddr = ln.Addr().String()
	ln.Close()
	n, err := New(cfg, o)
	if err != nil {
		t.Fatal(err)
	}
	r := record{State: Terminating, Since: math.MaxInt64, Joined: math.MinInt64, Prev: math.MinInt64, Watermark: math.MinInt64,
		Fingerprint: strings.Repeat("f", maxFingerprint), ExternalLabels: math.MaxUint64}
	for i := range 100 {
		r.Targets = append(r.Targets, targetDigest{ID: uint32(i), Digest: math.MaxUint64, Count: math.MaxUint64})
	}
	n.local = r
	meta := (&delegate{n: n}).NodeMeta(memberlist.MetaMaxSize)
	if len(meta) > maxMetaSize {
		t.Fatalf("signed worst-case record is %d bytes, over %d", len(meta), maxMetaSize)
	}
	if got := testutil.ToFloat64(n.metrics.metaTruncated); got != 1 {
		t.Errorf("meta_truncated = %v, want 1", got)
	}
	got, err := decodeRecord(meta)
	if err != nil {
		t.Fatal(err)
	}
	if got.Since != r.Since || got.Fingerprint != r.Fingerprint || len(got.Targets) == 0 {
		t.Errorf("decoded %+v", got)
	}
	if reason := n.ident.verify(long, n.advertise, meta); reason != "" {
		t.Errorf("worst-case record does not verify: %s", reason)
	}
	t.Logf("worst-case signed record: %d bytes with %d of %d digests", len(meta), len(got.Targets), len(r.Targets))
	// The announcement carrying it also fits one gossip packet.
	if a := announcement(long, meta); len(a) > packetBufferSize {
		t.Errorf("announcement of %d bytes", len(a))
	}
}

func issueDNS(t *testing.T, p *testPKI, name string) (certPath, keyPath string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "long"},
		DNSNames:     []string{name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certPath, keyPath = filepath.Join(p.dir, "long.pem"), filepath.Join(p.dir, "long-key.pem")
	writePEM(t, certPath, "CERTIFICATE", der)
	writePEM(t, keyPath, "EC PRIVATE KEY", kder)
	return certPath, keyPath
}

// TestSignedFleetForms runs three TLS nodes that sign their records: each
// one's record reaches the others, which verify it, and no peer record is
// refused once the credentials have travelled.
func TestSignedFleetForms(t *testing.T) {
	p := newTestPKI(t)
	a := startTLSNode(t, p, "a", true)
	b := startTLSNode(t, p, "b", true, withJoin(a.addr()))
	c := startTLSNode(t, p, "c", true, withJoin(b.addr()))
	for _, n := range []*tnode{a, b, c} {
		n.SetReady()
	}
	eventually(t, 20*time.Second, "three signed nodes to see each other as participants", func() bool {
		for _, n := range []*tnode{a, b, c} {
			if !sees(n.Node, "a", "b", "c") {
				return false
			}
			for _, name := range []string{"a", "b", "c"} {
				if p, ok := peerByName(n.Node, name); !ok || p.State != Participant {
					return false
				}
			}
		}
		return true
	})
	for _, n := range []*tnode{a, b, c} {
		for _, r := range refuseReasons {
			if r != refuseUnknownKey && refusedCount(n.Node, r) > 0 {
				t.Errorf("%s refused %v records for %s", n.name, refusedCount(n.Node, r), r)
			}
		}
	}
}

// TestFalseDeathIsRefutedAndCounted: a third party tells b that a is dead
// (a dead message cannot be signed by its subject). b believes it and
// gossips it; a refutes it with a new incarnation, counts the
// refutation, and is alive again everywhere.
func TestFalseDeathIsRefutedAndCounted(t *testing.T) {
	a := startNode(t, "a")
	b := startNode(t, "b", withJoin(a.addr()))
	c := startNode(t, "c", withJoin(a.addr()))
	eventually(t, 10*time.Second, "three nodes to see each other", func() bool {
		return sees(a.Node, "a", "b", "c") && sees(b.Node, "a", "b", "c") && sees(c.Node, "a", "b", "c")
	})
	refutedBefore := testutil.ToFloat64(a.metrics.refuted.WithLabelValues("dead"))

	// memberlist's dead message: type 5, then msgpack of {Incarnation, Node, From}.
	var buf bytes.Buffer
	buf.WriteByte(5)
	if err := codec.NewEncoder(&buf, &codec.MsgpackHandle{}).Encode(struct {
		Incarnation uint32
		Node        string
		From        string
	}{1 << 20, "a", "liar"}); err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Protocols: new(http.Protocols)}
	tr.Protocols.SetUnencryptedHTTP2(true)
	req, _ := http.NewRequest(http.MethodPost, "http://"+b.addr()+messagePath, bytes.NewReader(buf.Bytes()))
	req.Header.Set(headerFrom, "127.0.0.1:1")
	resp, err := (&http.Client{Transport: tr, Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	eventually(t, 10*time.Second, "a to refute its death", func() bool {
		return testutil.ToFloat64(a.metrics.refuted.WithLabelValues("dead")) > refutedBefore
	})
	eventually(t, 10*time.Second, "every node to see a alive again", func() bool {
		return sees(a.Node, "a", "b", "c") && sees(b.Node, "a", "b", "c") && sees(c.Node, "a", "b", "c")
	})
}

// TestGossipKeyKeepsOutNodesWithoutIt: nodes that share a gossip key
// form a fleet; a node with another key, or none, cannot join it.
func TestGossipKeyKeepsOutNodesWithoutIt(t *testing.T) {
	dir := t.TempDir()
	keyFile := func(name string, key []byte) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("# test key\n"+base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	shared := keyFile("shared", bytes.Repeat([]byte{7}, 32))
	other := keyFile("other", bytes.Repeat([]byte{9}, 16))
	withKey := func(path string) nodeOpt { return func(c *Config, _ *Options) { c.GossipKeyFile = path } }

	a := startNode(t, "a", withKey(shared))
	b := startNode(t, "b", withKey(shared), withJoin(a.addr()))
	eventually(t, 10*time.Second, "a and b, sharing a key, to see each other", func() bool {
		return sees(a.Node, "a", "b") && sees(b.Node, "a", "b")
	})
	wrong := startNode(t, "wrong", withKey(other), withJoin(a.addr()))
	none := startNode(t, "none", withJoin(a.addr()))
	wrong.SetReady()
	none.SetReady()
	eventually(t, 15*time.Second, "the outsiders to give up joining", func() bool {
		return wrong.Self().State == Participant && none.Self().State == Participant
	})
	for _, n := range []*tnode{a, b} {
		if got := alivePeers(n.Node); len(got) != 2 {
			t.Errorf("%s sees %v; nodes without the key must not join", n.name, got)
		}
	}
	for _, n := range []*tnode{wrong, none} {
		if got := alivePeers(n.Node); len(got) != 1 {
			t.Errorf("%s sees %v, want only itself", n.name, got)
		}
	}
}

func TestGossipKeyFileErrorsNameTheLine(t *testing.T) {
	dir := t.TempDir()
	for body, want := range map[string]string{
		"":                   "no key",
		"not base64!\n":      ":1: not base64",
		"# c\n\n" + "AAAA\n": ":3: a key must be 16, 24 or 32 bytes",
		base64.StdEncoding.EncodeToString(make([]byte, 16)) + "\nAA==\n": ":2:",
	} {
		path := filepath.Join(dir, "k")
		if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := loadGossipKeys(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("key file %q: %v, want an error containing %q", body, err, want)
		}
	}
}

// TestExpiredCertificateStopsCounting: a credential verified while its
// certificate was valid stops vouching for records once it has expired.
func TestExpiredCertificateStopsCounting(t *testing.T) {
	p := newTestPKI(t)
	a, b := idNode(t, p, "a"), idNode(t, p, "b")
	introduce(a, b)
	rec := b.signedRecord(t, record{State: Participant, Since: a.nowMs()})
	if r := offer(t, a, "b", b.advertise, rec); r != "" {
		t.Fatalf("b's record refused while its certificate is valid: %s", r)
	}
	a.ident.now = func() time.Time { return time.Now().Add(2 * time.Hour) } // the test certificates last an hour
	if r := offer(t, a, "b", b.advertise, rec); r != refuseUntrusted {
		t.Errorf("b's record after its certificate expired: %q, want %q", r, refuseUntrusted)
	}
}

// TestMemberCannotForgeAnotherThroughGossip runs three signing nodes. m,
// a member with a valid certificate, sends a an alive message for b over
// the real gossip route, with a record it signed claiming that b is
// terminating and with an incarnation that beats b's. a refuses it, counts
// it, and keeps b's genuine record; b stays a participant everywhere.
func TestMemberCannotForgeAnotherThroughGossip(t *testing.T) {
	p := newTestPKI(t)
	a := startTLSNode(t, p, "a", true)
	b := startTLSNode(t, p, "b", true, withJoin(a.addr()))
	m := startTLSNode(t, p, "m", true, withJoin(a.addr()))
	for _, n := range []*tnode{a, b, m} {
		n.SetReady()
	}
	bIsParticipant := func(n *Node) bool {
		p, ok := peerByName(n, "b")
		return ok && p.Alive && p.State == Participant
	}
	eventually(t, 20*time.Second, "every node to see b as a participant", func() bool {
		return bIsParticipant(a.Node) && bIsParticipant(b.Node) && bIsParticipant(m.Node)
	})
	before := refusedCount(a.Node, refuseIdentity)

	for _, addr := range []netip.AddrPort{b.advertise, m.advertise} {
		body, _ := (&record{State: Terminating, Since: a.nowMs(), Joined: a.nowMs() - 1}).encode(nil, maxMetaSize-sigTrailer)
		var buf bytes.Buffer
		buf.WriteByte(4) // memberlist's aliveMsg
		if err := codec.NewEncoder(&buf, &codec.MsgpackHandle{}).Encode(struct {
			Incarnation uint32
			Node        string
			Addr        []byte
			Port        uint16
			Meta        []byte
			Vsn         []uint8
		}{1 << 20, "b", addr.Addr().AsSlice(), addr.Port(), m.ident.sign("b", addr, body), []uint8{1, 5, 2, 0, 0, 0}}); err != nil {
			t.Fatal(err)
		}
		clientTLS, err := ClientTLS(m.cfg)
		if err != nil {
			t.Fatal(err)
		}
		clientTLS.NextProtos = nil
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS, ForceAttemptHTTP2: true}}
		req, _ := http.NewRequest(http.MethodPost, "https://"+a.addr()+messagePath, bytes.NewReader(buf.Bytes()))
		req.Header.Set(headerFrom, m.advertise.String())
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			t.Fatalf("a did not take m's packet: %s", resp.Status)
		}
	}
	eventually(t, 10*time.Second, "a to refuse m's forgeries", func() bool {
		return refusedCount(a.Node, refuseIdentity) >= before+2
	})
	for _, n := range []*tnode{a, b, m} {
		if !bIsParticipant(n.Node) {
			p, _ := peerByName(n.Node, "b")
			t.Errorf("%s holds b as %+v after m's forgery", n.name, p)
		}
	}
}

func TestRefutationKindIsRecognisedInMemberlistsLog(t *testing.T) {
	for line, want := range map[string]string{
		"[WARN] memberlist: Refuting a dead message (from: b)":                                 "dead",
		"[WARN] memberlist: Refuting a suspect message (from: b)":                              "suspect",
		"[WARN] memberlist: Refuting an alive message for 'a' (127.0.0.1:1) meta:([1] VS [2])": "alive",
		"[INFO] memberlist: Marking b as failed":                                               "",
	} {
		if got := refutationKind(line); got != want {
			t.Errorf("refutationKind(%q) = %q, want %q", line, got, want)
		}
	}
}

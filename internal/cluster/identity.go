package cluster

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"sync"
	"time"
)

// A node speaks only for itself: with --cluster.enable-tls, a CA, a
// certificate and its key, each node signs its own record and peers
// verify the signature before memberlist adopts the record.
//
// A record must fit into memberlist's 512-byte node metadata, and an RSA
// signature alone can take 512 bytes. So the certificate's key signs once,
// at start, a credential: this node's name, a fresh Ed25519 public key and
// the time it was made, with the certificate chain attached. Records are
// then signed with the Ed25519 key, which costs 8 bytes of key ID and a
// 64-byte signature in the record. Credentials travel in a header of every
// gossip stream, both ways, so a peer that pushes or pulls state with a
// node has its credential before it reads the node's record; a record
// whose credential is not known yet is refused, and its node is contacted
// for a push/pull, which brings both.
//
// The credential, version 1:
//
//	byte     version (1)
//	uvarint  len, node name
//	32 bytes Ed25519 public key
//	varint   issued (Unix ms)
//	uvarint  n, then n × (uvarint len, DER certificate), leaf first
//	uvarint  len, signature by the leaf's key over credentialDomain,
//	         the cluster name, 0, and every byte above
//
// A signed record is the record's encoding with the high bit of its
// version byte set, followed by the key ID (the first 8 bytes of the
// SHA-256 of the Ed25519 key) and the Ed25519 signature over
// recordDomain, the cluster name, 0, the node name, 0, its address
// (ip:port), 0, and every byte of the record before the signature. Older
// decoders read the version as a newer one and ignore the trailer.
const (
	credentialDomain = "shoal/cluster-credential/1\x00"
	recordDomain     = "shoal/cluster-record/1\x00"
	headerCredential = "X-Shoal-Credential"

	signedFlag    = 0x80
	keyIDSize     = 8
	sigTrailer    = keyIDSize + ed25519.SignatureSize
	maxCredential = 16 << 10 // bound on a credential's encoding
	maxCredKeys   = 4096     // bound on the credentials held
	credIdle      = deadPeerMemory
)

// Reasons a record is refused, the label of shoal_cluster_records_refused_total.
const (
	refuseMalformed    = "malformed"     // the record does not decode
	refuseFuture       = "future_since"  // since too far ahead of this node's clock
	refuseInvalid      = "invalid_times" // joined or prev after since
	refuseUnsigned     = "unsigned"      // no signature where one is required
	refuseUnknownKey   = "unknown_key"   // the signer's credential is not known (yet)
	refuseBadSignature = "bad_signature" // the signature does not verify
	refuseUntrusted    = "untrusted"     // the signer's certificate does not chain to the CA
	refuseIdentity     = "identity"      // signed with a key that does not speak for this node
)

var refuseReasons = []string{refuseMalformed, refuseFuture, refuseInvalid, refuseUnsigned, refuseUnknownKey, refuseBadSignature, refuseUntrusted, refuseIdentity}

type keyID [keyIDSize]byte

func keyIDOf(pub ed25519.PublicKey) keyID {
	sum := sha256.Sum256(pub)
	var id keyID
	copy(id[:], sum[:])
	return id
}

// identity signs this node's records and verifies its peers'.
type identity struct {
	cluster string
	roots   *x509.CertPool
	shared  bool
	now     func() time.Time

	// This node's signing key and credential; priv is nil when this node
	// cannot sign (no certificate).
	priv  ed25519.PrivateKey
	id    keyID
	cred  []byte
	cred6 string // cred in base64, for the header

	mu    sync.Mutex
	creds map[keyID]*peerCred
	// refused remembers credentials that failed, so that records signed
	// with their key are refused for the right reason.
	refused map[keyID]string
}

// peerCred is a verified credential.
type peerCred struct {
	name     string
	pub      ed25519.PublicKey
	issued   int64
	leaf     *x509.Certificate
	inter    *x509.CertPool
	lastUsed time.Time
	// checked is when the chain was last verified; it is verified again
	// after chainRecheck, so that an expired certificate stops counting
	// without a chain verification per record.
	checked time.Time
}

const chainRecheck = time.Minute

// newIdentity loads what signing and verification need. It returns nil
// when records are neither signed nor verified: without TLS, or without a
// CA to verify against.
func newIdentity(cfg Config, now func() time.Time) (*identity, error) {
	if !cfg.EnableTLS || cfg.TLSCAPath == "" {
		return nil, nil
	}
	roots, err := loadCA(cfg.TLSCAPath)
	if err != nil {
		return nil, err
	}
	id := &identity{cluster: cfg.Name, roots: roots, shared: !cfg.NodeIdentity, now: now,
		creds: make(map[keyID]*peerCred), refused: make(map[keyID]string)}
	if cfg.TLSCertPath == "" {
		return id, nil
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertPath, cfg.TLSKeyPath)
	if err != nil {
		return nil, fmt.Errorf("--cluster.tls-cert-path/--cluster.tls-key-path: %w", err)
	}
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return nil, errors.New("--cluster.tls-key-path: the key cannot sign")
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	id.priv, id.id = priv, keyIDOf(pub)
	id.cred, err = makeCredential(cfg.Name, cfg.NodeName, pub, now().UnixMilli(), cert.Certificate, signer)
	if err != nil {
		return nil, fmt.Errorf("--cluster.tls-key-path: signing this node's credential: %w", err)
	}
	id.cred6 = base64.StdEncoding.EncodeToString(id.cred)
	// Our own credential must pass the checks peers will make: a node
	// whose certificate does not name it would be refused by every peer
	// and scrape everything alone, so it does not start.
	if _, reason, err := id.addCredential(id.cred); err != nil {
		hint := ""
		if reason == refuseIdentity {
			hint = "; give each node a certificate naming it (subject CN or a DNS name), or drop --cluster.tls-node-identity if the nodes share one"
		}
		return nil, fmt.Errorf("--cluster.tls-cert-path: peers would refuse this node's records: %w%s", err, hint)
	}
	return id, nil
}

func signedBytes(cluster string, parts ...[]byte) []byte {
	var b bytes.Buffer
	b.WriteString(cluster)
	b.WriteByte(0)
	for _, p := range parts {
		b.Write(p)
	}
	return b.Bytes()
}

// makeCredential encodes and signs a credential with the certificate's key.
func makeCredential(cluster, name string, pub ed25519.PublicKey, issued int64, chain [][]byte, signer crypto.Signer) ([]byte, error) {
	if len(chain) == 0 {
		return nil, errors.New("no certificate")
	}
	b := []byte{1}
	b = binary.AppendUvarint(b, uint64(len(name)))
	b = append(b, name...)
	b = append(b, pub...)
	b = binary.AppendVarint(b, issued)
	b = binary.AppendUvarint(b, uint64(len(chain)))
	for _, c := range chain {
		b = binary.AppendUvarint(b, uint64(len(c)))
		b = append(b, c...)
	}
	msg := signedBytes(cluster, []byte(credentialDomain), b)
	var sig []byte
	var err error
	if _, ok := signer.Public().(ed25519.PublicKey); ok {
		sig, err = signer.Sign(rand.Reader, msg, crypto.Hash(0))
	} else {
		d := sha256.Sum256(msg)
		sig, err = signer.Sign(rand.Reader, d[:], crypto.SHA256)
	}
	if err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(sig)))
	return append(b, sig...), nil
}

// credential is a decoded credential whose signature is not checked yet.
type credential struct {
	name   string
	pub    ed25519.PublicKey
	issued int64
	chain  [][]byte
	signed []byte // the bytes the signature covers (after the cluster name)
	sig    []byte
}

var errShortCredential = errors.New("credential: truncated")

func decodeCredential(b []byte) (credential, error) {
	var c credential
	if len(b) > maxCredential {
		return c, fmt.Errorf("credential: %d bytes", len(b))
	}
	if len(b) < 1 || b[0] != 1 {
		return c, errors.New("credential: unknown version")
	}
	all := b
	b = b[1:]
	n, b, err := readUvarint(b)
	if err != nil || n > 1024 || uint64(len(b)) < n {
		return c, errShortCredential
	}
	c.name, b = string(b[:n]), b[n:]
	if len(b) < ed25519.PublicKeySize {
		return c, errShortCredential
	}
	c.pub, b = ed25519.PublicKey(bytes.Clone(b[:ed25519.PublicKeySize])), b[ed25519.PublicKeySize:]
	if c.issued, b, err = readVarint(b); err != nil {
		return c, errShortCredential
	}
	if n, b, err = readUvarint(b); err != nil || n == 0 || n > 8 {
		return c, errors.New("credential: bad certificate count")
	}
	for range n {
		var l uint64
		if l, b, err = readUvarint(b); err != nil || uint64(len(b)) < l {
			return c, errShortCredential
		}
		c.chain, b = append(c.chain, b[:l]), b[l:]
	}
	c.signed = all[:len(all)-len(b)]
	if n, b, err = readUvarint(b); err != nil || uint64(len(b)) != n || n == 0 {
		return c, errShortCredential
	}
	c.sig = b
	return c, nil
}

// addCredential verifies a credential and keeps it. It reports the
// credential's key ID, and the reason when it is refused.
func (id *identity) addCredential(raw []byte) (keyID, string, error) {
	c, err := decodeCredential(raw)
	if err != nil {
		return keyID{}, refuseMalformed, err
	}
	kid := keyIDOf(c.pub)
	id.mu.Lock()
	if pc, ok := id.creds[kid]; ok && pc.name == c.name {
		pc.lastUsed = id.now()
		id.mu.Unlock()
		return kid, "", nil
	}
	id.mu.Unlock()
	pc, reason, err := id.verifyCredential(c)
	id.mu.Lock()
	defer id.mu.Unlock()
	if err != nil {
		if len(id.refused) >= maxCredKeys {
			clear(id.refused)
		}
		id.refused[kid] = reason
		return kid, reason, err
	}
	delete(id.refused, kid)
	if len(id.creds) >= maxCredKeys {
		id.pruneLocked()
	}
	id.creds[kid] = pc
	return kid, "", nil
}

func (id *identity) verifyCredential(c credential) (*peerCred, string, error) {
	certs := make([]*x509.Certificate, 0, len(c.chain))
	for _, der := range c.chain {
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, refuseMalformed, fmt.Errorf("credential of %q: %w", c.name, err)
		}
		certs = append(certs, cert)
	}
	leaf := certs[0]
	inter := x509.NewCertPool()
	for _, cert := range certs[1:] {
		inter.AddCert(cert)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: id.roots, Intermediates: inter, CurrentTime: id.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		return nil, refuseUntrusted, fmt.Errorf("credential of %q: certificate: %w", c.name, err)
	}
	msg := signedBytes(id.cluster, []byte(credentialDomain), c.signed)
	if err := checkCertSignature(leaf, msg, c.sig); err != nil {
		return nil, refuseBadSignature, fmt.Errorf("credential of %q: %w", c.name, err)
	}
	if !id.shared && !certNames(leaf, c.name) {
		return nil, refuseIdentity, fmt.Errorf("credential of %q: its certificate (CN %q, DNS %v) does not name the node",
			c.name, leaf.Subject.CommonName, leaf.DNSNames)
	}
	now := id.now()
	return &peerCred{name: c.name, pub: c.pub, issued: c.issued, leaf: leaf, inter: inter, lastUsed: now, checked: now}, "", nil
}

// certNames reports whether a certificate speaks for the node name: its
// subject CN is the name, or one of its DNS names matches it (wildcards as
// in TLS). An IP address in a certificate is not enough: nodes on one
// host share it.
func certNames(c *x509.Certificate, name string) bool {
	if name == "" {
		return false
	}
	if c.Subject.CommonName == name {
		return true
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return false
	}
	return len(c.DNSNames) > 0 && c.VerifyHostname(name) == nil
}

func checkCertSignature(c *x509.Certificate, msg, sig []byte) error {
	switch c.PublicKeyAlgorithm {
	case x509.Ed25519:
		return c.CheckSignature(x509.PureEd25519, msg, sig)
	case x509.ECDSA:
		return c.CheckSignature(x509.ECDSAWithSHA256, msg, sig)
	case x509.RSA:
		return c.CheckSignature(x509.SHA256WithRSA, msg, sig)
	}
	return fmt.Errorf("unsupported key type %v", c.PublicKeyAlgorithm)
}

// pruneLocked forgets credentials unused for credIdle, then, if still
// full, arbitrary others until half the room is free. Its own stays.
func (id *identity) pruneLocked() {
	now := id.now()
	for k, pc := range id.creds {
		if now.Sub(pc.lastUsed) > credIdle && k != id.id {
			delete(id.creds, k)
		}
	}
	for k := range id.creds {
		if len(id.creds) < maxCredKeys/2 {
			break
		}
		if k != id.id {
			delete(id.creds, k)
		}
	}
}

// sign appends the key ID and signature to a record's encoding, whose
// version byte it marks as signed.
func (id *identity) sign(name string, addr netip.AddrPort, rec []byte) []byte {
	out := make([]byte, 0, len(rec)+sigTrailer)
	out = append(out, rec...)
	out[0] |= signedFlag
	out = append(out, id.id[:]...)
	msg := signedBytes(id.cluster, []byte(recordDomain), []byte(name), []byte{0}, []byte(addr.String()), []byte{0}, out)
	return append(out, ed25519.Sign(id.priv, msg)...)
}

// verify checks the signature of a signed record gossiped for name at
// addr. It reports the reason of a refusal, "" when the record may be
// adopted.
func (id *identity) verify(name string, addr netip.AddrPort, meta []byte) string {
	if len(meta) == 0 || meta[0]&signedFlag == 0 || len(meta) < 2+sigTrailer {
		return refuseUnsigned
	}
	body := meta[:len(meta)-ed25519.SignatureSize]
	sig := meta[len(meta)-ed25519.SignatureSize:]
	var kid keyID
	copy(kid[:], body[len(body)-keyIDSize:])
	now := id.now()
	id.mu.Lock()
	pc, ok := id.creds[kid]
	reason := id.refused[kid]
	recheck := false
	if ok {
		pc.lastUsed = now
		recheck = now.Sub(pc.checked) > chainRecheck || now.Before(pc.checked)
	}
	id.mu.Unlock()
	switch {
	case !ok && reason != "":
		return reason
	case !ok:
		return refuseUnknownKey
	case pc.name != name:
		// Another node's key: a member speaking for someone else.
		return refuseIdentity
	}
	if recheck {
		if _, err := pc.leaf.Verify(x509.VerifyOptions{
			Roots: id.roots, Intermediates: pc.inter, CurrentTime: now,
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		}); err != nil {
			return refuseUntrusted // expired since it was verified
		}
		id.mu.Lock()
		pc.checked = now
		id.mu.Unlock()
	}
	msg := signedBytes(id.cluster, []byte(recordDomain), []byte(name), []byte{0}, []byte(addr.String()), []byte{0}, body)
	if !ed25519.Verify(pc.pub, msg, sig) {
		return refuseBadSignature
	}
	return ""
}

// canSign reports whether this node signs its records.
func (id *identity) canSign() bool { return id != nil && id.priv != nil }

// loadGossipKeys reads --cluster.gossip-key-file: one base64 key of 16,
// 24 or 32 bytes per line; blank lines and lines starting with # are
// skipped. The first key is the primary one.
func loadGossipKeys(path string) ([][]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--cluster.gossip-key-file: %w", err)
	}
	var keys [][]byte
	for i, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			return nil, fmt.Errorf("--cluster.gossip-key-file %s:%d: not base64: %w", path, i+1, err)
		}
		switch len(k) {
		case 16, 24, 32:
		default:
			return nil, fmt.Errorf("--cluster.gossip-key-file %s:%d: a key must be 16, 24 or 32 bytes, got %d", path, i+1, len(k))
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("--cluster.gossip-key-file %s: no key", path)
	}
	return keys, nil
}

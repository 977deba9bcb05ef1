package cluster

import (
	"flag"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRecordRoundTrip(t *testing.T) {
	r := record{
		State: Terminating, Since: 1_780_000_000_123, Joined: 1_779_999_000_000, Watermark: 1_780_000_000_000,
		Fingerprint: "sha256:0123456789abcdef", ExternalLabels: 42,
		Targets:      []targetDigest{{ID: 1, Digest: 99, Count: 100_000}, {ID: 7, Digest: 1 << 63, Count: 0}},
		HandoffDelay: 3000,
	}
	b, dropped := r.encode(nil, maxMetaSize)
	if dropped != 0 {
		t.Fatalf("dropped %d digests of 2", dropped)
	}
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Errorf("decoded %+v, want %+v", got, r)
	}
}

func TestRecordFitsMetaLimitByDroppingDigests(t *testing.T) {
	r := record{State: Participant, Since: 1, Fingerprint: strings.Repeat("f", 100)}
	for i := range 100 {
		r.Targets = append(r.Targets, targetDigest{ID: uint32(i), Digest: ^uint64(0), Count: ^uint64(0)})
	}
	b, dropped := r.encode(nil, maxMetaSize)
	if len(b) > maxMetaSize {
		t.Fatalf("record of %d bytes exceeds memberlist's %d", len(b), maxMetaSize)
	}
	if dropped == 0 {
		t.Error("100 digests fit; the test needs more")
	}
	got, err := decodeRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Targets)+dropped != 100 || len(got.Fingerprint) != maxFingerprint {
		t.Errorf("kept %d digests (dropped %d) and a %d-byte fingerprint", len(got.Targets), dropped, len(got.Fingerprint))
	}
}

func TestRecordDecoderIgnoresFieldsAddedLater(t *testing.T) {
	r := record{State: Participant, Since: 5}
	b, _ := r.encode(nil, maxMetaSize)
	b[0] = 2
	b = append(b, 1, 2, 3)
	got, err := decodeRecord(b)
	if err != nil || got.State != Participant || got.Since != 5 {
		t.Errorf("a version 2 record with trailing fields decoded as %+v, %v", got, err)
	}
}

func TestRecordOfAnOlderVersionHasNoHandoffDelay(t *testing.T) {
	r := record{State: Participant, Since: 5, Targets: []targetDigest{{ID: 1, Digest: 2, Count: 3}}, HandoffDelay: 2000}
	b, _ := r.encode(nil, maxMetaSize)
	older := b[:len(b)-2] // 2000 takes two bytes as a uvarint
	got, err := decodeRecord(older)
	if err != nil || got.HandoffDelay != 0 || len(got.Targets) != 1 {
		t.Errorf("a record without the handoff delay decoded as %+v, %v; want an unknown (0) delay", got, err)
	}
}

func TestEmptyMetaIsAViewer(t *testing.T) {
	r, err := decodeRecord(nil)
	if err != nil || r.State != Viewer {
		t.Errorf("empty meta decoded as %+v, %v", r, err)
	}
}

func TestTargetDigestIgnoresOrder(t *testing.T) {
	if digestKeys([]uint64{1, 2, 3}) != digestKeys([]uint64{3, 1, 2}) {
		t.Error("digest depends on order")
	}
	if digestKeys([]uint64{1, 2, 3}) == digestKeys([]uint64{1, 2, 4}) {
		t.Error("digest misses a changed key")
	}
}

func TestRegisterFlagsUsesAlloysNamesAndDefaults(t *testing.T) {
	cfg := DefaultConfig()
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	cfg.RegisterFlags(fs)
	want := map[string]string{
		"cluster.enabled": "false", "cluster.rejoin-interval": "1m0s", "cluster.max-join-peers": "5",
		"cluster.name": "", "cluster.wait-for-size": "0", "cluster.wait-timeout": "0s",
		"cluster.advertise-interfaces": "eth0,en0", "cluster.join-addresses": "",
		"cluster.enable-tls": "false", "cluster.tls-ca-path": "", "cluster.tls-cert-path": "",
		"cluster.tls-key-path": "", "cluster.tls-server-name": "", "cluster.advertise-address": "",
		"cluster.handoff-delay": "3s", "cluster.bootstrap-timeout": "10s", "cluster.hold-timeout": "1m0s",
		"cluster.probe-interval": DefaultProbeInterval.String(), "cluster.probe-timeout": DefaultProbeTimeout.String(),
		"cluster.suspicion-mult": "2",
	}
	for name, def := range want {
		f := fs.Lookup(name)
		if f == nil {
			t.Errorf("flag --%s missing", name)
			continue
		}
		if f.DefValue != def {
			t.Errorf("--%s defaults to %q, want %q", name, f.DefValue, def)
		}
	}
	if f := fs.Lookup("cluster.node-name"); f == nil || f.DefValue == "" {
		t.Error("--cluster.node-name does not default to the hostname")
	}
	if err := fs.Parse([]string{"--cluster.join-addresses=a:1, b:2", "--cluster.handoff-delay=5s"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.JoinAddresses, []string{"a:1", "b:2"}) || cfg.HandoffDelay != 5*time.Second {
		t.Errorf("parsed join addresses %q and Δ %s", cfg.JoinAddresses, cfg.HandoffDelay)
	}
}

func TestValidateNamesTheBadFlag(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Enabled = true
	cfg.JoinAddresses = []string{"bad host!"}
	cfg.ProbeTimeout = 2 * cfg.ProbeInterval
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "bad host!") || !strings.Contains(err.Error(), "--cluster.probe-timeout") {
		t.Errorf("Validate() = %v, want errors naming the join address and --cluster.probe-timeout", err)
	}
}

func TestDeclaredDeadIsRecognisedInMemberlistsLog(t *testing.T) {
	for line, want := range map[string]bool{
		"[WARN] memberlist: Refuting a dead message (from: b)":    true,
		"[WARN] memberlist: Refuting a suspect message (from: a)": true, // a merge listed us dead
		"[WARN] memberlist: Refuting a suspect message (from: b)": false,
		"[INFO] memberlist: Marking b as failed":                  false,
	} {
		if got := declaredDead(line, "a"); got != want {
			t.Errorf("declaredDead(%q) = %v, want %v", line, got, want)
		}
	}
}

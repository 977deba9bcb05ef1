package component

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
)

// DiscoveryShare is implemented by a Cluster that can share discovery
// results across the fleet (--cluster.share-discovery, shoal's own): for
// each discovery component one node, chosen by rendezvous hashing of the
// component's ID over the eligible nodes, runs the discoverer and serves
// the list; the others fetch it over the cluster's HTTP transport. A
// discovery component finds it by a type assertion on Options.Cluster.
type DiscoveryShare interface {
	// SharesDiscovery reports whether sharing is on for this node.
	SharesDiscovery() bool
	// DiscoveryServer names the node that should run the discoverer of
	// component id now, as this node sees the fleet; self is true when
	// that is this node. It is "" (and self false) when no node is
	// eligible yet, such as before the node joined: run it yourself.
	DiscoveryServer(id string) (node string, self bool)
	// PublishDiscovery makes this node serve l as id's list to its peers;
	// a nil l withdraws it.
	PublishDiscovery(id string, l *SharedList)
	// FetchDiscovery asks node for id's list. While the node's list is
	// the one known as (after, digest) it waits, up to a bounded long
	// poll, and then returns nil, nil: nothing changed. It returns
	// ErrShareConfigDiffers when the node's list was made from a config
	// whose hash is not hash, ErrShareUnavailable when the node has no
	// list for id (or does not share), and another error when the node
	// could not be reached.
	FetchDiscovery(ctx context.Context, node, id, hash string, after uint64, digest string) (*SharedList, error)
}

// SharedList is one version of a discovery component's list, as served to
// peers.
type SharedList struct {
	// Version grows by one with each change of the list at its server,
	// and carries on from the last version a new server had seen.
	Version uint64 `json:"version"`
	// Digest identifies Payload (a hash of it).
	Digest string `json:"digest"`
	// Hash identifies the discoverer's config: a list made from another
	// config is never used.
	Hash string `json:"hash"`
	// Source names the node whose discoverer made the list.
	Source string `json:"source"`
	// Payload is the list, encoded by the discovery component.
	Payload []byte `json:"payload"`
}

// The errors of DiscoveryShare.FetchDiscovery that are not about reaching
// the node.
var (
	ErrShareConfigDiffers = errors.New("the peer's discovery config differs from this node's")
	ErrShareUnavailable   = errors.New("the peer serves no list for this component")
)

// ShareDigest is the digest of a shared list's payload: the first 12
// bytes of its SHA-256, base64url.
func ShareDigest(payload []byte) string {
	s := sha256.Sum256(payload)
	return base64.RawURLEncoding.EncodeToString(s[:12])
}

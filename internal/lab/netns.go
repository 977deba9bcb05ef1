package lab

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// Network is a small private network of Linux network namespaces that lab
// creates and removes itself: a "world" namespace that holds the targets
// and the receiver (at WorldIP) and routes between hosts, and one namespace
// per Host, linked to the world by a veth pair. Every address lives inside
// these namespaces, so no packet leaves them. Partition cuts the routes
// between groups of hosts while each keeps reaching the world, as when a
// switch between racks fails but the targets stay reachable.
//
// Layout: host k has 10.231.k.2/24 on its veth, the world side has
// 10.231.k.1/24, and the world's own address is 10.232.0.1 on its
// loopback. Creating namespaces needs root.
type Network struct {
	prefix string
	world  string

	mu     sync.Mutex
	hosts  map[string]*Host
	next   int
	rules  [][]string // the `ip rule` arguments that cut the current partition
	closed bool
}

// Host is one namespace of a Network.
type Host struct {
	Name string // the node name it was made for
	NS   string // the namespace's name
	IP   string // its address, reachable from the world and other hosts
	idx  int
	veth string // the world side of its veth pair
}

// WorldIP is the address of the world namespace, where targets and
// receivers listen (WithListener, ReceiverListener).
const WorldIP = "10.232.0.1"

// NetworkAvailable says why namespaces cannot be made here, or nil when
// they can: it needs root and the ip command.
func NetworkAvailable() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("network namespaces need the ip command (iproute2)")
	}
	return nil
}

// NewNetwork creates the world namespace. Names are prefixed with the
// process id, so concurrent test processes do not collide.
func NewNetwork() (*Network, error) {
	if err := NetworkAvailable(); err != nil {
		return nil, err
	}
	removeOrphans()
	n := &Network{prefix: "shoal-lab-" + strconv.Itoa(os.Getpid()), hosts: map[string]*Host{}}
	n.world = n.prefix + "-w"
	steps := [][]string{
		{"netns", "add", n.world},
		{"-n", n.world, "link", "set", "lo", "up"},
		{"-n", n.world, "addr", "add", WorldIP + "/32", "dev", "lo"},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			_ = ipCmd("netns", "del", n.world)
			return nil, err
		}
	}
	if err := run("ip", "netns", "exec", n.world, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"); err != nil {
		_ = ipCmd("netns", "del", n.world)
		return nil, err
	}
	return n, nil
}

// removeOrphans deletes the namespaces of lab processes that died without
// closing their network (a test binary killed at its timeout, say). They
// are recognised by the pid in their name.
func removeOrphans() {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		rest, ok := strings.CutPrefix(name, "shoal-lab-")
		if !ok {
			continue
		}
		pidText, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if _, err := os.Stat("/proc/" + pidText); err == nil {
			continue // its process still runs
		}
		_ = ipCmd("netns", "del", name)
	}
}

// AddHost creates the namespace of a host and links it to the world.
func (n *Network) AddHost(name string) (*Host, error) {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil, errors.New("lab: network closed")
	}
	if _, dup := n.hosts[name]; dup {
		n.mu.Unlock()
		return nil, fmt.Errorf("lab: host %s exists", name)
	}
	n.next++
	idx := n.next
	n.mu.Unlock()
	if idx > 250 {
		return nil, errors.New("lab: too many hosts")
	}
	h := &Host{Name: name, NS: fmt.Sprintf("%s-%d", n.prefix, idx), IP: fmt.Sprintf("10.231.%d.2", idx), idx: idx, veth: fmt.Sprintf("lab%dw", idx)}
	inner := fmt.Sprintf("lab%dh", idx)
	gw := fmt.Sprintf("10.231.%d.1", idx)
	steps := [][]string{
		{"netns", "add", h.NS},
		{"-n", h.NS, "link", "set", "lo", "up"},
		// Both ends are created inside namespaces we own, so the root
		// namespace never holds one of our addresses.
		{"-n", h.NS, "link", "add", inner, "type", "veth", "peer", "name", h.veth, "netns", n.world},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", inner},
		{"-n", h.NS, "link", "set", inner, "up"},
		{"-n", n.world, "addr", "add", gw + "/24", "dev", h.veth},
		{"-n", n.world, "link", "set", h.veth, "up"},
		{"-n", h.NS, "route", "add", "default", "via", gw},
	}
	for _, s := range steps {
		if err := ipCmd(s...); err != nil {
			_ = ipCmd("netns", "del", h.NS)
			return nil, err
		}
	}
	n.mu.Lock()
	n.hosts[name] = h
	n.mu.Unlock()
	return h, nil
}

// RemoveHost deletes a host's namespace (and with it its veth pair).
func (n *Network) RemoveHost(name string) error {
	n.mu.Lock()
	h := n.hosts[name]
	delete(n.hosts, name)
	n.mu.Unlock()
	if h == nil {
		return nil
	}
	return ipCmd("netns", "del", h.NS)
}

// Command returns a command that runs inside host's namespace.
func (n *Network) Command(host, name string, args ...string) *exec.Cmd {
	n.mu.Lock()
	h := n.hosts[host]
	n.mu.Unlock()
	ns := n.world
	if h != nil {
		ns = h.NS
	}
	return exec.Command("ip", append([]string{"netns", "exec", ns, name}, args...)...)
}

// Listen opens a listener inside the world namespace; use it with
// WithListener(WorldIP, n.Listen) and ReceiverListener.
func (n *Network) Listen(network, addr string) (net.Listener, error) {
	var ln net.Listener
	err := n.inWorld(func() error {
		var err error
		ln, err = net.Listen(network, addr)
		return err
	})
	return ln, err
}

// DialContext connects from inside the world namespace, so that a test's
// HTTP client reaches hosts (see Fleet.Client).
func (n *Network) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	var c net.Conn
	err := n.inWorld(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, network, addr)
		return err
	})
	return c, err
}

func (n *Network) inWorld(f func() error) error { return inNS(n.world, f) }

// inNS runs f on an OS thread switched into the named namespace. A socket
// keeps the namespace it was made in, so listeners and connections made by
// f stay there after the thread switches back.
func inNS(ns string, f func() error) error {
	runtime.LockOSThread()
	self, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: own namespace: %w", err)
	}
	defer self.Close()
	target, err := os.Open("/run/netns/" + ns)
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: namespace %s: %w", ns, err)
	}
	defer target.Close()
	if err := setns(target.Fd()); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("lab: enter namespace %s: %w", ns, err)
	}
	ferr := f()
	if err := setns(self.Fd()); err != nil {
		// The thread is stuck in ns: leave it locked so that the runtime
		// ends it with this goroutine instead of reusing it.
		return fmt.Errorf("lab: leave namespace %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(fd uintptr) error { return unix.Setns(int(fd), unix.CLONE_NEWNET) }

// Partition cuts every route between a host of side a and a host of side b
// (node names), in both directions; packets are dropped silently, as in a
// real partition. Both sides keep reaching the world. A previous partition
// is healed first.
func (n *Network) Partition(a, b []string) error {
	if err := n.Heal(); err != nil {
		return err
	}
	n.mu.Lock()
	var rules [][]string
	for _, x := range a {
		for _, y := range b {
			hx, hy := n.hosts[x], n.hosts[y]
			if hx == nil || hy == nil {
				n.mu.Unlock()
				return fmt.Errorf("lab: partition: unknown host %q or %q", x, y)
			}
			rules = append(rules,
				[]string{"pref", "100", "iif", hx.veth, "to", fmt.Sprintf("10.231.%d.0/24", hy.idx), "blackhole"},
				[]string{"pref", "100", "iif", hy.veth, "to", fmt.Sprintf("10.231.%d.0/24", hx.idx), "blackhole"},
			)
		}
	}
	n.mu.Unlock()
	for i, r := range rules {
		if err := ipCmd(append([]string{"-n", n.world, "rule", "add"}, r...)...); err != nil {
			for _, done := range rules[:i] {
				_ = ipCmd(append([]string{"-n", n.world, "rule", "del"}, done...)...)
			}
			return err
		}
	}
	n.mu.Lock()
	n.rules = rules
	n.mu.Unlock()
	return nil
}

// Heal removes the current partition.
func (n *Network) Heal() error {
	n.mu.Lock()
	rules := n.rules
	n.rules = nil
	n.mu.Unlock()
	var first error
	for _, r := range rules {
		if err := ipCmd(append([]string{"-n", n.world, "rule", "del"}, r...)...); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Close deletes every namespace of the network.
func (n *Network) Close() error {
	n.mu.Lock()
	n.closed = true
	hosts := make([]*Host, 0, len(n.hosts))
	for _, h := range n.hosts {
		hosts = append(hosts, h)
	}
	n.hosts = map[string]*Host{}
	n.mu.Unlock()
	var first error
	for _, h := range hosts {
		if err := ipCmd("netns", "del", h.NS); err != nil && first == nil {
			first = err
		}
	}
	if err := ipCmd("netns", "del", n.world); err != nil && first == nil {
		first = err
	}
	return first
}

func ipCmd(args ...string) error { return run("ip", args...) }

func run(name string, args ...string) error {
	var out bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("lab: %s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

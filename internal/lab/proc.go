package lab

import (
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// socketIndex finds which process owns the client end of a TCP connection,
// so that a target can tell which node scraped it even though every node
// sends the same User-Agent. The connection's socket is looked up by its
// exact addresses through netlink (sock_diag), which is precise however
// many sockets the machine holds, and the socket's inode is matched with
// the processes' open files, cached and reread on a miss.
type socketIndex struct {
	mu      sync.Mutex
	ownerOf map[uint64]int // socket inode → pid
}

// owner returns the pid among pids whose socket is the client end of the
// connection from client to server, or 0.
func (s *socketIndex) owner(client, server string, pids map[int]string) int {
	if len(pids) == 0 {
		return 0
	}
	ino, err := socketInode(client, server)
	if err != nil || ino == 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for fresh := false; ; fresh = true {
		if pid, ok := s.ownerOf[ino]; ok {
			if _, live := pids[pid]; live {
				return pid
			}
		}
		if fresh {
			return 0
		}
		s.ownerOf = readSocketOwners(pids)
	}
}

// socketInode asks the kernel (NETLINK_SOCK_DIAG) for the inode of the
// IPv4 TCP socket whose local address is local and whose peer is remote.
func socketInode(local, remote string) (uint64, error) {
	l, err := net.ResolveTCPAddr("tcp", local)
	if err != nil {
		return 0, err
	}
	r, err := net.ResolveTCPAddr("tcp", remote)
	if err != nil {
		return 0, err
	}
	l4, r4 := l.IP.To4(), r.IP.To4()
	if l4 == nil || r4 == nil {
		return 0, fmt.Errorf("lab: %s or %s is not IPv4", local, remote)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return 0, fmt.Errorf("lab: sock_diag: %w", err)
	}
	defer unix.Close(fd)

	// nlmsghdr (16 bytes) + inet_diag_req_v2 (56 bytes).
	const reqLen = 16 + 56
	req := make([]byte, reqLen)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], reqLen)
	ne.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(req[6:], unix.NLM_F_REQUEST)
	ne.PutUint32(req[8:], 1) // sequence
	b := req[16:]
	b[0] = unix.AF_INET
	b[1] = unix.IPPROTO_TCP
	ne.PutUint32(b[4:], 0xffffffff) // every state
	id := b[8:]                     // inet_diag_sockid
	binary.BigEndian.PutUint16(id[0:], uint16(l.Port))
	binary.BigEndian.PutUint16(id[2:], uint16(r.Port))
	copy(id[4:8], l4)
	copy(id[20:24], r4)
	ne.PutUint32(id[40:], 0xffffffff) // INET_DIAG_NOCOOKIE
	ne.PutUint32(id[44:], 0xffffffff)
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("lab: sock_diag: %w", err)
	}
	buf := make([]byte, 8192)
	n, _, err := unix.Recvfrom(fd, buf, 0)
	if err != nil {
		return 0, fmt.Errorf("lab: sock_diag: %w", err)
	}
	buf = buf[:n]
	if len(buf) < 16 {
		return 0, fmt.Errorf("lab: sock_diag: short answer")
	}
	switch typ := ne.Uint16(buf[4:]); typ {
	case unix.NLMSG_ERROR:
		if len(buf) >= 20 {
			if errno := int32(ne.Uint32(buf[16:])); errno != 0 {
				return 0, fmt.Errorf("lab: sock_diag %s→%s: %w", local, remote, unix.Errno(-errno))
			}
		}
		return 0, nil
	case unix.SOCK_DIAG_BY_FAMILY:
		// inet_diag_msg: the inode is its last field, at offset 68.
		if len(buf) < 16+72 {
			return 0, fmt.Errorf("lab: sock_diag: short message")
		}
		return uint64(ne.Uint32(buf[16+68:])), nil
	default:
		return 0, fmt.Errorf("lab: sock_diag: unexpected message type %d", typ)
	}
}

// readSocketOwners maps the socket inodes of each pid's open files to it.
func readSocketOwners(pids map[int]string) map[uint64]int {
	out := map[uint64]int{}
	for pid := range pids {
		dir := fmt.Sprintf("/proc/%d/fd", pid)
		ents, err := os.ReadDir(dir)
		if err != nil {
			continue
		}
		for _, e := range ents {
			link, err := os.Readlink(filepath.Join(dir, e.Name()))
			if err != nil || !strings.HasPrefix(link, "socket:[") {
				continue
			}
			ino, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]"), 10, 64)
			if err == nil {
				out[ino] = pid
			}
		}
	}
	return out
}

// Usage is what a process has consumed so far.
type Usage struct {
	CPU     time.Duration // user + system time
	PeakRSS int64         // bytes (VmHWM)
	RSS     int64         // bytes now (VmRSS)
}

// ProcessUsage reads a running process's CPU time and memory from /proc.
func ProcessUsage(pid int) (Usage, error) {
	var u Usage
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return u, fmt.Errorf("lab: usage of %d: %w", pid, err)
	}
	// The command name may hold spaces; the fields we want follow its ')'.
	rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return u, fmt.Errorf("lab: usage of %d: short stat", pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const clockTicks = 100 // USER_HZ on Linux
	u.CPU = time.Duration(utime+stime) * time.Second / clockTicks
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return u, fmt.Errorf("lab: usage of %d: %w", pid, err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		name, val, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmHWM":
			u.PeakRSS = kb << 10
		case "VmRSS":
			u.RSS = kb << 10
		}
	}
	return u, nil
}

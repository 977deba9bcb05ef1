package lab

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// socketIndex finds which process owns the client end of a TCP connection,
// so that a target can tell which node scraped it even though every node
// sends the same User-Agent. It caches /proc's tables and rereads them only
// on a miss.
type socketIndex struct {
	mu      sync.Mutex
	inodeOf map[string]uint64 // local "ip:port" → socket inode
	ownerOf map[uint64]int    // socket inode → pid
}

// owner returns the pid among pids whose socket has local address addr, or
// 0.
func (s *socketIndex) owner(addr string, pids map[int]string) int {
	key, err := procAddr(addr)
	if err != nil || len(pids) == 0 {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ino, ok := s.inodeOf[key]
	if !ok {
		s.inodeOf = readTCPTables(pids)
		if ino, ok = s.inodeOf[key]; !ok {
			return 0
		}
	}
	if pid, ok := s.ownerOf[ino]; ok {
		if _, live := pids[pid]; live {
			return pid
		}
	}
	s.ownerOf = readSocketOwners(pids)
	return s.ownerOf[ino]
}

// procAddr writes ip:port the way /proc/net/tcp does: the IPv4 address as
// a little-endian 32-bit hex number, then the port in hex.
func procAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	ip := net.ParseIP(host).To4()
	if ip == nil {
		return "", fmt.Errorf("lab: %s is not IPv4", addr)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], p), nil
}

// readTCPTables reads /proc/PID/net/tcp once per network namespace among
// pids.
func readTCPTables(pids map[int]string) map[string]uint64 {
	out := map[string]uint64{}
	seen := map[string]bool{}
	for pid := range pids {
		ns, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", pid))
		if seen[ns] {
			continue
		}
		seen[ns] = true
		f, err := os.Open(fmt.Sprintf("/proc/%d/net/tcp", pid))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			ino, err := strconv.ParseUint(fields[9], 10, 64)
			if err != nil || ino == 0 {
				continue
			}
			out[fields[1]] = ino
		}
		f.Close()
	}
	return out
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

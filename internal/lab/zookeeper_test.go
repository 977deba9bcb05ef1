package lab

import "testing"

func TestZooKeeperStarts(t *testing.T) {
	z := StartZooKeeper(t)
	if !z.ruok() {
		t.Fatal("not ok after start")
	}
}

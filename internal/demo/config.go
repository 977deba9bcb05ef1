package demo

import (
	"fmt"
	"strconv"
	"time"
)

// Config is the configuration every node of the demo loads: the targets
// from a file_sd file, scraped by a clustered prometheus.scrape, and
// shipped by remote write to the receiver. It is written for a newcomer to
// read.
func Config(fileSD string, interval time.Duration, receiverURL string) string {
	return fmt.Sprintf(`// Written by shoal demo. Every node of the demo loads this same file.

// The targets: a file_sd file that lists the demo's synthetic targets.
discovery.file "targets" {
	files = [%s]
}

// Scrape them. With clustering enabled, the nodes split the targets among
// themselves: each target is scraped by exactly one node at each tick.
prometheus.scrape "demo" {
	targets         = discovery.file.targets.targets
	forward_to      = [prometheus.remote_write.receiver.receiver]
	scrape_interval = %s
	scrape_timeout  = %s

	clustering {
		enabled = true
	}
}

// Ship the samples to the demo's receiver, which counts what arrives.
prometheus.remote_write "receiver" {
	endpoint {
		url = %s
	}
}
`, strconv.Quote(fileSD), strconv.Quote(interval.String()), strconv.Quote((interval / 2).String()), strconv.Quote(receiverURL))
}

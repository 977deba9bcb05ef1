package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/shoal-dev/shoal/internal/lab"
)

// Options configure a demo. Zero fields take the defaults noted.
type Options struct {
	Nodes    int           // nodes started, 3
	Targets  int           // synthetic targets, 300
	Series   int           // series per target, 10
	Interval time.Duration // scrape interval, 2s
	// Keep keeps the demo's folder (configs, data and logs of every node,
	// the targets file) instead of removing it at exit.
	Keep bool
	// Binary is the shoal binary the nodes run; empty means
	// lab.ShoalBinary ($SHOAL_BIN, or go build ./cmd/shoal).
	Binary string
	// Dir is where the demo's folder is created; empty means os.TempDir().
	Dir string
	// Every is how often a summary is printed, 5s.
	Every time.Duration
	// Window is the sliding window of the summary's figures, 10 intervals.
	Window time.Duration
	// Input is read for commands, one per line; nil means standard input.
	// Run closes it when it returns, which ends its reader.
	Input io.ReadCloser
	// Output receives everything the demo prints; nil means os.Stdout.
	Output io.Writer
	// OnSummary, when set, is called with every summary as it is printed.
	OnSummary func(Summary)
}

func (o *Options) defaults() {
	if o.Nodes == 0 {
		o.Nodes = 3
	}
	if o.Targets == 0 {
		o.Targets = 300
	}
	if o.Series == 0 {
		o.Series = 10
	}
	if o.Interval == 0 {
		o.Interval = 2 * time.Second
	}
	if o.Every == 0 {
		o.Every = 5 * time.Second
	}
	if o.Window == 0 {
		o.Window = 10 * o.Interval
	}
	if o.Output == nil {
		o.Output = os.Stdout
	}
}

func (o *Options) validate() error {
	switch {
	case o.Nodes < 1 || o.Nodes > 50:
		return fmt.Errorf("--nodes must be between 1 and 50, got %d", o.Nodes)
	case o.Targets < 1 || o.Targets > 20000:
		return fmt.Errorf("--targets must be between 1 and 20000, got %d", o.Targets)
	case o.Series < 1 || o.Series > 10000:
		return fmt.Errorf("--series must be between 1 and 10000, got %d", o.Series)
	case o.Interval < 100*time.Millisecond:
		return fmt.Errorf("--interval must be at least 100ms, got %s", o.Interval)
	case o.Every <= 0 || o.Window < 2*o.Interval:
		return errors.New("the summary period must be positive and the window at least two intervals")
	}
	return nil
}

// demo is one running demo.
type demo struct {
	o       Options
	out     *lineWriter
	dir     string
	targets *lab.Targets
	rx      *lab.Receiver
	fleet   *lab.Fleet
	client  *http.Client

	// lag is how far the figures' window trails now: a tick may start up
	// to half an interval late, and its scrape is logged a moment after.
	lag time.Duration

	mu        sync.Mutex
	converged time.Time         // when the fleet first converged
	downWhy   map[string]string // why a node is down: killed, stopped
	reported  map[string]bool   // nodes whose own exit was reported
	change    *change
	rate      rate
}

// change is the last fleet-changing command and what it expects.
type change struct {
	Change
	before map[string]string // target → node just before the command
	// wantGain says a node should end up with targets (add, restart);
	// gains names it once known.
	wantGain bool
	gains    string
	op       Op
}

// Run runs the demo until ctx ends or the user types q. It prints the
// nodes' UI addresses as soon as they answer, then a summary every
// Options.Every, and carries out the commands read from Options.Input.
// Everything it started is stopped, and its folder removed unless
// Options.Keep, before it returns.
func Run(ctx context.Context, o Options) (err error) {
	o.defaults()
	if err := o.validate(); err != nil {
		if o.Input != nil {
			o.Input.Close()
		}
		return err
	}
	d := &demo{o: o, out: &lineWriter{w: o.Output}, lag: o.Interval/2 + 500*time.Millisecond,
		downWhy: map[string]string{}, reported: map[string]bool{}}
	input := o.Input
	if input == nil {
		var err error
		if input, err = openStdin(); err != nil {
			d.out.printf("shoal demo: %v", err)
		}
	}
	defer input.Close()
	ctx, quit := context.WithCancel(ctx)
	defer quit()

	if err := d.start(ctx); err != nil {
		d.close()
		return err
	}
	defer d.close()

	// The reader and the worker belong to Run: it closes input and the
	// queue below, and waits for both.
	lines := make(chan string)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer close(lines)
		sc := bufio.NewScanner(input)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	queue := make(chan Command, 8)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for cmd := range queue {
			d.do(ctx, cmd)
		}
	}()
	defer func() {
		quit()
		close(queue)
		input.Close()
		wg.Wait()
	}()

	d.out.printf("%s", Help)
	tick := time.NewTicker(o.Every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			d.out.printf("shoal demo: stopping")
			return nil
		case <-tick.C:
			d.summary(ctx)
		case line, ok := <-lines:
			if !ok {
				lines = nil // input ended: keep running until Ctrl-C
				continue
			}
			cmd, err := ParseCommand(line)
			if err != nil {
				d.out.printf("%v", err)
				continue
			}
			switch cmd.Op {
			case OpQuit:
				d.out.printf("shoal demo: quitting")
				return nil
			case OpHelp:
				d.out.printf("%s", Help)
			case OpSummary:
				d.summary(ctx)
			default:
				select {
				case queue <- cmd:
				default:
					d.out.printf("%s: busy with earlier commands, try again in a moment", cmd)
				}
			}
		}
	}
}

// start creates the folder, the targets, the receiver and the fleet, and
// prints where everything is.
func (d *demo) start(ctx context.Context) error {
	o := d.o
	dir, err := os.MkdirTemp(o.Dir, "shoal-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.dir = dir
	if o.Binary == "" {
		if os.Getenv("SHOAL_BIN") == "" {
			d.out.printf("shoal demo: building shoal (go build ./cmd/shoal)")
		}
		if o.Binary, err = lab.ShoalBinary(ctx); err != nil {
			return err
		}
	}
	if d.targets, err = lab.StartTargets(o.Targets, o.Series, lab.WithDir(dir)); err != nil {
		return err
	}
	if d.rx, err = lab.StartReceiver(); err != nil {
		return err
	}
	cfg := Config(d.targets.FileSD(), o.Interval, d.rx.URL())
	cfgPath := filepath.Join(dir, "config.alloy")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	d.out.printf("shoal demo: %d targets of %d series each, scraped every %s; remote-write receiver at %s",
		o.Targets, o.Series, o.Interval, d.rx.URL())
	d.out.printf("shoal demo: every node loads %s", cfgPath)
	d.out.printf("shoal demo: starting %d nodes (%s): configs, data and logs under %s", o.Nodes, o.Binary, filepath.Join(dir, "nodes"))
	d.fleet, err = lab.StartFleet(ctx, lab.FleetConfig{
		Binary: o.Binary,
		Dir:    filepath.Join(dir, "nodes"),
		Config: func(string) string { return cfg },
	}, o.Nodes)
	if err != nil {
		return err
	}
	d.client = d.fleet.Client()
	d.targets.SetIdentify(d.fleet.Identify)
	for _, n := range d.fleet.Nodes() {
		d.out.printf("%s  UI %s  (log %s)", n.Name, n.URL("/"), n.LogPath)
	}
	d.out.printf("shoal demo: open a UI: its Clustering page lists the peers; the component prometheus.scrape.demo lists the targets that node scrapes")
	return nil
}

// close stops every process and server and removes the folder unless
// Keep.
func (d *demo) close() {
	if d.fleet != nil {
		d.fleet.Close()
	}
	if d.rx != nil {
		d.rx.Close()
	}
	if d.targets != nil {
		d.targets.Close()
	}
	if d.dir == "" {
		return
	}
	if d.o.Keep {
		d.out.printf("shoal demo: kept %s (config.alloy, targets.json, nodes/NAME/{config.alloy,data,shoal.log})", d.dir)
		return
	}
	if err := os.RemoveAll(d.dir); err != nil {
		d.out.printf("shoal demo: removing %s: %v", d.dir, err)
		return
	}
	d.out.printf("shoal demo: stopped every node and removed %s", d.dir)
}

// nodeByNumber finds node-N.
func (d *demo) nodeByNumber(n int) *lab.Node {
	return d.fleet.Node("node-" + strconv.Itoa(n))
}

// do carries out one fleet-changing command; it runs on the worker, one
// command at a time, so that the summaries go on meanwhile.
func (d *demo) do(ctx context.Context, cmd Command) {
	if cmd.Op == OpAdd {
		d.record(cmd, "", true)
		n, err := d.fleet.Add(ctx)
		if err != nil {
			d.out.printf("a: %v", err)
			return
		}
		d.setGains(n.Name)
		d.out.printf("added %s  UI %s  (log %s); it takes its share once it is a participant", n.Name, n.URL("/"), n.LogPath)
		d.waitReady(ctx, n)
		return
	}
	n := d.nodeByNumber(cmd.Node)
	if n == nil {
		d.out.printf("%s: there is no node-%d (nodes: %s)", cmd, cmd.Node, d.nodeNames())
		return
	}
	switch cmd.Op {
	case OpKill:
		if !n.Running() {
			d.out.printf("%s: %s is not running", cmd, n.Name)
			return
		}
		d.setDown(n.Name, "killed")
		d.record(cmd, n.Name, false)
		_ = n.Kill()
		d.out.printf("killed %s (SIGKILL); the others take its targets once they declare it dead", n.Name)
	case OpStop:
		if !n.Running() {
			d.out.printf("%s: %s is not running", cmd, n.Name)
			return
		}
		d.setDown(n.Name, "stopped")
		d.record(cmd, n.Name, false)
		d.out.printf("stopping %s (SIGTERM): it hands its targets over on the tick grid, flushes its queue and exits", n.Name)
		if err := d.stop(ctx, n); err != nil {
			d.out.printf("%s: %v", cmd, err)
			return
		}
		d.out.printf("%s stopped (%s)", n.Name, exitText(n.ExitErr()))
	case OpRestart:
		d.record(cmd, n.Name, true)
		if n.Running() {
			d.setDown(n.Name, "stopped")
			d.out.printf("restarting %s: SIGTERM, then start again", n.Name)
			if err := d.stop(ctx, n); err != nil {
				d.out.printf("%s: %v", cmd, err)
				return
			}
		}
		if err := n.Start(ctx); err != nil {
			d.out.printf("%s: %v", cmd, err)
			return
		}
		d.setDown(n.Name, "")
		d.out.printf("started %s  UI %s", n.Name, n.URL("/"))
		d.waitReady(ctx, n)
	}
}

// stop stops n gracefully within its shutdown timeout and a margin.
func (d *demo) stop(ctx context.Context, n *lab.Node) error {
	sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	return n.Stop(sctx)
}

func (d *demo) waitReady(ctx context.Context, n *lab.Node) {
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	start := time.Now()
	if err := n.WaitReady(wctx); err != nil {
		if ctx.Err() == nil {
			d.out.printf("%s is not ready: %v", n.Name, err)
		}
		return
	}
	d.out.printf("%s is ready (a participant) after %s", n.Name, time.Since(start).Round(100*time.Millisecond))
}

func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	return err.Error()
}

func (d *demo) nodeNames() string {
	var s string
	for i, n := range d.fleet.Nodes() {
		if i > 0 {
			s += ", "
		}
		s += n.Name
	}
	return s
}

func (d *demo) setDown(node, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if why == "" {
		delete(d.downWhy, node)
		delete(d.reported, node)
		return
	}
	d.downWhy[node] = why
	d.reported[node] = true
}

func (d *demo) setGains(node string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.change != nil {
		d.change.Node, d.change.gains = node, node
	}
}

// record notes a command as the last change, with who scraped what just
// before it.
func (d *demo) record(cmd Command, node string, gains bool) {
	now := time.Now()
	before := latestOwners(d.targets.Log(), now.Add(-2*d.o.Interval), now)
	c := &change{Change: Change{Command: cmd.String(), Node: node, At: now}, before: before, wantGain: gains, gains: node, op: cmd.Op}
	d.mu.Lock()
	d.change = c
	d.mu.Unlock()
}

// lineWriter prints whole lines from several goroutines without
// interleaving them.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, args ...any) {
	s := fmt.Sprintf(format, args...)
	if len(s) == 0 || s[len(s)-1] != '\n' {
		s += "\n"
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	_, _ = io.WriteString(l.w, s)
}

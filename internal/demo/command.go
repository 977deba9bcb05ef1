package demo

import (
	"fmt"
	"strconv"
	"strings"
)

// Op is what a command does.
type Op int

// The commands a user types, one per line.
const (
	OpSummary Op = iota // an empty line: print the summary now
	OpKill              // k N: SIGKILL node N
	OpStop              // s N: SIGTERM node N (graceful handoff)
	OpRestart           // r N: restart node N (start it if it is down)
	OpAdd               // a: add a node
	OpHelp              // h: print the commands
	OpQuit              // q: stop everything and exit
)

// Command is one parsed command line.
type Command struct {
	Op Op
	// Node is the number N of node-N, for kill, stop and restart.
	Node int
}

// Help lists the commands, as printed by h.
const Help = `commands (type one and press Enter):
  k N   kill node N with SIGKILL: a crash; its targets move once it is declared dead
  s N   stop node N with SIGTERM: a graceful leave, handed off on the tick grid
  r N   restart node N (or start it again after k or s)
  a     add a node
  h     this help
  q     quit (Ctrl-C does the same); everything started is stopped and removed
  Enter print the summary now
`

var opNames = map[string]Op{
	"k": OpKill, "kill": OpKill,
	"s": OpStop, "stop": OpStop,
	"r": OpRestart, "restart": OpRestart, "start": OpRestart,
	"a": OpAdd, "add": OpAdd,
	"h": OpHelp, "help": OpHelp, "?": OpHelp,
	"q": OpQuit, "quit": OpQuit, "exit": OpQuit,
}

// ParseCommand parses one line: "k 2", "k2", "kill node-2", "a", "q", or
// an empty line.
func ParseCommand(line string) (Command, error) {
	fields := strings.Fields(strings.ToLower(line))
	if len(fields) == 0 {
		return Command{Op: OpSummary}, nil
	}
	word, arg := fields[0], ""
	if len(fields) > 1 {
		arg = fields[1]
	}
	if len(fields) > 2 {
		return Command{}, fmt.Errorf("%q: too many words (type h for help)", strings.TrimSpace(line))
	}
	op, ok := opNames[word]
	if !ok && len(fields) == 1 {
		// "k2": a one-letter command glued to its node number.
		if o, known := opNames[word[:1]]; known && len(word) > 1 && word[1] >= '0' && word[1] <= '9' {
			op, ok, arg = o, true, word[1:]
		}
	}
	if !ok {
		return Command{}, fmt.Errorf("unknown command %q (type h for help)", word)
	}
	cmd := Command{Op: op}
	switch op {
	case OpKill, OpStop, OpRestart:
		if arg == "" {
			return Command{}, fmt.Errorf("%q needs a node number, e.g. %q", word, word+" 1")
		}
		n, err := strconv.Atoi(strings.TrimPrefix(arg, "node-"))
		if err != nil || n < 0 || n > 9999 {
			return Command{}, fmt.Errorf("%q is not a node number (node-N is N)", arg)
		}
		cmd.Node = n
	default:
		if arg != "" {
			return Command{}, fmt.Errorf("%q takes no argument", word)
		}
	}
	return cmd, nil
}

// String writes the command the way ParseCommand reads it.
func (c Command) String() string {
	switch c.Op {
	case OpKill:
		return "k " + strconv.Itoa(c.Node)
	case OpStop:
		return "s " + strconv.Itoa(c.Node)
	case OpRestart:
		return "r " + strconv.Itoa(c.Node)
	case OpAdd:
		return "a"
	case OpHelp:
		return "h"
	case OpQuit:
		return "q"
	}
	return ""
}

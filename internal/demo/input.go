package demo

import (
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
)

// openStdin returns standard input for the command reader. Go cannot
// interrupt a read of fd 0 when it is a terminal or a pipe in blocking
// mode, and making fd 0 non-blocking would change it for the shell that
// shares it. Opening /proc/self/fd/0 again gives a file description of our
// own, which Go puts in the runtime poller, so that Close ends a pending
// read and Run can wait for its reader. O_NONBLOCK keeps the open from
// waiting for a writer when stdin is a pipe whose writer is gone.
//
// Without /proc there is no way to stop a pending read, so the demo then
// takes no commands (Ctrl-C still stops it) rather than hang at exit.
func openStdin() (io.ReadCloser, error) {
	f, err := os.OpenFile("/proc/self/fd/0", os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return io.NopCloser(strings.NewReader("")), fmt.Errorf("commands are not available (standard input: %w); Ctrl-C stops the demo", err)
	}
	return f, nil
}

package device

import (
	"os"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// stderrMu serialises captureStderr: file descriptor 2 is one per process.
var stderrMu sync.Mutex

// captureStderr runs f with the process's file descriptor 2 pointed at an unlinked temporary
// file and returns what was written to it, trimmed. Driver compilers print there directly
// (PoCL's clang writes "1 error generated." to fd 2, outside the build log), and that text
// belongs in the build error, not on the application's stderr.
//
// For the duration of f, writes to fd 2 from other threads are captured too; the caller puts
// the text into its error on failure and writes it back to stderr on success, so nothing is
// lost. If the redirection cannot be set up, f runs with stderr as it is and "" is returned.
// Any goroutine; calls are serialised.
func captureStderr(f func()) string {
	stderrMu.Lock()
	defer stderrMu.Unlock()
	tmp, err := os.CreateTemp("", "veda-build-*.log")
	if err != nil {
		f()
		return ""
	}
	_ = os.Remove(tmp.Name())
	defer tmp.Close()
	saved, err := unix.Dup(2)
	if err != nil {
		f()
		return ""
	}
	defer unix.Close(saved)
	if err := unix.Dup3(int(tmp.Fd()), 2, 0); err != nil {
		f()
		return ""
	}
	f()
	_ = unix.Dup3(saved, 2, 0)
	if _, err := tmp.Seek(0, 0); err != nil {
		return ""
	}
	var b strings.Builder
	buf := make([]byte, 4096)
	for b.Len() < 1<<20 { // a runaway writer cannot make the error unbounded
		n, err := tmp.Read(buf)
		b.Write(buf[:n])
		if err != nil || n == 0 {
			break
		}
	}
	return strings.TrimSpace(b.String())
}

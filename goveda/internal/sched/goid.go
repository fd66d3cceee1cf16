package sched

// goroutineID parses the id from the first line of a goroutine's stack trace
// ("goroutine 123 [running]:..."); 0 if there is none. The portable getg uses it (getg_other.go);
// it is built everywhere so that its test runs on every machine.
func goroutineID(stack []byte) uintptr {
	const prefix = "goroutine "
	if len(stack) < len(prefix) || string(stack[:len(prefix)]) != prefix {
		return 0
	}
	var id uintptr
	for _, c := range stack[len(prefix):] {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + uintptr(c-'0')
	}
	return id
}

package goveda

import "testing"

// TestProfileWorkersAreTheRuntimes: the profile (what `veda info` prints) reports the worker
// count the runtime runs, whichever way it was chosen.
func TestProfileWorkersAreTheRuntimes(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		env  string
	}{
		{"automatic", Config{}, ""},
		{"config", Config{Workers: 3}, ""},
		{"env", Config{}, "5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv("VEDA_NUM_WORKERS", tc.env)
			}
			rt := newRT(t, tc.cfg)
			p, err := rt.Profile()
			if err != nil {
				t.Fatal(err)
			}
			if p.CPUWorkers != rt.Workers() {
				t.Fatalf("profile cpu_workers %d (%s), runtime runs %d workers", p.CPUWorkers, p.Sources["cpu_workers"], rt.Workers())
			}
		})
	}
}

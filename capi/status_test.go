package capi

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"

	"github.com/veda-runtime/veda/goveda"
)

// headerStatusMap returns the X(NAME, value, "description") entries of VEDA_STATUS_MAP.
func headerStatusMap(t *testing.T) [][3]string {
	t.Helper()
	h, err := os.ReadFile("../include/veda.h")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)#define VEDA_STATUS_MAP\(X\)(.*?)\n\n`).FindSubmatch(h)
	if block == nil {
		t.Fatal("VEDA_STATUS_MAP not found in include/veda.h")
	}
	var out [][3]string
	for _, m := range regexp.MustCompile(`X\((\w+),\s*(\d+),\s*"([^"]*)"\)`).FindAllSubmatch(block[1], -1) {
		out = append(out, [3]string{string(m[1]), string(m[2]), string(m[3])})
	}
	if len(out) < 2 {
		t.Fatalf("VEDA_STATUS_MAP: %d entries parsed", len(out))
	}
	return out
}

// TestStatusMirrorsHeader: the Go side of the status codes is VEDA_STATUS_MAP: the same codes,
// one sentinel each, whose message is "veda: " + the header's description.
func TestStatusMirrorsHeader(t *testing.T) {
	entries := headerStatusMap(t)
	if entries[0][0] != "OK" || entries[0][1] != "0" || int(stOK) != 0 {
		t.Fatalf("first entry %v, want OK = 0", entries[0])
	}
	errs := entries[1:]
	if len(errs) != len(statusSentinels) {
		t.Fatalf("header has %d error codes, statusSentinels %d", len(errs), len(statusSentinels))
	}
	for i, e := range errs {
		s := statusSentinels[i]
		v, _ := strconv.Atoi(e[1])
		if s.name != e[0] || int(s.st) != v {
			t.Errorf("entry %d: header %s = %d, Go %s = %d", i, e[0], v, s.name, int(s.st))
		}
		if want := "veda: " + e[2]; s.sentinel.Error() != want {
			t.Errorf("%s: sentinel says %q, header %q", e[0], s.sentinel.Error(), want)
		}
		// a wrapped sentinel maps back to its code
		if got := statusOf(fmt.Errorf("ctx: %w", s.sentinel)); got != s.st {
			t.Errorf("statusOf(wrapped %s) = %d, want %d", e[0], int(got), int(s.st))
		}
	}
	if statusOf(nil) != stOK || statusOf(errors.New("other")) != stInternal {
		t.Error("statusOf(nil) must be OK and an unknown error internal")
	}
	var pe error = &goveda.PanicError{Value: "x"}
	if statusOf(pe) != stTaskFailed {
		t.Error("a PanicError must map to VEDA_ERR_TASK_FAILED")
	}
}

// TestConfigErrorsNameCFields: New's field errors reach C naming the veda_config member, with no
// Go identifier and no repeated "veda:" prefix.
func TestConfigErrorsNameCFields(t *testing.T) {
	cases := []struct {
		cfg  goveda.Config
		want string
	}{
		{goveda.Config{Workers: -1}, "veda: invalid argument: cfg->num_workers is -1, must be >= 0"},
		{goveda.Config{Policy: 9}, "veda: invalid argument: cfg->policy is 9, not a known policy (0..4)"},
		{goveda.Config{Strategy: "fastest"}, `veda: invalid argument: cfg->strategy is "fastest", not a known strategy (valid: earliest-finish, round-robin, least-loaded, weighted-capacity, adaptive-throughput)`},
		{goveda.Config{MaxPowerWatts: 50}, "veda: invalid argument: cfg->max_power_watts is 50, which needs the energy-efficient policy (policy is adaptive)"},
		{goveda.Config{Policy: goveda.PolicyFixed, MaxTempCelsius: 80}, "veda: invalid argument: cfg->max_temp_celsius is 80, which needs the energy-efficient policy (policy is fixed)"},
		{goveda.Config{Policy: goveda.PolicyEnergyEfficient, MaxPowerWatts: -1}, "veda: invalid argument: cfg->max_power_watts is -1, must be a finite number >= 0 (0: no budget)"},
		{goveda.Config{Policy: goveda.PolicyEnergyEfficient, MaxTempCelsius: -10}, "veda: invalid argument: cfg->max_temp_celsius is -10, must be a finite number >= 0 °C (0: no limit)"},
		{goveda.Config{EnergyWeight: -0.5}, "veda: invalid argument: cfg->energy_weight is -0.5, must be a finite number >= 0 (seconds per joule)"},
	}
	for _, c := range cases {
		rt, err := goveda.New(c.cfg)
		if err == nil {
			rt.Close()
			t.Fatalf("New(%+v) succeeded", c.cfg)
		}
		got := configErrorInC(err)
		if got.Error() != c.want || !errors.Is(got, goveda.ErrInvalidArgument) || statusOf(got) != stInvalidArgument {
			t.Errorf("New(%+v): C message %q, want %q", c.cfg, got, c.want)
		}
	}
}

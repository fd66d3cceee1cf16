package topo

import (
	"reflect"
	"testing"

	"github.com/veda-runtime/veda/goveda/internal/sysfs/sysfstest"
)

func TestParseCPUList(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []int
		bad  bool
	}{
		{"", nil, false},
		{"0", []int{0}, false},
		{"0-3", []int{0, 1, 2, 3}, false},
		{"0-1,8,10-11\n", []int{0, 1, 8, 10, 11}, false},
		{"3-1", nil, true},
		{"a", nil, true},
		{"-1", nil, true},
	} {
		got, err := ParseCPUList(tc.in)
		if (err != nil) != tc.bad || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseCPUList(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.bad)
		}
		if err == nil && len(got) > 0 {
			if back, _ := ParseCPUList(FormatCPUList(got)); !reflect.DeepEqual(back, got) {
				t.Errorf("FormatCPUList round trip of %v gave %v", got, back)
			}
		}
	}
}

func TestFakeTwoNodes(t *testing.T) {
	tr := sysfstest.New(t)
	tr.NUMA(2, 4)
	tr.PCIDevice("0000:3b:00.0", 1)
	tr.Use()
	top := Discover()
	if len(top.Nodes) != 2 || !top.Fake {
		t.Fatalf("nodes = %+v, fake %v", top.Nodes, top.Fake)
	}
	if !reflect.DeepEqual(top.Nodes[1].CPUs, []int{4, 5, 6, 7}) || !reflect.DeepEqual(top.Nodes[0].Distances, []int{10, 21}) {
		t.Fatalf("node data = %+v", top.Nodes)
	}
	if top.NodeOf(5) != 1 || top.NodeOf(9) != -1 || top.NodeIndex(1) != 1 {
		t.Fatalf("NodeOf/NodeIndex wrong")
	}
	for _, id := range []string{"0000:3b:00.0", "00000000:3B:00.0", "3b:00.0"} {
		if n, err := PCINode(id); n != 1 || err != nil {
			t.Errorf("PCINode(%q) = %d, %v; want 1", id, n, err)
		}
	}
	if n, err := PCINode("0000:99:00.0"); n != -1 || err == nil {
		t.Errorf("unknown device: %d, %v", n, err)
	}
	tr.PCIDevice("0000:3c:00.0", -1)
	if n, err := PCINode("0000:3c:00.0"); n != -1 || err == nil {
		t.Errorf("numa_node -1: %d, %v", n, err)
	}
	// 8 workers on 2x4: ids 0-3 on node 0 (cpus 0-3), 4-7 on node 1 (cpus 4-7).
	p := top.Place(8, nil)
	for w, pl := range p {
		if pl.Node != w/4 || pl.CPU != w {
			t.Fatalf("Place(8)[%d] = %+v", w, pl)
		}
	}
	// 3 workers: apportioned 2+1; every node gets one.
	p = top.Place(3, nil)
	if p[0].Node != 0 || p[1].Node != 0 || p[2].Node != 1 {
		t.Fatalf("Place(3) = %+v", p)
	}
	// Only node 1's CPUs usable: everything there.
	p = top.Place(2, func(c int) bool { return c >= 4 })
	if p[0].Node != 1 || p[1].Node != 1 || p[0].CPU != 4 || p[1].CPU != 5 {
		t.Fatalf("Place usable = %+v", p)
	}
	if s := top.String(); s == "" {
		t.Fatal("empty String")
	}
}

func TestNoNodeTree(t *testing.T) {
	tr := sysfstest.New(t)
	tr.Use()
	top := Discover()
	if len(top.Nodes) != 1 || len(top.Nodes[0].CPUs) == 0 || top.Source == "sysfs" {
		t.Fatalf("fallback topology = %+v", top)
	}
}

func TestRealMachine(t *testing.T) {
	top := Discover()
	if len(top.Nodes) == 0 || top.LogicalCores <= 0 {
		t.Fatalf("topology = %+v", top)
	}
	t.Logf("%s", top.String())
	ran := false
	OnNode(top.Nodes[0].ID, func() { ran = true })
	if !ran {
		t.Fatal("OnNode did not run f")
	}
}

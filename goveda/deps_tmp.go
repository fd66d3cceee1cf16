package goveda

import (
	_ "github.com/HdrHistogram/hdrhistogram-go"
	_ "github.com/klauspost/cpuid/v2"
	_ "github.com/shirou/gopsutil/v3/mem"
	_ "golang.org/x/sys/unix"
)

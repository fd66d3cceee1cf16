//go:build !race

package goveda

const raceEnabled = false

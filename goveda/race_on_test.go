//go:build race

package goveda

const raceEnabled = true

//go:build !race

package wcdlbin

// raceEnabled says the test binary runs under the race detector.
const raceEnabled = false

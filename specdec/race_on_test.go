//go:build race

package specdec

// raceEnabled relaxes wall-clock assertions under the race detector.
const raceEnabled = true

package main

import (
	"math"

	"github.com/tidemark/tidemark/abi"
)

// Rule is when a destination looks attacked.
type Rule struct {
	Factor        float64 // packets at least this many times the baseline
	SourcesFactor float64 // and distinct sources at least this many times theirs
	CritMul       float64 // crit when packets reach Factor × CritMul
	MinPackets    float64 // never alert below this many packets in the window
	MinSources    float64 // nor below this many distinct sources
}

// Baseline is a destination's usual traffic: the median of its history.
type Baseline struct {
	Packets, Sources float64 // NaN when unknown
}

// Judge rates a destination's window. A destination without a baseline
// (new, or history missing) is compared with the floors alone, so a flood
// to a never-seen address still fires. pr and sr are the packet and source
// ratios to the (floored) baseline.
func Judge(packets, sources float64, b Baseline, r Rule) (sev abi.Severity, pr, sr float64) {
	if math.IsNaN(packets) || packets < r.MinPackets || !(sources >= r.MinSources) {
		return abi.SeverityOK, math.NaN(), math.NaN()
	}
	bp, bs := floor(b.Packets, r.MinPackets/r.Factor), floor(b.Sources, r.MinSources/r.SourcesFactor)
	pr, sr = packets/bp, sources/bs
	switch {
	case sr < r.SourcesFactor:
		return abi.SeverityOK, pr, sr // one heavy sender is not a distributed attack
	case pr >= r.Factor*r.CritMul:
		return abi.SeverityCrit, pr, sr
	case pr >= r.Factor:
		return abi.SeverityWarn, pr, sr
	}
	return abi.SeverityOK, pr, sr
}

func floor(v, min float64) float64 {
	if math.IsNaN(v) || v < min {
		return min
	}
	return v
}

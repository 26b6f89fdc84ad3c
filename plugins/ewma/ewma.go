package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/tidemark/tidemark/abi"
)

// Stat is the exponentially weighted mean and variance of one series field.
type Stat struct {
	Mean, Var float64
	N         uint32 // observations folded in (saturating)
	Seen      uint32 // window sequence number of the last observation
}

// Update folds x in with weight alpha (West/Finch incremental EW variance).
// The first 1/alpha observations are weighted equally (weight 1/n), so the
// estimates are not biased towards the first value during warmup.
func (s *Stat) Update(x, alpha float64) {
	if s.N == 0 {
		s.Mean, s.Var, s.N = x, 0, 1
		return
	}
	alpha = max(alpha, 1/float64(s.N+1))
	d := x - s.Mean
	inc := alpha * d
	s.Mean += inc
	s.Var = (1 - alpha) * (s.Var + d*inc)
	if s.N < math.MaxUint32 {
		s.N++
	}
}

// Rule is the threshold.
type Rule struct {
	Threshold float64 // warn beyond this many standard deviations
	CritMul   float64
	Warmup    uint32  // observations before judging
	MinRelSD  float64 // standard deviation floor as a fraction of |mean|
	MinValue  float64
	Up, Down  bool
}

// Judge rates x against s before x is folded in; z is in standard deviations.
func Judge(s Stat, x float64, r Rule) (sev abi.Severity, z, sd float64) {
	if math.IsNaN(x) || s.N < r.Warmup {
		return abi.SeverityOK, math.NaN(), math.NaN()
	}
	sd = math.Max(math.Sqrt(s.Var), r.MinRelSD*math.Abs(s.Mean))
	if math.Abs(x) < r.MinValue && math.Abs(s.Mean) < r.MinValue {
		return abi.SeverityOK, 0, sd
	}
	switch {
	case x == s.Mean:
		return abi.SeverityOK, 0, sd
	case sd == 0:
		z = math.Copysign(math.Inf(1), x-s.Mean)
	default:
		z = (x - s.Mean) / sd
	}
	if (z > 0 && !r.Up) || (z < 0 && !r.Down) {
		return abi.SeverityOK, z, sd
	}
	switch a := math.Abs(z); {
	case a > r.Threshold*r.CritMul:
		return abi.SeverityCrit, z, sd
	case a > r.Threshold:
		return abi.SeverityWarn, z, sd
	}
	return abi.SeverityOK, z, sd
}

// State is every series field's Stat, keyed "series-key\x00field", plus the
// window sequence number used to expire series that stopped reporting.
type State struct {
	Seq   uint32
	Stats map[string]*Stat
}

const stateVersion = 1

// Marshal encodes the state: version, seq, count, then per entry key length,
// key, mean, var, n, seen (little-endian), keys sorted so equal states encode
// equally.
func (st *State) Marshal() []byte {
	keys := make([]string, 0, len(st.Stats))
	for k := range st.Stats {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte{stateVersion}
	b = binary.LittleEndian.AppendUint32(b, st.Seq)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		s := st.Stats[k]
		b = binary.LittleEndian.AppendUint16(b, uint16(len(k)))
		b = append(b, k...)
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Mean))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(s.Var))
		b = binary.LittleEndian.AppendUint32(b, s.N)
		b = binary.LittleEndian.AppendUint32(b, s.Seen)
	}
	return b
}

var errState = errors.New("ewma: corrupt state")

// Unmarshal decodes Marshal's output.
func (st *State) Unmarshal(b []byte) error {
	if len(b) < 9 || b[0] != stateVersion {
		return fmt.Errorf("%w: version or length", errState)
	}
	st.Seq = binary.LittleEndian.Uint32(b[1:])
	n := int(binary.LittleEndian.Uint32(b[5:]))
	b = b[9:]
	st.Stats = make(map[string]*Stat, min(n, 1<<16))
	for range n {
		if len(b) < 2 {
			return errState
		}
		kl := int(binary.LittleEndian.Uint16(b))
		if len(b) < 2+kl+24 {
			return errState
		}
		k := string(b[2 : 2+kl])
		b = b[2+kl:]
		st.Stats[k] = &Stat{
			Mean: math.Float64frombits(binary.LittleEndian.Uint64(b)),
			Var:  math.Float64frombits(binary.LittleEndian.Uint64(b[8:])),
			N:    binary.LittleEndian.Uint32(b[16:]),
			Seen: binary.LittleEndian.Uint32(b[20:]),
		}
		b = b[24:]
	}
	if len(b) != 0 {
		return errState
	}
	return nil
}

// Expire drops entries not seen for more than maxAge windows, then the
// least recently seen ones until at most maxEntries remain and the encoding
// fits in maxBytes (the host's state value limit).
func (st *State) Expire(maxAge uint32, maxEntries, maxBytes int) {
	size := 9
	for k, s := range st.Stats {
		if st.Seq-s.Seen > maxAge {
			delete(st.Stats, k)
			continue
		}
		size += entrySize(k)
	}
	if len(st.Stats) <= maxEntries && size <= maxBytes {
		return
	}
	keys := make([]string, 0, len(st.Stats))
	for k := range st.Stats {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := st.Stats[keys[i]], st.Stats[keys[j]]
		if a.Seen != b.Seen {
			return a.Seen < b.Seen
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		if len(st.Stats) <= maxEntries && size <= maxBytes {
			break
		}
		delete(st.Stats, k)
		size -= entrySize(k)
	}
}

func entrySize(key string) int { return 2 + len(key) + 24 }

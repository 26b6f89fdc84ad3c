package abi

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Flags describe an analyze input as a whole.
type Flags uint32

const (
	// FlagHistoryIncomplete: the history the instance declared could not be
	// fetched in full (query failed, fewer windows stored, or trimmed to fit
	// MaxInputBytes). Frames that are there are still correct.
	FlagHistoryIncomplete Flags = 1 << 0
	// FlagHistoryOffset: history frames are "same window at an offset"
	// (config offset/accuracy), not the last N windows.
	FlagHistoryOffset Flags = 1 << 1
)

// FrameFlags describe one frame.
type FrameFlags uint32

// FrameMissing: no data was stored for this frame's window; every value is NaN.
const FrameMissing FrameFlags = 1 << 0

// Fixed sizes and offsets of the input layout (ABI.md "Analyze input").
const (
	Magic           = "TMK1"
	HeaderSize      = 64
	FrameHeaderSize = 24
	// NoIndex in an alert's series or field index means "not about one series/field".
	NoIndex = ^uint32(0)
)

// String table indices that are fixed by the layout.
const (
	StringInstance = 0
	StringPipeline = 1
	firstTagName   = 2
)

// Input is what the host encodes for one analyze call: the closed window
// (frame 0) and its history (frames 1..N), all sharing one series order.
type Input struct {
	Flags       Flags
	WindowStart int64 // Unix ns, inclusive
	WindowEnd   int64 // Unix ns, exclusive
	Instance    string
	Pipeline    string
	TagNames    []string // T group-by keys
	FieldNames  []string // F aggregate fields
	// Dict holds the distinct tag values; SeriesTags indexes it.
	Dict []string
	// SeriesTags is S×T, row-major: the value of tag t for series s is
	// Dict[SeriesTags[s*T+t]].
	SeriesTags []uint32
	// Series is S, the number of series in frame 0 (needed when T is 0).
	Series int
	// Frames[0] is the current window; Frames[i] is history, newest first.
	Frames []Frame
}

// Frame is one window's values: Columns[f][s] for field f of series s.
// History frames use frame 0's series order; NaN marks a missing value.
type Frame struct {
	Start   int64
	End     int64
	Flags   FrameFlags
	Columns [][]float64
}

func align8(n int) int { return (n + 7) &^ 7 }

// Size is the exact number of bytes Encode appends for in.
func (in *Input) Size() int {
	_, _, _, total := in.layout()
	return total
}

func (in *Input) stringCount() int {
	return firstTagName + len(in.TagNames) + len(in.FieldNames) + len(in.Dict)
}

func (in *Input) stringBytes() int {
	n := len(in.Instance) + len(in.Pipeline)
	for _, s := range in.TagNames {
		n += len(s)
	}
	for _, s := range in.FieldNames {
		n += len(s)
	}
	for _, s := range in.Dict {
		n += len(s)
	}
	return n
}

// layout returns the section offsets of the encoding of in.
func (in *Input) layout() (seriesOff, framesOff, stride, total int) {
	nstr := in.stringCount()
	seriesOff = align8(HeaderSize + 4*(nstr+1) + in.stringBytes())
	framesOff = align8(seriesOff + 4*in.Series*len(in.TagNames))
	stride = FrameHeaderSize + 8*len(in.FieldNames)*in.Series
	frames := len(in.Frames)
	if frames == 0 {
		frames = 1
	}
	total = framesOff + frames*stride
	return
}

// Validate reports inputs Encode would encode as something the author did
// not mean: mismatched lengths and out-of-range dictionary indices.
func (in *Input) Validate() error {
	t := len(in.TagNames)
	if in.Series < 0 {
		return fmt.Errorf("abi: negative series count %d", in.Series)
	}
	if len(in.SeriesTags) != in.Series*t {
		return fmt.Errorf("abi: SeriesTags has %d entries, want series(%d)×tags(%d)", len(in.SeriesTags), in.Series, t)
	}
	for i, d := range in.SeriesTags {
		if int(d) >= len(in.Dict) {
			return fmt.Errorf("abi: SeriesTags[%d] = %d is outside Dict (%d values)", i, d, len(in.Dict))
		}
	}
	if len(in.Frames) == 0 {
		return fmt.Errorf("abi: no frame 0")
	}
	for k, fr := range in.Frames {
		if len(fr.Columns) != len(in.FieldNames) {
			return fmt.Errorf("abi: frame %d has %d columns, want %d fields", k, len(fr.Columns), len(in.FieldNames))
		}
		for f, c := range fr.Columns {
			if len(c) != in.Series {
				return fmt.Errorf("abi: frame %d field %q has %d values, want %d series", k, in.FieldNames[f], len(c), in.Series)
			}
		}
	}
	if _, _, _, total := in.layout(); total > MaxInputBytes {
		return fmt.Errorf("abi: input is %d bytes, over the %d byte limit", total, MaxInputBytes)
	}
	return nil
}

var le = binary.LittleEndian

// Encode appends the binary encoding of in to dst and returns the extended
// slice. It does not allocate when dst has capacity for in.Size() more
// bytes, so a host reuses one buffer per instance. Encode never fails:
// short or missing columns are padded with NaN, a missing frame 0 is encoded
// as an all-NaN frame; call Validate first to catch such inputs.
func (in *Input) Encode(dst []byte) []byte {
	seriesOff, framesOff, stride, total := in.layout()
	base := len(dst)
	dst = grow(dst, total)
	b := dst[base : base+total]
	clear(b)

	copy(b[0:4], Magic)
	le.PutUint16(b[4:], VersionMajor)
	le.PutUint16(b[6:], VersionMinor)
	le.PutUint32(b[8:], uint32(in.Flags))
	le.PutUint32(b[12:], uint32(total))
	start, end := in.WindowStart, in.WindowEnd
	le.PutUint64(b[16:], uint64(start))
	le.PutUint64(b[24:], uint64(end))
	nstr := in.stringCount()
	le.PutUint32(b[32:], uint32(nstr))
	le.PutUint32(b[36:], uint32(len(in.TagNames)))
	le.PutUint32(b[40:], uint32(len(in.FieldNames)))
	le.PutUint32(b[44:], uint32(in.Series))
	nframes := max(len(in.Frames), 1)
	le.PutUint32(b[48:], uint32(nframes))
	le.PutUint32(b[52:], uint32(seriesOff))
	le.PutUint32(b[56:], uint32(framesOff))
	le.PutUint32(b[60:], uint32(stride))

	// String table: offsets[nstr+1] relative to the bytes area, then bytes.
	offs := HeaderSize
	data := HeaderSize + 4*(nstr+1)
	pos := 0
	put := func(s string) {
		le.PutUint32(b[offs:], uint32(pos))
		offs += 4
		copy(b[data+pos:], s)
		pos += len(s)
	}
	put(in.Instance)
	put(in.Pipeline)
	for _, s := range in.TagNames {
		put(s)
	}
	for _, s := range in.FieldNames {
		put(s)
	}
	for _, s := range in.Dict {
		put(s)
	}
	le.PutUint32(b[offs:], uint32(pos))

	// Series table: indices into the whole string table.
	valueBase := uint32(firstTagName + len(in.TagNames) + len(in.FieldNames))
	p := seriesOff
	n := min(len(in.SeriesTags), in.Series*len(in.TagNames))
	for _, d := range in.SeriesTags[:n] {
		le.PutUint32(b[p:], d+valueBase)
		p += 4
	}

	nan := math.Float64bits(math.NaN())
	for k := range nframes {
		fp := framesOff + k*stride
		var fr *Frame
		if k < len(in.Frames) {
			fr = &in.Frames[k]
			le.PutUint64(b[fp:], uint64(fr.Start))
			le.PutUint64(b[fp+8:], uint64(fr.End))
			le.PutUint32(b[fp+16:], uint32(fr.Flags))
		} else {
			le.PutUint64(b[fp:], uint64(start))
			le.PutUint64(b[fp+8:], uint64(end))
			le.PutUint32(b[fp+16:], uint32(FrameMissing))
		}
		cp := fp + FrameHeaderSize
		for f := range in.FieldNames {
			var col []float64
			if fr != nil && f < len(fr.Columns) {
				col = fr.Columns[f]
			}
			col = col[:min(len(col), in.Series)]
			putFloats(b[cp:cp+8*len(col)], col)
			for s := len(col); s < in.Series; s++ {
				le.PutUint64(b[cp+8*s:], nan)
			}
			cp += 8 * in.Series
		}
	}
	return dst
}

// Encode is in.Encode(dst); see Input.Encode.
func Encode(in *Input, dst []byte) []byte { return in.Encode(dst) }

func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b[:len(b)+n]
	}
	nb := make([]byte, len(b)+n, max(2*cap(b), len(b)+n))
	copy(nb, b)
	return nb
}

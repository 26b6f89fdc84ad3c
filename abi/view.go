package abi

import (
	"errors"
	"fmt"
	"math"
	"unsafe"
)

// ErrFormat is wrapped by every Decode error.
var ErrFormat = errors.New("abi: malformed input")

// View is a decoded analyze input that points into the encoded bytes: strings
// and f64 columns are not copied (on little-endian hosts with an 8-byte
// aligned buffer). The bytes must not change while the View is in use.
type View struct {
	b           []byte
	Major       uint16
	Minor       uint16
	Flags       Flags
	WindowStart int64
	WindowEnd   int64
	nstr        int
	strData     int // offset of the string bytes area
	tags        int
	fields      int
	series      int
	frames      int
	seriesOff   int
	framesOff   int
	stride      int
	values      []float64 // the frames area as f64, frame headers included
}

func formatErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrFormat, fmt.Sprintf(format, args...))
}

// Decode checks b against the layout and returns a View over it. It reads
// every offset it will later hand out, so a View's accessors cannot go out
// of bounds for any index below the counts it reports.
func Decode(b []byte) (*View, error) {
	v := new(View)
	if err := v.Reset(b); err != nil {
		return nil, err
	}
	return v, nil
}

// Reset decodes b into v, reusing v, so a guest decodes each window without
// allocating.
func (v *View) Reset(b []byte) error {
	*v = View{}
	if len(b) < HeaderSize {
		return formatErr("%d bytes is shorter than the %d byte header", len(b), HeaderSize)
	}
	if string(b[0:4]) != Magic {
		return formatErr("magic %q, want %q", b[0:4], Magic)
	}
	v.Major, v.Minor = le.Uint16(b[4:]), le.Uint16(b[6:])
	if v.Major != VersionMajor {
		return formatErr("version %d.%d, this decoder reads %d.x", v.Major, v.Minor, VersionMajor)
	}
	v.Flags = Flags(le.Uint32(b[8:]))
	total := uint64(le.Uint32(b[12:]))
	if total > uint64(len(b)) || total < HeaderSize {
		return formatErr("total length %d, have %d bytes", total, len(b))
	}
	b = b[:total]
	v.WindowStart = int64(le.Uint64(b[16:]))
	v.WindowEnd = int64(le.Uint64(b[24:]))
	nstr := uint64(le.Uint32(b[32:]))
	tags := uint64(le.Uint32(b[36:]))
	fields := uint64(le.Uint32(b[40:]))
	series := uint64(le.Uint32(b[44:]))
	frames := uint64(le.Uint32(b[48:]))
	seriesOff := uint64(le.Uint32(b[52:]))
	framesOff := uint64(le.Uint32(b[56:]))
	stride := uint64(le.Uint32(b[60:]))

	if nstr < firstTagName+tags+fields {
		return formatErr("%d strings cannot hold 2 names + %d tag names + %d field names", nstr, tags, fields)
	}
	strData := HeaderSize + 4*(nstr+1)
	if strData > total {
		return formatErr("string offsets (%d strings) run past the end", nstr)
	}
	// Offsets must start at 0 and never decrease, so each string is in bounds
	// once the last offset is.
	prev := uint32(0)
	if le.Uint32(b[HeaderSize:]) != 0 {
		return formatErr("string offset 0 is not 0")
	}
	for i := uint64(1); i <= nstr; i++ {
		o := le.Uint32(b[HeaderSize+4*i:])
		if o < prev {
			return formatErr("string offset %d decreases", i)
		}
		prev = o
	}
	strEnd := strData + uint64(prev)
	if strEnd > total {
		return formatErr("string bytes end at %d, past %d", strEnd, total)
	}
	if seriesOff%8 != 0 || seriesOff < strEnd {
		return formatErr("series table offset %d (string table ends at %d, must be 8-aligned)", seriesOff, strEnd)
	}
	seriesEnd := seriesOff + 4*series*tags // < 2^70: no overflow, counts are u32
	if seriesEnd > total {
		return formatErr("series table (%d×%d) ends at %d, past %d", series, tags, seriesEnd, total)
	}
	for p := seriesOff; p < seriesEnd; p += 4 {
		if uint64(le.Uint32(b[p:])) >= nstr {
			return formatErr("series table entry at %d is not a string index", p)
		}
	}
	if frames < 1 {
		return formatErr("no frame 0")
	}
	if framesOff%8 != 0 || framesOff < seriesEnd || framesOff > total {
		return formatErr("frames offset %d (series table ends at %d, total %d, must be 8-aligned)", framesOff, seriesEnd, total)
	}
	if fields != 0 && series > (math.MaxUint32/8)/fields {
		return formatErr("%d fields × %d series overflow", fields, series)
	}
	if stride%8 != 0 || stride < FrameHeaderSize+8*fields*series {
		return formatErr("frame stride %d too small for %d fields × %d series", stride, fields, series)
	}
	if frames > (total-framesOff)/stride {
		return formatErr("%d frames of %d bytes from %d run past %d", frames, stride, framesOff, total)
	}
	v.b = b
	v.nstr, v.strData = int(nstr), int(strData)
	v.tags, v.fields, v.series, v.frames = int(tags), int(fields), int(series), int(frames)
	v.seriesOff, v.framesOff, v.stride = int(seriesOff), int(framesOff), int(stride)
	v.values = viewFloats(b[framesOff : framesOff+frames*stride])
	return nil
}

// Bytes returns the encoded input the view reads.
func (v *View) Bytes() []byte { return v.b }

// NumStrings is the size of the string table.
func (v *View) NumStrings() int { return v.nstr }

// String returns string table entry i (zero-copy). i must be < NumStrings.
func (v *View) String(i int) string {
	o := le.Uint32(v.b[HeaderSize+4*i:])
	e := le.Uint32(v.b[HeaderSize+4*(i+1):])
	if e == o {
		return ""
	}
	return unsafe.String(&v.b[v.strData+int(o)], int(e-o))
}

// Instance is the analyzer instance name.
func (v *View) Instance() string { return v.String(StringInstance) }

// Pipeline is the pipeline (measurement) name.
func (v *View) Pipeline() string { return v.String(StringPipeline) }

// NumTags is T, the number of group-by tags.
func (v *View) NumTags() int { return v.tags }

// TagName returns the name of tag t.
func (v *View) TagName(t int) string { return v.String(firstTagName + t) }

// NumFields is F, the number of aggregate fields.
func (v *View) NumFields() int { return v.fields }

// FieldName returns the name of field f.
func (v *View) FieldName(f int) string { return v.String(firstTagName + v.tags + f) }

// FieldIndex returns the index of the named field, or -1.
func (v *View) FieldIndex(name string) int {
	for f := range v.fields {
		if v.FieldName(f) == name {
			return f
		}
	}
	return -1
}

// TagIndex returns the index of the named tag, or -1.
func (v *View) TagIndex(name string) int {
	for t := range v.tags {
		if v.TagName(t) == name {
			return t
		}
	}
	return -1
}

// NumSeries is S, the number of series in every frame.
func (v *View) NumSeries() int { return v.series }

// TagValueIndex returns the string table index of tag t of series s; equal
// indices mean equal values, so a guest can compare series without strings.
func (v *View) TagValueIndex(s, t int) int {
	return int(le.Uint32(v.b[v.seriesOff+4*(s*v.tags+t):]))
}

// TagValue returns the value of tag t for series s.
func (v *View) TagValue(s, t int) string { return v.String(v.TagValueIndex(s, t)) }

// NumFrames is 1 + the number of history frames.
func (v *View) NumFrames() int { return v.frames }

// Frame returns frame k: 0 is the current window, k ≥ 1 is history, newest
// first. k must be < NumFrames.
func (v *View) Frame(k int) FrameView {
	p := v.framesOff + k*v.stride
	w := k * v.stride / 8
	return FrameView{
		Start:  int64(le.Uint64(v.b[p:])),
		End:    int64(le.Uint64(v.b[p+8:])),
		Flags:  FrameFlags(le.Uint32(v.b[p+16:])),
		series: v.series,
		values: v.values[w+FrameHeaderSize/8 : w+FrameHeaderSize/8+v.fields*v.series],
	}
}

// FrameView is one window's columns.
type FrameView struct {
	Start  int64
	End    int64
	Flags  FrameFlags
	series int
	values []float64
}

// Column returns field f's values, one per series in frame 0's order; NaN
// marks a missing value. The slice aliases the input.
func (f FrameView) Column(field int) []float64 {
	return f.values[field*f.series : (field+1)*f.series : (field+1)*f.series]
}

// Missing reports whether no data was stored for this window.
func (f FrameView) Missing() bool { return f.Flags&FrameMissing != 0 }

func copyFloats(b []byte) []float64 {
	out := make([]float64, len(b)/8)
	for i := range out {
		out[i] = math.Float64frombits(le.Uint64(b[8*i:]))
	}
	return out
}

package geoip

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"unsafe"
)

// asnTable holds ip-location-db ASN ranges
// (ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization),
// sorted by start for binary search. Organisations are stored once and
// referenced by index: the IPv4 file has ~500k ranges but ~80k names.
type asnTable struct {
	v4   []v4Range
	v6   []v6Range
	orgs []string
}

type v4Range struct {
	start, end uint32
	asn, org   uint32
}

type v6Range struct {
	start, end [2]uint64
	asn, org   uint32
}

func v6Key(ip netip.Addr) [2]uint64 {
	a := ip.As16()
	return [2]uint64{binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(a[8:])}
}

func cmp6(a, b [2]uint64) int {
	if c := cmp.Compare(a[0], b[0]); c != 0 {
		return c
	}
	return cmp.Compare(a[1], b[1])
}

func openASNCSV(path string) (*asnTable, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := &asnTable{}
	orgIndex := map[string]uint32{}
	lineNo := 0
	for len(data) > 0 {
		lineNo++
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimRight(line, "\r")
		if len(line) == 0 {
			continue
		}
		if err := t.addLine(line, orgIndex); err != nil {
			if lineNo == 1 && bytes.HasPrefix(line, []byte("ip_range_start")) {
				continue // header
			}
			return nil, fmt.Errorf("line %d: %w", lineNo, err)
		}
	}
	if len(t.v4)+len(t.v6) == 0 {
		return nil, errors.New("no ASN ranges (want ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization)")
	}
	slices.SortFunc(t.v4, func(a, b v4Range) int { return cmp.Compare(a.start, b.start) })
	slices.SortFunc(t.v6, func(a, b v6Range) int { return cmp6(a.start, b.start) })
	return t, nil
}

func (t *asnTable) addLine(line []byte, orgIndex map[string]uint32) error {
	var f [3][]byte
	rest := line
	for i := range f {
		j := bytes.IndexByte(rest, ',')
		if j < 0 {
			return fmt.Errorf("want 4 comma-separated columns, got %q", clip(line))
		}
		f[i], rest = rest[:j], rest[j+1:]
	}
	start, err1 := netip.ParseAddr(view(f[0]))
	end, err2 := netip.ParseAddr(view(f[1]))
	if err1 != nil || err2 != nil || start.Is4() != end.Is4() || end.Less(start) {
		return fmt.Errorf("bad range %q-%q", clip(f[0]), clip(f[1]))
	}
	asn, err := strconv.ParseUint(view(f[2]), 10, 32)
	if err != nil {
		return fmt.Errorf("bad AS number %q", clip(f[2]))
	}
	org := rest
	if len(org) >= 2 && org[0] == '"' && org[len(org)-1] == '"' {
		org = bytes.ReplaceAll(org[1:len(org)-1], []byte(`""`), []byte(`"`))
	}
	idx, ok := orgIndex[string(org)]
	if !ok {
		idx = uint32(len(t.orgs))
		t.orgs = append(t.orgs, string(org))
		orgIndex[t.orgs[idx]] = idx
	}
	if start.Is4() {
		s, e := start.As4(), end.As4()
		t.v4 = append(t.v4, v4Range{binary.BigEndian.Uint32(s[:]), binary.BigEndian.Uint32(e[:]), uint32(asn), idx})
	} else {
		t.v6 = append(t.v6, v6Range{v6Key(start), v6Key(end), uint32(asn), idx})
	}
	return nil
}

// view is b as a string without a copy, for parsers that do not keep it
// (ParseAddr, ParseUint): the IPv4 file has half a million lines, and three
// copies per line double the load time. Errors are rebuilt from copies.
func view(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

func clip(b []byte) string {
	if len(b) > 40 {
		return string(b[:40]) + "…"
	}
	return string(b)
}

func (t *asnTable) answers() fn {
	return fnASN | fnOrg
}

func (t *asnTable) Close() error { return nil }

func (t *asnTable) kind() string {
	return fmt.Sprintf("asn csv, %d IPv4 + %d IPv6 ranges", len(t.v4), len(t.v6))
}

func (t *asnTable) lookup(ip netip.Addr, _ fn, out *result) error {
	var asn, org uint32
	if ip.Is4() {
		a := ip.As4()
		k := binary.BigEndian.Uint32(a[:])
		i, _ := slices.BinarySearchFunc(t.v4, k, func(r v4Range, k uint32) int {
			if r.start > k {
				return 1
			}
			return -1
		})
		// i is the first range starting after k; the candidate is before it
		if i == 0 || t.v4[i-1].end < k {
			return nil
		}
		asn, org = t.v4[i-1].asn, t.v4[i-1].org
	} else {
		k := v6Key(ip)
		i, _ := slices.BinarySearchFunc(t.v6, k, func(r v6Range, k [2]uint64) int {
			if cmp6(r.start, k) > 0 {
				return 1
			}
			return -1
		})
		if i == 0 || cmp6(t.v6[i-1].end, k) < 0 {
			return nil
		}
		asn, org = t.v6[i-1].asn, t.v6[i-1].org
	}
	out.setASN(uint(asn), t.orgs[org])
	return nil
}

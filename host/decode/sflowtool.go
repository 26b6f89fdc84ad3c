package decode

import (
	"bytes"
	"net/netip"

	"github.com/tidemark/tidemark/host/record"
)

// sflowtool field kinds.
type sfKind uint8

const (
	sfInt sfKind = iota // %d / %u / PRIu64
	sfHex               // 0x%04x, 0x%02x
	sfMAC               // 12 hex digits
	sfIP                // dotted quad or IPv6, optional "IP: " prefix, "-" = none
)

type sfField struct {
	name string
	kind sfKind
}

// Column layouts of `sflowtool -l` (writeFlowLine / writeCountersLine),
// after the leading "FLOW"/"CNTR" tag.
var (
	sfFlowFields = []sfField{
		{"agent_ip", sfIP}, {"input_port", sfInt}, {"output_port", sfInt},
		{"src_mac", sfMAC}, {"dst_mac", sfMAC}, {"eth_type", sfHex},
		{"in_vlan", sfInt}, {"out_vlan", sfInt},
		{"src_ip", sfIP}, {"dst_ip", sfIP}, {"ip_protocol", sfInt}, {"ip_tos", sfHex},
		{"ip_ttl", sfInt}, {"src_port", sfInt}, {"dst_port", sfInt}, {"tcp_flags", sfHex},
		{"packet_size", sfInt}, {"ip_size", sfInt}, {"sampling_rate", sfInt},
	}
	sfCntrFields = []sfField{
		{"agent_ip", sfIP}, {"if_index", sfInt}, {"if_type", sfInt}, {"if_speed", sfInt},
		{"if_direction", sfInt}, {"if_status", sfInt},
		{"if_in_octets", sfInt}, {"if_in_ucast_pkts", sfInt}, {"if_in_multicast_pkts", sfInt},
		{"if_in_broadcast_pkts", sfInt}, {"if_in_discards", sfInt}, {"if_in_errors", sfInt},
		{"if_in_unknown_protos", sfInt},
		{"if_out_octets", sfInt}, {"if_out_ucast_pkts", sfInt}, {"if_out_multicast_pkts", sfInt},
		{"if_out_broadcast_pkts", sfInt}, {"if_out_discards", sfInt}, {"if_out_errors", sfInt},
		{"if_promiscuous_mode", sfInt},
	}
)

// SflowtoolSchema returns the fixed schema of the sflowtool decoder: "type"
// then the FLOW fields, then the CNTR fields not already present.
func SflowtoolSchema() *record.Schema {
	return newSflowtool().schema.Clone()
}

type sflowtool struct {
	schema *record.Schema
	typ    int
	flow   []int // slot per sfFlowFields entry
	cntr   []int // slot per sfCntrFields entry
}

func newSflowtool() *sflowtool {
	d := &sflowtool{schema: &record.Schema{}}
	d.typ, _ = d.schema.Add("type", record.String)
	add := func(fs []sfField) []int {
		slots := make([]int, len(fs))
		for i, f := range fs {
			k := record.Number
			if f.kind == sfIP {
				k = record.String
			}
			slots[i], _ = d.schema.Add(f.name, k) // names are unique per kind by construction
		}
		return slots
	}
	d.flow = add(sfFlowFields)
	d.cntr = add(sfCntrFields)
	return d
}

func (d *sflowtool) Schema() *record.Schema { return d.schema }
func (d *sflowtool) HasTime() bool          { return false }

var (
	tagFlow  = []byte("FLOW")
	tagCntr  = []byte("CNTR")
	ipPrefix = []byte("IP: ")
)

func (d *sflowtool) Decode(msg []byte, row *record.Row) *record.Error {
	line := trimEOL(msg)
	if len(bytes.TrimSpace(line)) == 0 {
		return record.Errorf(ReasonEmpty, "empty line")
	}
	comma := bytes.IndexByte(line, ',')
	if comma < 0 {
		return record.Errorf(ReasonColumns, "no comma: %q is not an sflowtool line", truncate(line))
	}
	tag := line[:comma]
	var fields []sfField
	var slots []int
	switch {
	case bytes.Equal(tag, tagFlow):
		fields, slots = sfFlowFields, d.flow
	case bytes.Equal(tag, tagCntr):
		fields, slots = sfCntrFields, d.cntr
	default:
		return record.Errorf(ReasonColumns, "column 0 (type): want FLOW or CNTR, got %q", truncate(tag))
	}
	row.Str[d.typ] = tag
	rest := line[comma+1:]
	last := len(fields) - 1
	for i, f := range fields {
		slot := slots[i]
		// Integers (most columns) are parsed while looking for the comma;
		// that one pass is about twice as fast as IndexByte then parseInt.
		end := -1
		if f.kind == sfInt {
			j, neg, n := 0, false, int64(0)
			if len(rest) > 0 && rest[0] == '-' {
				neg, j = true, 1
			}
			digits := j
			for j < len(rest) && j-digits < 18 {
				c := rest[j] - '0'
				if c > 9 {
					break
				}
				n = n*10 + int64(c)
				j++
			}
			if j > digits && (j == len(rest) || rest[j] == ',') {
				if neg {
					n = -n
				}
				row.Num[slot] = float64(n)
				end = j
			}
		}
		fast := end >= 0
		if !fast {
			end = bytes.IndexByte(rest, ',')
			if end < 0 {
				end = len(rest)
			}
		}
		val := rest[:end]
		if end == len(rest) {
			if i != last {
				return record.Errorf(ReasonColumns, "%s line has %d columns, want %d", tag, i+2, len(fields)+1)
			}
		} else {
			if i == last {
				return record.Errorf(ReasonColumns, "%s line has more than %d columns", tag, len(fields)+1)
			}
			rest = rest[end+1:]
		}
		if fast {
			continue
		}
		switch f.kind {
		case sfInt:
			// PRIu64 counters past 2^63: a float64 holds them rounded
			n, ok := parseBigUint(val)
			if !ok {
				return colErr(ReasonNumber, i+1, f.name, "not an integer", val)
			}
			row.Num[slot] = n
		case sfHex:
			n, ok := parseHex(val)
			if !ok {
				return colErr(ReasonNumber, i+1, f.name, "not a hex number", val)
			}
			row.Num[slot] = n
		case sfMAC:
			n, ok := parseMAC(val)
			if !ok {
				return colErr(ReasonMAC, i+1, f.name, "not a MAC address", val)
			}
			row.Num[slot] = n
		case sfIP:
			ip, ok := parseIPField(val)
			if !ok {
				return colErr(ReasonIP, i+1, f.name, "not an IP address", val)
			}
			row.Str[slot] = ip
		}
	}
	return nil
}

// parseIPField strips the "IP: " prefix old sflowtool versions print before
// src_ip, maps "-" (sflowtool's "no address", e.g. a non-IP frame) to empty,
// and checks the rest is an IPv4 or IPv6 address (full or compressed form).
// The text is kept as printed, aliasing the message.
func parseIPField(b []byte) ([]byte, bool) {
	b = bytes.TrimPrefix(b, ipPrefix)
	if len(b) == 1 && b[0] == '-' {
		return nil, true
	}
	if isIPv4(b) {
		return b, true
	}
	if len(b) == 0 || bytes.IndexByte(b, ':') < 0 || bytes.IndexByte(b, '%') >= 0 { // a zone would make ParseAddr allocate
		return nil, false
	}
	if _, err := netip.ParseAddr(unsafeString(b)); err != nil {
		return nil, false
	}
	return b, true
}

// parseBigUint parses a decimal integer of any length (rounded to float64).
func parseBigUint(b []byte) (float64, bool) {
	if u, ok := parseUint(b); ok {
		return float64(u), true
	}
	if len(b) == 0 || len(b) > 400 {
		return 0, false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return parseNumber(b)
}

// isIPv4 checks a dotted quad with netip's rules (no leading zeros, each
// part ≤ 255) in a third of ParseAddr's time; flows are mostly IPv4.
func isIPv4(b []byte) bool {
	parts, digits, v := 0, 0, 0
	for i := 0; i <= len(b); i++ {
		if i == len(b) || b[i] == '.' {
			if digits == 0 || v > 255 {
				return false
			}
			parts++
			digits, v = 0, 0
			continue
		}
		c := b[i] - '0'
		if c > 9 || (digits == 1 && v == 0) || digits == 3 {
			return false
		}
		v = v*10 + int(c)
		digits++
	}
	return parts == 4
}

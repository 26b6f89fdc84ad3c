package gen

import (
	"math/rand/v2"
	"net/netip"
)

// prefix is an address block the generator draws client addresses from,
// with the country and ASN that public GeoIP/ASN data (GeoLite2) gives for
// it, so enrichment by country/ASN produces a realistic spread. Weights are
// relative shares of clients.
type prefix struct {
	net     netip.Prefix
	country string
	asn     uint32
	org     string
	weight  float64
}

// clientPrefixes are well-known eyeball and cloud ranges. Countries and ASNs
// are as registered for these blocks (RIR allocations / GeoLite2); a test
// GeoIP database built by host/geoip's tests can use the same table via
// Prefixes().
var clientPrefixes = []prefix{
	{netip.MustParsePrefix("73.0.0.0/8"), "US", 7922, "Comcast Cable", 16},
	{netip.MustParsePrefix("8.8.8.0/24"), "US", 15169, "Google LLC", 2},
	{netip.MustParsePrefix("79.192.0.0/10"), "DE", 3320, "Deutsche Telekom AG", 9},
	{netip.MustParsePrefix("90.0.0.0/9"), "FR", 3215, "Orange S.A.", 8},
	{netip.MustParsePrefix("86.128.0.0/10"), "GB", 2856, "British Telecommunications PLC", 8},
	{netip.MustParsePrefix("126.0.0.0/8"), "JP", 17676, "SoftBank Corp.", 6},
	{netip.MustParsePrefix("116.224.0.0/12"), "CN", 4812, "China Telecom (Group)", 7},
	{netip.MustParsePrefix("49.32.0.0/11"), "IN", 55836, "Reliance Jio Infocomm Limited", 8},
	{netip.MustParsePrefix("95.24.0.0/13"), "RU", 8402, "PJSC Vimpelcom", 4},
	{netip.MustParsePrefix("1.128.0.0/11"), "AU", 1221, "Telstra Corporation Ltd", 3},
	{netip.MustParsePrefix("177.0.0.0/10"), "BR", 28573, "Claro NXT Telecomunicacoes Ltda", 5},
	{netip.MustParsePrefix("2601::/20"), "US", 7922, "Comcast Cable", 6},
	{netip.MustParsePrefix("2001:4860::/32"), "US", 15169, "Google LLC", 1},
	{netip.MustParsePrefix("2003::/19"), "DE", 3320, "Deutsche Telekom AG", 4},
	{netip.MustParsePrefix("2409:4000::/22"), "IN", 55836, "Reliance Jio Infocomm Limited", 5},
}

// Server side: our own network, in documentation ranges (RFC 5737/3849),
// which GeoIP data leaves unmapped, as an operator's own space often is.
var (
	serverV4 = netip.MustParsePrefix("203.0.113.0/24")
	serverV6 = netip.MustParsePrefix("2001:db8:100::/48")
)

// PrefixInfo describes one address block the generator uses for clients.
type PrefixInfo struct {
	Prefix  netip.Prefix
	Country string
	ASN     uint32
	Org     string
}

// Prefixes lists the client address blocks with their country and ASN, so a
// test can build a matching GeoIP database.
func Prefixes() []PrefixInfo {
	out := make([]PrefixInfo, len(clientPrefixes))
	for i, p := range clientPrefixes {
		out[i] = PrefixInfo{p.net, p.country, p.asn, p.org}
	}
	return out
}

// randomIn returns a random host address inside p.
func randomIn(r *rand.Rand, p netip.Prefix) netip.Addr {
	a := p.Addr()
	if a.Is4() {
		b := a.As4()
		v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
		hostBits := 32 - p.Bits()
		if hostBits > 0 {
			v |= r.Uint32() & (1<<hostBits - 1)
		}
		if v&0xff == 0 || v&0xff == 255 {
			v = v&^0xff | 1 + r.Uint32()%250
		}
		return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
	}
	b := a.As16()
	for i := p.Bits(); i < 128; i++ {
		if r.IntN(2) == 1 {
			b[i/8] |= 0x80 >> (i % 8)
		}
	}
	return netip.AddrFrom16(b)
}

type host struct {
	v4, v6  netip.Addr
	country string
}

type population struct {
	clients []host
	servers []host
	v6Share float64 // share of clients that have an IPv6 address
}

func newPopulation(r *rand.Rand, nClients, nServers int) *population {
	p := &population{}
	// Clients: v4 and v6 from prefixes of the same country where there is one.
	v4s, v6s := []prefix{}, map[string]prefix{}
	for _, c := range clientPrefixes {
		if c.net.Addr().Is4() {
			v4s = append(v4s, c)
		} else {
			v6s[c.country] = c
		}
	}
	var v4total float64
	for _, c := range v4s {
		v4total += c.weight
	}
	for i := 0; i < nClients; i++ {
		x := r.Float64() * v4total
		var c prefix
		for _, c = range v4s {
			if x < c.weight {
				break
			}
			x -= c.weight
		}
		h := host{v4: randomIn(r, c.net), country: c.country}
		if v6, ok := v6s[c.country]; ok {
			h.v6 = randomIn(r, v6.net)
		}
		p.clients = append(p.clients, h)
		if h.v6.IsValid() {
			p.v6Share++
		}
	}
	p.v6Share /= float64(max(1, nClients))
	for i := 0; i < nServers; i++ {
		b := serverV4.Addr().As4()
		b[3] = byte(10 + i%240)
		v6 := serverV6.Addr().As16()
		v6[15] = byte(10 + i%240)
		p.servers = append(p.servers, host{v4: netip.AddrFrom4(b), v6: netip.AddrFrom16(v6)})
	}
	return p
}

// service is a server port and protocol with a share of flows.
type service struct {
	port   uint16
	proto  uint8
	weight float64
}

var services = []service{
	{443, 6, 55}, {80, 6, 12}, {443, 17, 8}, // QUIC
	{53, 17, 9}, {22, 6, 2}, {25, 6, 2}, {993, 6, 2}, {123, 17, 1}, {3478, 17, 2},
	{8080, 6, 2}, {3306, 6, 1}, {5432, 6, 1}, {1, 1, 3}, // ICMP echo
}

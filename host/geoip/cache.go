package geoip

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync"
)

// cache is a 2-way set-associative map from address to answers. It has a
// fixed size (no growth, no GC churn) and evicts the less recently used way
// of a set. Each set has its own lock, so concurrent pipelines rarely meet.
type cache struct {
	sets []cacheSet
	mask uint64
}

type cacheEntry struct {
	addr netip.Addr
	have fn // functions resolved for addr (found or not)
	r    result
}

type cacheSet struct {
	mu     sync.Mutex
	recent uint8
	ways   [2]cacheEntry
}

func newCache(entries int) *cache {
	n := (entries + 1) / 2
	if n < 1 {
		n = 1
	}
	n = 1 << bits.Len(uint(n-1)) // round up to a power of two
	return &cache{sets: make([]cacheSet, n), mask: uint64(n - 1)}
}

func (c *cache) set(ip netip.Addr) *cacheSet {
	a := ip.As16()
	h := binary.LittleEndian.Uint64(a[:8])*0x9e3779b97f4a7c15 ^ binary.LittleEndian.Uint64(a[8:])
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 29
	return &c.sets[h&c.mask]
}

func (c *cache) get(ip netip.Addr, f fn) (result, bool) {
	s := c.set(ip)
	s.mu.Lock()
	for w := range s.ways {
		e := &s.ways[w]
		if e.have&f != 0 && e.addr == ip {
			r := e.r
			s.recent = uint8(w)
			s.mu.Unlock()
			return r, true
		}
	}
	s.mu.Unlock()
	return result{}, false
}

// put records the answer for function f (r.found says whether there was
// one), merging with what is cached for ip already.
func (c *cache) put(ip netip.Addr, f fn, r *result) {
	s := c.set(ip)
	s.mu.Lock()
	defer s.mu.Unlock()
	w := -1
	for i := range s.ways {
		if s.ways[i].have != 0 && s.ways[i].addr == ip {
			w = i
			break
		}
	}
	if w < 0 {
		w = int(1 - s.recent)
		if s.ways[0].have == 0 {
			w = 0
		}
		s.ways[w] = cacheEntry{addr: ip}
	}
	e := &s.ways[w]
	e.have |= f
	e.r.found = e.r.found&^f | r.found&f
	switch f {
	case fnCountry:
		e.r.country = r.country
	case fnCity:
		e.r.city = r.city
	case fnASN:
		e.r.asn = r.asn
	case fnOrg:
		e.r.org = r.org
	}
	s.recent = uint8(w)
}

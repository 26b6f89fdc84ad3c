package geoip

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"sync/atomic"
)

// cache is a 2-way set-associative map from address to answers with a
// fixed number of slots (no growth), evicting the less recently used way of
// a set. Entries are immutable and swapped in whole through atomic
// pointers, so a hit takes no lock and writes no shared memory beyond the
// recency hint: concurrent pipelines do not serialise on lookups. A miss
// allocates one entry, next to the database read that dominates it.
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
	ways   [2]atomic.Pointer[cacheEntry]
	recent atomic.Uint32
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
	for w := range s.ways {
		if e := s.ways[w].Load(); e != nil && e.have&f != 0 && e.addr == ip {
			if s.recent.Load() != uint32(w) {
				s.recent.Store(uint32(w))
			}
			return e.r, true
		}
	}
	return result{}, false
}

// put records the answer for function f (r.found says whether there was
// one), merged with what is cached for ip already. Two racing puts for one
// address may drop one merge; that only costs a later re-read.
func (c *cache) put(ip netip.Addr, f fn, r *result) {
	s := c.set(ip)
	w := -1
	var e cacheEntry
	for i := range s.ways {
		if old := s.ways[i].Load(); old != nil && old.addr == ip {
			w, e = i, *old
			break
		}
	}
	if w < 0 {
		w = int(1 - s.recent.Load()&1)
		if s.ways[0].Load() == nil {
			w = 0
		}
		e = cacheEntry{addr: ip}
	}
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
	s.ways[w].Store(&e)
	s.recent.Store(uint32(w))
}

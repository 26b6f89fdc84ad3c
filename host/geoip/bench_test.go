package geoip

import (
	"fmt"
	"net/netip"
	"testing"
)

func benchLookups(b *testing.B, db *DB, ips []netip.Addr) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		ip := ips[i%len(ips)]
		db.Country(ip)
		db.ASN(ip)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(2*b.N), "ns/lookup")
}

func benchIPs(n int) []netip.Addr {
	ips := make([]netip.Addr, n)
	for i := range ips {
		ips[i] = netip.AddrFrom4([4]byte{81, 2, 69, byte(i)})
		if i%4 == 3 {
			ips[i] = netip.MustParseAddr(fmt.Sprintf("2a02:ff00::%x", i))
		}
	}
	return ips
}

// BenchmarkLookupCached: the steady state, a working set that fits the cache.
func BenchmarkLookupCached(b *testing.B) {
	cfg := maxMindFiles(b)
	db := openDB(b, cfg)
	benchLookups(b, db, benchIPs(256))
}

// BenchmarkLookupUncached: every lookup reads the files (cache of 2).
func BenchmarkLookupUncached(b *testing.B) {
	cfg := maxMindFiles(b)
	cfg.CacheSize = 2
	db := openDB(b, cfg)
	benchLookups(b, db, benchIPs(256))
}

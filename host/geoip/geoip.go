// Package geoip answers the transform language's enrichment functions
// (country, city, asn, as_org) from MaxMind DB files and ip-location-db ASN
// CSV ranges.
//
// Two .mmdb schemas are understood and told apart when a file is opened:
// MaxMind's GeoIP2/GeoLite2 layout (nested "country.iso_code",
// "city.names.en", read through geoip2-golang) and the flat layout of the
// ip-location-db packages ("country_code", "city",
// "autonomous_system_number", "autonomous_system_organization", read
// through maxminddb-golang), which also covers IPinfo's flat files. Each Config key may list several files
// separated by commas (ip-location-db ships IPv4 and IPv6 separately); they
// are asked in order and the first that knows the address answers.
//
// Answers go through a fixed-size cache keyed by address that holds
// interned strings, so a repeated lookup allocates nothing.
package geoip

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"strings"
	"sync"
	"sync/atomic"
)

// Config names the database files; "" leaves a function unconfigured.
type Config struct {
	Country string // .mmdb with country data
	City    string // .mmdb with city data (answers country too when it has it)
	ASN     string // .mmdb (GeoLite2-ASN or ip-location-db asn) or ip-location-db .csv ranges
	// CacheSize is the number of addresses whose answers are kept; 0 means
	// DefaultCacheSize.
	CacheSize int
}

// DefaultCacheSize is the cache size when Config.CacheSize is 0: about
// 5 MiB, enough for the active addresses of a busy link.
const DefaultCacheSize = 1 << 16

// MaxCacheSize bounds CacheSize (about 1.3 GiB when full).
const MaxCacheSize = 1 << 24

// fn is one enrichment function, used as a bit mask.
type fn uint8

const (
	fnCountry fn = 1 << iota
	fnCity
	fnASN
	fnOrg
	numFns = 4
)

func fnIndex(f fn) int {
	switch f {
	case fnCountry:
		return 0
	case fnCity:
		return 1
	case fnASN:
		return 2
	}
	return 3
}

// result is what a source found for one address.
type result struct {
	found   fn
	country string
	city    string
	org     string
	asn     uint32
}

// source is one opened database file.
type source interface {
	// lookup fills out for the functions in want that it knows; an address
	// it does not cover is not an error.
	lookup(ip netip.Addr, want fn, out *result) error
	// answers is the set of functions the file has data for.
	answers() fn
	// kind describes the file for the start-up log.
	kind() string
	io.Closer
}

// DB answers enrichment lookups. It is safe for concurrent use.
type DB struct {
	sources [numFns][]source // per function, in the order asked
	files   []source
	cache   *cache

	internMu sync.Mutex
	interned map[string]string

	lookups     atomic.Uint64
	misses      atomic.Uint64
	cacheMisses atomic.Uint64
	errs        atomic.Uint64
}

// Open opens every configured file. Errors name the config key and file,
// e.g. `geoip.city "data/x.mmdb": not an mmdb file`.
func Open(cfg Config) (*DB, error) {
	if cfg.CacheSize < 0 || cfg.CacheSize > MaxCacheSize {
		return nil, fmt.Errorf("geoip.cache_size: %d is outside 0..%d (0 = %d)", cfg.CacheSize, MaxCacheSize, DefaultCacheSize)
	}
	db := &DB{interned: map[string]string{}}
	type slot struct {
		key   string
		paths string
		need  fn // the file must answer this
		serve fn // and answers these when it has them
	}
	slots := []slot{
		{"country", cfg.Country, fnCountry, fnCountry},
		{"city", cfg.City, fnCity, fnCity | fnCountry},
		{"asn", cfg.ASN, fnASN, fnASN | fnOrg},
	}
	var cityCountry []source // city files answer country after the country files
	for _, s := range slots {
		if strings.TrimSpace(s.paths) == "" {
			continue
		}
		for _, path := range strings.Split(s.paths, ",") {
			path = strings.TrimSpace(path)
			if path == "" {
				continue
			}
			src, err := openSource(path, s.key == "asn")
			if err != nil {
				db.Close()
				return nil, fmt.Errorf("geoip.%s %q: %w", s.key, path, err)
			}
			db.files = append(db.files, src)
			has := src.answers()
			slog.Info("geoip: opened", "key", s.key, "file", path, "kind", src.kind(), "has", fnNames(has))
			if has&s.need == 0 {
				db.Close()
				return nil, fmt.Errorf("geoip.%s %q: the file has no %s data (it has: %s)", s.key, path, s.key, fnNames(has))
			}
			for _, f := range []fn{fnCountry, fnCity, fnASN, fnOrg} {
				if s.serve&has&f == 0 {
					continue
				}
				if s.key == "city" && f == fnCountry {
					cityCountry = append(cityCountry, src)
					continue
				}
				db.sources[fnIndex(f)] = append(db.sources[fnIndex(f)], src)
			}
		}
	}
	db.sources[fnIndex(fnCountry)] = append(db.sources[fnIndex(fnCountry)], cityCountry...)
	size := cfg.CacheSize
	if size <= 0 {
		size = DefaultCacheSize
	}
	db.cache = newCache(size)
	return db, nil
}

func fnNames(f fn) string {
	var names []string
	for _, x := range []struct {
		f    fn
		name string
	}{{fnCountry, "country"}, {fnCity, "city"}, {fnASN, "asn"}, {fnOrg, "as_org"}} {
		if f&x.f != 0 {
			names = append(names, x.name)
		}
	}
	if len(names) == 0 {
		return "nothing usable"
	}
	return strings.Join(names, ", ")
}

// openSource opens path as an mmdb file, or as CSV ranges when asnCSV is
// allowed and the name ends in .csv.
func openSource(path string, asnCSV bool) (source, error) {
	st, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, errors.New("no such file")
		}
		return nil, err
	}
	if st.IsDir() {
		return nil, errors.New("is a directory, not a file")
	}
	if strings.HasSuffix(strings.ToLower(path), ".csv") {
		if !asnCSV {
			return nil, errors.New("CSV files only carry ASN ranges; use an .mmdb file here")
		}
		return openASNCSV(path)
	}
	return openMMDB(path)
}

// Close releases the files.
func (db *DB) Close() error {
	var errs []error
	for _, s := range db.files {
		errs = append(errs, s.Close())
	}
	db.files = nil
	return errors.Join(errs...)
}

// Has reports whether a database is loaded for function ("country",
// "city", "asn" or "as_org").
func (db *DB) Has(function string) bool {
	var f fn
	switch function {
	case "country":
		f = fnCountry
	case "city":
		f = fnCity
	case "asn":
		f = fnASN
	case "as_org":
		f = fnOrg
	default:
		return false
	}
	return len(db.sources[fnIndex(f)]) > 0
}

// Country returns the ISO 3166-1 alpha-2 code, e.g. "DE".
func (db *DB) Country(ip netip.Addr) (string, bool) {
	r, ok := db.lookup(ip, fnCountry)
	return r.country, ok
}

// City returns the English city name.
func (db *DB) City(ip netip.Addr) (string, bool) {
	r, ok := db.lookup(ip, fnCity)
	return r.city, ok
}

// ASN returns the autonomous system number.
func (db *DB) ASN(ip netip.Addr) (uint32, bool) {
	r, ok := db.lookup(ip, fnASN)
	return r.asn, ok
}

// ASOrg returns the autonomous system's organisation.
func (db *DB) ASOrg(ip netip.Addr) (string, bool) {
	r, ok := db.lookup(ip, fnOrg)
	return r.org, ok
}

// Lookups is the number of calls to Country, City, ASN and ASOrg.
func (db *DB) Lookups() uint64 { return db.lookups.Load() }

// Misses is the number of lookups that found no answer (unknown or
// invalid address, or no database for the function).
func (db *DB) Misses() uint64 { return db.misses.Load() }

// CacheMisses is the number of lookups that had to read a database file.
func (db *DB) CacheMisses() uint64 { return db.cacheMisses.Load() }

// Errors is the number of file reads that failed (a corrupt database);
// such a lookup counts as a miss.
func (db *DB) Errors() uint64 { return db.errs.Load() }

func (db *DB) lookup(ip netip.Addr, f fn) (result, bool) {
	db.lookups.Add(1)
	srcs := db.sources[fnIndex(f)]
	if !ip.IsValid() || len(srcs) == 0 {
		db.misses.Add(1)
		return result{}, false
	}
	ip = ip.Unmap().WithZone("")
	r, ok := db.cache.get(ip, f)
	if !ok {
		db.cacheMisses.Add(1)
		r = db.resolve(ip, f, srcs)
		db.cache.put(ip, f, &r)
	}
	if r.found&f == 0 {
		db.misses.Add(1)
		return result{}, false
	}
	return r, true
}

// resolve asks the sources in order; the first that knows ip answers.
func (db *DB) resolve(ip netip.Addr, f fn, srcs []source) result {
	for _, s := range srcs {
		var r result
		if err := s.lookup(ip, f, &r); err != nil {
			db.errs.Add(1)
			continue
		}
		if r.found&f != 0 {
			r.found = f
			r.country = db.intern(r.country)
			r.city = db.intern(r.city)
			r.org = db.intern(r.org)
			return r
		}
	}
	return result{}
}

// intern keeps one copy of each answer string, so the cache and the rows
// that copy from it share memory instead of holding a copy per address.
func (db *DB) intern(s string) string {
	if s == "" {
		return ""
	}
	db.internMu.Lock()
	defer db.internMu.Unlock()
	if v, ok := db.interned[s]; ok {
		return v
	}
	s = strings.Clone(s) // do not pin a decoder buffer
	db.interned[s] = s
	return s
}

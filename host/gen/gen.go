// Package gen generates synthetic but realistic sFlow traffic: a population
// of clients spread over real-world country/ASN address blocks talking to a
// server network, heavy-tailed (Pareto) flow sizes, common services, a
// diurnal rate curve and a sampling rate, with anomalies (ddos, portscan,
// link_failure, ramp) on a schedule.
//
// Time is simulated: Config.Start and Config.Duration define the event-time
// line, Config.Speed maps it to wall time (0 = as fast as possible), so a day
// can be replayed in seconds. A run is deterministic for a given Config and
// Seed. Output is sFlow v5 datagrams handed to a Sink (UDP, sflowtool lines
// to a writer, or lines to Kafka with the simulated event time as the record
// timestamp).
package gen

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/netip"
	"time"

	"github.com/tidemark/tidemark/host/sflow"
)

// Config configures a generator. Zero values take the defaults noted.
type Config struct {
	Seed             uint64
	Start            time.Time     // simulated start (default 2026-01-05T00:00:00Z)
	Duration         time.Duration // simulated time to generate; 0 = until the context ends
	Speed            float64       // simulated seconds per wall second; 0 = as fast as possible
	Rate             float64       // flow samples per simulated second at the daily mean (default 1000)
	SamplingRate     uint32        // 1-in-N packet sampling announced by the agents (default 1000)
	Agents           int           // sFlow agents (switches), default 4; agent 3 has an IPv6 address
	Clients          int           // client population (default 5000)
	Servers          int           // servers in 203.0.113.0/24 and 2001:db8:100::/48 (default 64)
	IPv6Share        float64       // share of flows over IPv6 (default 0.2; negative = none)
	DiurnalAmplitude float64       // rate swings ±amplitude around the mean, peak 20:00 UTC (default 0.5; negative = flat)
	CounterInterval  time.Duration // interface counter samples per agent (default 30s)
	Tick             time.Duration // simulated step; datagrams are flushed at least once per tick (default 100ms)
	Scenario         *Scenario
	Progress         io.Writer // live progress line, e.g. os.Stderr; nil = quiet
}

func (c *Config) setDefaults() error {
	if c.Start.IsZero() {
		c.Start = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	}
	if c.Rate <= 0 {
		c.Rate = 1000
	}
	if c.SamplingRate == 0 {
		c.SamplingRate = 1000
	}
	if c.Agents <= 0 {
		c.Agents = 4
	}
	if c.Clients <= 0 {
		c.Clients = 5000
	}
	if c.Servers <= 0 {
		c.Servers = 64
	}
	if c.Servers > 240 {
		return fmt.Errorf("gen: at most 240 servers, got %d", c.Servers)
	}
	if c.IPv6Share == 0 {
		c.IPv6Share = 0.2
	}
	if c.DiurnalAmplitude == 0 {
		c.DiurnalAmplitude = 0.5
	}
	if c.DiurnalAmplitude > 1 {
		return fmt.Errorf("gen: diurnal amplitude %g > 1", c.DiurnalAmplitude)
	}
	if c.CounterInterval <= 0 {
		c.CounterInterval = 30 * time.Second
	}
	if c.Tick <= 0 {
		c.Tick = 100 * time.Millisecond
	}
	if c.Scenario == nil {
		c.Scenario = &Scenario{}
	}
	for _, a := range c.Scenario.Anomalies {
		if a.Kind == KindLinkFailure && a.Agent >= c.Agents {
			return fmt.Errorf("gen: link_failure agent %d: only %d agents", a.Agent, c.Agents)
		}
	}
	return nil
}

// Sink receives each datagram with its simulated time (the start of the
// generator tick its samples were taken in). b is only valid
// during the call.
type Sink interface {
	Datagram(t time.Time, agent netip.Addr, b []byte) error
}

// Stats summarises a run.
type Stats struct {
	FlowSamples    int64
	CounterSamples int64
	Datagrams      int64
	SimEnd         time.Time
	Wall           time.Duration
}

type flow struct {
	client, server int
	svc            service
	v6             bool
	clientPort     uint16
	remaining      int
}

type ifCounters struct {
	inOctets, outOctets uint64
	inPkts, outPkts     uint32
}

type agent struct {
	addr      netip.Addr
	expanded  bool
	vlan      uint16
	b         sflow.Builder
	seq       uint32 // datagram sequence
	sampleSeq uint32
	cntrSeq   uint32
	pool      uint32
	ifs       map[uint32]*ifCounters
}

// Generator produces traffic; create with New, then Run once.
type Generator struct {
	cfg        Config
	r          *rand.Rand
	pop        *population
	flows      []flow
	agents     []*agent
	inj        []Injection
	attackers  [][]netip.Addr // per ddos anomaly
	scanSrc    []netip.Addr
	scanPort   []uint16
	svcTotal   float64
	frame      []byte
	pkt        sflow.Packet
	vlans      [1]uint16
	stats      Stats
	nextCntr   time.Time
	now        func() time.Time
	sleep      func(ctx context.Context, d time.Duration) error
	serverAddr map[netip.Addr]int
	ran        bool
}

// New builds the population and agents for cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 0x7469_6465_6d61_726b)) // "tidemark"
	g := &Generator{cfg: cfg, r: r, now: time.Now, sleep: sleepCtx, serverAddr: map[netip.Addr]int{}}
	g.pop = newPopulation(r, cfg.Clients, cfg.Servers)
	for i, s := range g.pop.servers {
		g.serverAddr[s.v4], g.serverAddr[s.v6] = i, i
	}
	for i := 0; i < cfg.Agents; i++ {
		a := &agent{addr: netip.AddrFrom4([4]byte{192, 0, 2, byte(1 + i)}), ifs: map[uint32]*ifCounters{}}
		switch i % 4 {
		case 0:
			a.expanded, a.vlan = true, 10
		case 2:
			a.vlan = 20
		case 3:
			a.addr = netip.MustParseAddr(fmt.Sprintf("2001:db8:ffff::%d", i+1))
		}
		// Interfaces: one per group of servers plus the uplink (48), with
		// counters as they might stand a day after boot.
		ifCount := min(8, (cfg.Servers+cfg.Agents-1)/cfg.Agents)
		for _, ifIndex := range append(seq(1, ifCount), 48) {
			a.ifs[ifIndex] = &ifCounters{inOctets: r.Uint64N(1 << 40), outOctets: r.Uint64N(1 << 40),
				inPkts: r.Uint32(), outPkts: r.Uint32()}
		}
		g.agents = append(g.agents, a)
	}
	for _, s := range services {
		g.svcTotal += s.weight
	}
	g.flows = make([]flow, 1024)
	for i := range g.flows {
		g.newFlow(&g.flows[i])
	}
	g.inj = cfg.Scenario.Schedule(cfg.Start)
	for _, in := range g.inj {
		var att []netip.Addr
		var src netip.Addr
		switch in.Kind {
		case KindDDoS:
			for j := 0; j < in.Sources; j++ {
				c := clientPrefixes[r.IntN(len(clientPrefixes))]
				if c.net.Addr().Is4() != in.Target.Is4() {
					c = clientPrefixes[0]
					if !in.Target.Is4() {
						c = clientPrefixes[len(clientPrefixes)-1]
					}
				}
				att = append(att, randomIn(r, c.net))
			}
		case KindPortscan:
			src = in.Source
			if !src.IsValid() {
				c := g.pop.clients[r.IntN(len(g.pop.clients))]
				src = c.v4
				if !in.Target.Is4() && c.v6.IsValid() {
					src = c.v6
				}
			}
		}
		g.attackers = append(g.attackers, att)
		g.scanSrc = append(g.scanSrc, src)
		g.scanPort = append(g.scanPort, 1)
	}
	return g, nil
}

func seq(from, to int) []uint32 {
	var s []uint32
	for i := from; i <= to; i++ {
		s = append(s, uint32(i))
	}
	return s
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pareto draws a flow size in sampled packets: Pareto(xm=1, alpha=1.2), capped.
func (g *Generator) pareto() int {
	u := 1 - g.r.Float64()
	n := int(math.Pow(u, -1/1.2))
	return min(n, 20000)
}

func (g *Generator) newFlow(f *flow) {
	r := g.r
	f.client = r.IntN(len(g.pop.clients))
	// Servers are Zipf-ish popular: low indices get more flows.
	f.server = int(float64(len(g.pop.servers)) * math.Pow(r.Float64(), 2))
	x := r.Float64() * g.svcTotal
	for _, s := range services {
		f.svc = s
		if x < s.weight {
			break
		}
		x -= s.weight
	}
	// Only clients with an IPv6 address can use it; they do so often enough
	// for IPv6Share of all flows to be IPv6 (as far as they can provide it).
	f.v6 = g.pop.clients[f.client].v6.IsValid() && g.cfg.IPv6Share > 0 &&
		r.Float64()*g.pop.v6Share < g.cfg.IPv6Share
	f.clientPort = uint16(32768 + r.IntN(28232))
	f.remaining = g.pareto()
}

// rate is the mean sample rate at simulated time t (diurnal curve).
func (g *Generator) rate(t time.Time) float64 {
	if g.cfg.DiurnalAmplitude < 0 {
		return g.cfg.Rate
	}
	h := float64(t.UTC().Hour()) + float64(t.UTC().Minute())/60 + float64(t.UTC().Second())/3600
	return g.cfg.Rate * (1 + g.cfg.DiurnalAmplitude*math.Cos(2*math.Pi*(h-20)/24))
}

// count draws how many events of mean lambda happen in a tick.
func (g *Generator) count(lambda float64) int {
	n := int(lambda)
	if g.r.Float64() < lambda-float64(n) {
		n++
	}
	return n
}

func (g *Generator) agentOf(server int) int { return server % len(g.agents) }

func (g *Generator) failed(agentIdx int, t time.Time) bool {
	for _, in := range g.inj {
		if in.Kind == KindLinkFailure && in.Agent == agentIdx && !t.Before(in.From) && t.Before(in.To) {
			return true
		}
	}
	return false
}

// Run generates until Duration is reached or ctx ends, handing datagrams to
// sink. It returns the run's statistics; a cancelled context is not an error.
func (g *Generator) Run(ctx context.Context, sink Sink) (Stats, error) {
	if g.ran {
		return g.stats, errors.New("gen: a Generator runs once; create another with New")
	}
	g.ran = true
	cfg := &g.cfg
	wallStart := g.now()
	lastProgress := wallStart
	t := cfg.Start
	g.nextCntr = t
	end := time.Time{}
	if cfg.Duration > 0 {
		end = cfg.Start.Add(cfg.Duration)
	}
	tickSec := cfg.Tick.Seconds()
	for end.IsZero() || t.Before(end) {
		if ctx.Err() != nil {
			break
		}
		tickEnd := t.Add(cfg.Tick)
		base := g.rate(t)
		n := g.count(base * tickSec)
		for i := 0; i < n; i++ {
			if err := g.normalSample(t, sink); err != nil {
				return g.finish(wallStart, t), err
			}
		}
		for k := range g.inj {
			if err := g.anomalySamples(k, t, base, tickSec, sink); err != nil {
				return g.finish(wallStart, t), err
			}
		}
		if !t.Before(g.nextCntr) {
			if err := g.counterSamples(t, sink); err != nil {
				return g.finish(wallStart, t), err
			}
			g.nextCntr = g.nextCntr.Add(cfg.CounterInterval)
		}
		for i := range g.agents {
			if err := g.flush(i, t, sink); err != nil {
				return g.finish(wallStart, t), err
			}
		}
		t = tickEnd
		if cfg.Speed > 0 {
			due := wallStart.Add(time.Duration(float64(t.Sub(cfg.Start)) / cfg.Speed))
			if d := due.Sub(g.now()); d > 0 {
				if err := g.sleep(ctx, d); err != nil {
					break
				}
			}
		}
		if cfg.Progress != nil {
			if now := g.now(); now.Sub(lastProgress) >= time.Second {
				lastProgress = now
				g.progress(t, now.Sub(wallStart), false)
			}
		}
	}
	st := g.finish(wallStart, t)
	if cfg.Progress != nil {
		g.progress(t, st.Wall, true)
	}
	return st, nil
}

func (g *Generator) finish(wallStart, t time.Time) Stats {
	g.stats.SimEnd = t
	g.stats.Wall = g.now().Sub(wallStart)
	return g.stats
}

func (g *Generator) progress(t time.Time, wall time.Duration, final bool) {
	sec := wall.Seconds()
	if sec <= 0 {
		sec = 1e-9
	}
	active := ""
	for _, in := range g.inj {
		if !t.Before(in.From) && t.Before(in.To) {
			active += " " + in.Kind
		}
	}
	if active != "" {
		active = "  active:" + active
	}
	fmt.Fprintf(g.cfg.Progress, "\rsim %s  samples %d (%.0f/s)  datagrams %d (%.0f/s)%s\x1b[K",
		t.UTC().Format(time.RFC3339), g.stats.FlowSamples, float64(g.stats.FlowSamples)/sec,
		g.stats.Datagrams, float64(g.stats.Datagrams)/sec, active)
	if final {
		fmt.Fprintln(g.cfg.Progress)
	}
}

// Injections reports the scheduled anomalies with the samples each produced so far.
func (g *Generator) Injections() []Injection { return append([]Injection(nil), g.inj...) }

func (g *Generator) normalSample(t time.Time, sink Sink) error {
	f := &g.flows[g.r.IntN(len(g.flows))]
	if f.remaining <= 0 {
		g.newFlow(f)
	}
	f.remaining--
	c, s := g.pop.clients[f.client], g.pop.servers[f.server]
	p := &g.pkt
	*p = sflow.Packet{Protocol: f.svc.proto, TTL: uint8(64 - g.r.IntN(20))}
	cAddr, sAddr := c.v4, s.v4
	if f.v6 {
		cAddr, sAddr = c.v6, s.v6
	}
	toServer := g.r.Float64() < 0.4
	if f.svc.proto == 1 {
		p.SrcPort = 8 // echo request
		if !toServer {
			p.SrcPort = 0
		}
		p.Payload = 56
	} else if toServer {
		p.SrcPort, p.DstPort = f.clientPort, f.svc.port
		p.Payload = 0
		if f.svc.proto == 17 || g.r.Float64() < 0.2 {
			p.Payload = 40 + g.r.IntN(500)
		}
	} else {
		p.SrcPort, p.DstPort = f.svc.port, f.clientPort
		p.Payload = 1448
		if f.remaining < 2 || g.r.Float64() < 0.25 {
			p.Payload = 100 + g.r.IntN(1300)
		}
		if f.svc.proto == 17 && f.svc.port == 53 {
			p.Payload = 60 + g.r.IntN(400)
		}
	}
	if f.svc.proto == 6 {
		switch x := g.r.IntN(100); {
		case x < 2:
			p.TCPFlags, p.Payload = 0x02, 0 // SYN (or SYN-ACK below)
			if !toServer {
				p.TCPFlags = 0x12
			}
		case x < 4:
			p.TCPFlags, p.Payload = 0x11, 0 // FIN-ACK
		case p.Payload > 0:
			p.TCPFlags = 0x18
		default:
			p.TCPFlags = 0x10
		}
	}
	if toServer {
		p.SrcIP, p.DstIP = cAddr, sAddr
	} else {
		p.SrcIP, p.DstIP = sAddr, cAddr
	}
	if f.v6 && p.Protocol == 1 {
		p.Protocol = 58
		if toServer {
			p.SrcPort = 128
		} else {
			p.SrcPort = 129
		}
	}
	return g.emit(g.agentOf(f.server), f.server, toServer, t, sink)
}

func (g *Generator) anomalySamples(k int, t time.Time, base, tickSec float64, sink Sink) error {
	in := &g.inj[k]
	if t.Before(in.From) || !t.Before(in.To) {
		return nil
	}
	server, isServer := g.serverAddr[in.Target]
	ag := 0
	if isServer {
		ag = g.agentOf(server)
	}
	var n int
	switch in.Kind {
	case KindDDoS:
		n = g.count(in.Factor * base * tickSec)
	case KindPortscan:
		n = g.count(in.Factor * 100 / 60 * tickSec)
	case KindRamp:
		progress := float64(t.Sub(in.From)) / float64(in.To.Sub(in.From))
		n = g.count(base / float64(len(g.pop.servers)) * (in.Factor - 1) * progress * tickSec)
	default:
		return nil
	}
	for i := 0; i < n; i++ {
		p := &g.pkt
		*p = sflow.Packet{DstIP: in.Target, TTL: uint8(40 + g.r.IntN(80))}
		switch in.Kind {
		case KindDDoS:
			p.SrcIP = g.attackers[k][g.r.IntN(len(g.attackers[k]))]
			if g.r.IntN(2) == 0 { // UDP reflection
				p.Protocol = 17
				p.SrcPort = [...]uint16{53, 123, 1900, 11211}[g.r.IntN(4)]
				p.DstPort = uint16(1024 + g.r.IntN(64000))
				p.Payload = 1200 + g.r.IntN(272)
			} else { // SYN flood
				p.Protocol, p.TCPFlags = 6, 0x02
				p.SrcPort, p.DstPort = uint16(1024+g.r.IntN(64000)), 80
			}
		case KindPortscan:
			p.SrcIP = g.scanSrc[k]
			p.Protocol, p.TCPFlags = 6, 0x02
			p.SrcPort, p.DstPort = 40000+uint16(k), g.scanPort[k]
			g.scanPort[k]++
			if g.scanPort[k] == 0 {
				g.scanPort[k] = 1
			}
		case KindRamp:
			c := g.pop.clients[g.r.IntN(len(g.pop.clients))]
			p.SrcIP = c.v4
			if !in.Target.Is4() {
				p.SrcIP = c.v6
				if !p.SrcIP.IsValid() {
					p.SrcIP = g.pop.clients[0].v6
				}
			}
			p.Protocol, p.TCPFlags = 6, 0x18
			p.SrcPort, p.DstPort = uint16(32768+g.r.IntN(28000)), 443
			p.Payload = 200 + g.r.IntN(1200)
		}
		if !p.SrcIP.IsValid() || p.SrcIP.Is4() != p.DstIP.Is4() {
			continue // no source of the target's family
		}
		before := g.stats.FlowSamples
		if err := g.emit(ag, server, true, t, sink); err != nil {
			return err
		}
		in.Samples += g.stats.FlowSamples - before
	}
	return nil
}

// maxDatagram keeps datagrams within a 1500-byte MTU with IP and UDP headers.
const (
	maxDatagram       = 1400
	counterSampleSize = 8 + 16 + 96 + 60
)

// emit adds g.pkt as a flow sample on agent ag (unless that agent is down).
func (g *Generator) emit(ag, server int, toServer bool, t time.Time, sink Sink) error {
	if g.failed(ag, t) {
		return nil
	}
	a := g.agents[ag]
	p := &g.pkt
	serverIf := uint32(1 + (server/len(g.agents))%8)
	const uplink = 48
	in, out := uint32(uplink), serverIf
	if !toServer {
		in, out = serverIf, uplink
	}
	// Servers sit behind the agent's gateway: one MAC per server, one per gateway.
	serverMAC := [6]byte{0x52, 0x54, 0x00, 0x10, byte(server >> 8), byte(server)}
	gatewayMAC := [6]byte{0x00, 0x1c, 0x73, 0x00, 0x00, byte(1 + ag)}
	if toServer {
		p.SrcMAC, p.DstMAC = gatewayMAC, serverMAC
	} else {
		p.SrcMAC, p.DstMAC = serverMAC, gatewayMAC
	}
	if a.vlan != 0 {
		g.vlans[0] = a.vlan
		p.VLANs = g.vlans[:]
	}
	var frameLen int
	g.frame, frameLen = sflow.AppendFrame(g.frame[:0], p, 128)
	// A flow sample is the frame plus at most 96 bytes of headers and records.
	if a.b.Samples() > 0 && a.b.Len()+len(g.frame)+96 > maxDatagram {
		if err := g.flush(ag, t, sink); err != nil {
			return err
		}
	}
	if a.b.Samples() == 0 {
		g.begin(a, t)
	}
	a.sampleSeq++
	a.pool += g.cfg.SamplingRate
	a.b.BeginFlowSample(sflow.FlowSampleHeader{Expanded: a.expanded, SequenceNo: a.sampleSeq, SourceIDIndex: in,
		SamplingRate: g.cfg.SamplingRate, SamplePool: a.pool, InputPort: in, OutputPort: out})
	a.b.RawHeader(sflow.HeaderProtoEthernet, uint32(frameLen), 4, g.frame)
	if a.expanded {
		a.b.ExtendedSwitch(uint32(a.vlan), 0, uint32(a.vlan), 0)
	}
	a.b.EndSample()
	g.stats.FlowSamples++
	g.account(a, in, out, frameLen)
	return nil
}

func (g *Generator) account(a *agent, in, out uint32, frameLen int) {
	for _, x := range [2]uint32{in, out} {
		if a.ifs[x] == nil {
			a.ifs[x] = &ifCounters{}
		}
	}
	n := uint64(g.cfg.SamplingRate)
	a.ifs[in].inOctets += uint64(frameLen) * n
	a.ifs[in].inPkts += uint32(n)
	a.ifs[out].outOctets += uint64(frameLen) * n
	a.ifs[out].outPkts += uint32(n)
}

func (g *Generator) begin(a *agent, t time.Time) {
	a.seq++
	uptime := uint32(t.Sub(g.cfg.Start).Milliseconds() + 86_400_000) // agents booted a day before
	a.b.Begin(a.addr, 0, a.seq, uptime)
}

func (g *Generator) flush(ag int, t time.Time, sink Sink) error {
	a := g.agents[ag]
	if a.b.Samples() == 0 {
		return nil
	}
	g.stats.Datagrams++
	err := sink.Datagram(t, a.addr, a.b.Bytes())
	a.b.Begin(a.addr, 0, 0, 0) // empty it, keeping the buffer; begin() sets the real header
	if err != nil {
		return fmt.Errorf("gen: sink: %w", err)
	}
	return nil
}

// counterSamples emits one counter sample per known interface per agent, in
// ifIndex order for determinism.
func (g *Generator) counterSamples(t time.Time, sink Sink) error {
	for ag, a := range g.agents {
		if g.failed(ag, t) {
			continue
		}
		for ifIndex := uint32(1); ifIndex <= 48; ifIndex++ {
			c := a.ifs[ifIndex]
			if c == nil {
				continue
			}
			if a.b.Samples() > 0 && a.b.Len()+counterSampleSize > maxDatagram {
				if err := g.flush(ag, t, sink); err != nil {
					return err
				}
			}
			if a.b.Samples() == 0 {
				g.begin(a, t)
			}
			a.cntrSeq++
			speed := uint64(10_000_000_000)
			if ifIndex == 48 {
				speed = 100_000_000_000
			}
			a.b.BeginCounterSample(sflow.CounterSampleHeader{Expanded: a.expanded, SequenceNo: a.cntrSeq, SourceIDIndex: ifIndex})
			a.b.GenericInterface(&sflow.IfCounters{IfIndex: ifIndex, IfType: 6, IfSpeed: speed, IfDirection: 1, IfStatus: 3,
				IfInOctets: c.inOctets, IfInUcastPkts: c.inPkts, IfOutOctets: c.outOctets, IfOutUcastPkts: c.outPkts})
			a.b.Ethernet(&sflow.EthernetCounters{})
			a.b.EndSample()
			g.stats.CounterSamples++
		}
	}
	return nil
}

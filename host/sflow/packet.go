package sflow

import (
	"encoding/binary"
	"net/netip"
)

// Packet describes a frame to synthesize for a raw packet header record.
type Packet struct {
	SrcMAC, DstMAC [6]byte
	VLANs          []uint16 // outermost first; each adds an 802.1Q tag
	SrcIP, DstIP   netip.Addr
	Protocol       uint8  // 1 ICMP, 6 TCP, 17 UDP, 58 ICMPv6, other: no L4 header
	TOS            uint8  // IPv4 TOS or IPv6 traffic class
	TTL            uint8  // or hop limit
	SrcPort        uint16 // ICMP type for ICMP
	DstPort        uint16 // ICMP code for ICMP
	TCPFlags       uint8
	FragmentOffset uint16 // in 8-byte units; non-zero means no L4 header
	Payload        int    // L4 payload bytes (not materialised, only counted)
}

// AppendFrame appends the first snap bytes of the Ethernet frame p describes
// and returns the frame's full length on the wire, including a 4-byte FCS
// (so RawHeader(HeaderProtoEthernet, frameLen, 4, hdr) matches what a switch
// exports).
func AppendFrame(dst []byte, p *Packet, snap int) (out []byte, frameLen int) {
	start := len(dst)
	dst = append(dst, p.DstMAC[:]...)
	dst = append(dst, p.SrcMAC[:]...)
	for _, v := range p.VLANs {
		dst = binary.BigEndian.AppendUint16(dst, 0x8100)
		dst = binary.BigEndian.AppendUint16(dst, v&0x0fff)
	}
	l4 := 0
	if p.FragmentOffset == 0 {
		switch p.Protocol {
		case 6:
			l4 = 20
		case 17, 1, 58:
			l4 = 8
		}
	}
	ipLen := l4 + p.Payload
	if p.SrcIP.Is4() {
		ipLen += 20
		dst = binary.BigEndian.AppendUint16(dst, 0x0800)
		ip := len(dst)
		dst = append(dst, 0x45, p.TOS)
		dst = binary.BigEndian.AppendUint16(dst, uint16(ipLen))
		dst = append(dst, 0x1c, 0x46) // identification
		dst = binary.BigEndian.AppendUint16(dst, 0x4000|p.FragmentOffset&0x1fff)
		dst = append(dst, p.TTL, p.Protocol, 0, 0)
		s, d := p.SrcIP.As4(), p.DstIP.As4()
		dst = append(dst, s[:]...)
		dst = append(dst, d[:]...)
		binary.BigEndian.PutUint16(dst[ip+10:], ipv4Checksum(dst[ip:ip+20]))
	} else {
		ipLen += 40
		dst = binary.BigEndian.AppendUint16(dst, 0x86DD)
		dst = append(dst, 0x60|p.TOS>>4, p.TOS<<4, 0, 0)
		dst = binary.BigEndian.AppendUint16(dst, uint16(ipLen-40))
		dst = append(dst, p.Protocol, p.TTL)
		s, d := p.SrcIP.As16(), p.DstIP.As16()
		dst = append(dst, s[:]...)
		dst = append(dst, d[:]...)
	}
	if p.FragmentOffset == 0 {
		switch p.Protocol {
		case 6:
			dst = binary.BigEndian.AppendUint16(dst, p.SrcPort)
			dst = binary.BigEndian.AppendUint16(dst, p.DstPort)
			dst = append(dst, 0x3a, 0x1b, 0x2c, 0x01, 0, 0, 0, 0) // seq, ack
			if p.TCPFlags&0x10 != 0 {
				copy(dst[len(dst)-4:], []byte{0x5e, 0x10, 0x77, 0x02})
			}
			dst = append(dst, 0x50, p.TCPFlags, 0xfa, 0xf0, 0, 0, 0, 0)
		case 17:
			dst = binary.BigEndian.AppendUint16(dst, p.SrcPort)
			dst = binary.BigEndian.AppendUint16(dst, p.DstPort)
			dst = binary.BigEndian.AppendUint16(dst, uint16(8+p.Payload))
			dst = append(dst, 0, 0)
		case 1, 58:
			dst = append(dst, uint8(p.SrcPort), uint8(p.DstPort), 0, 0, 0x12, 0x34, 0, 1)
		}
	}
	// Payload bytes: a recognisable filler, only as far as the snap length.
	hdrLen := len(dst) - start
	frameLen = hdrLen + p.Payload + 4
	if min := 64; frameLen < min {
		frameLen = min // Ethernet pads short frames
	}
	for i := 0; len(dst)-start < snap && i < p.Payload; i++ {
		dst = append(dst, byte('a'+i%23))
	}
	if len(dst)-start > snap {
		dst = dst[:start+snap]
	}
	return dst, frameLen
}

func ipv4Checksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i < len(h); i += 2 {
		sum += uint32(h[i])<<8 | uint32(h[i+1])
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

package main

import (
	"math"
	"math/bits"
	"sync"
)

// wyrand is a small, fast 64-bit generator (wyhash's PRNG step); ample
// for benchmark data, several times faster than math/rand/v2 through its
// interface.
type wyrand struct{ s uint64 }

func newRand(seed uint64) *wyrand { return &wyrand{s: mix(seed, 0x77797261)} }

func (r *wyrand) Uint64() uint64 {
	r.s += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(r.s, r.s^0xe7037ed1a0b428db)
	return hi ^ lo
}

// IntN returns a value in [0, n) for 0 < n < 2^32.
func (r *wyrand) IntN(n int) int {
	return int((uint64(uint32(r.Uint64())) * uint64(n)) >> 32)
}

// ExpFloat64 returns an exponentially distributed value with mean 1.
func (r *wyrand) ExpFloat64() float64 {
	return -math.Log((float64(r.Uint64()>>11) + 0.5) / (1 << 53))
}

// bf16Table samples the bf16 values that truncating float32 samples of
// N(0, sigma) yields, with their exact probabilities (to 2^-18 per
// bucket), by the alias method: 32 random bits per value instead of a
// Gaussian sample.
type bf16Table struct {
	e []aliasEntry
}

// aliasEntry is one bucket: keep value when the 18-bit threshold is below
// prob, else take alias. Packed so a sample touches one cache line.
type aliasEntry struct {
	prob         uint32
	value, alias uint16
}

var (
	bf16Once sync.Once
	bf16Tab  *bf16Table
)

// getBF16Table builds the N(0, 0.02) table once.
func getBF16Table() *bf16Table {
	bf16Once.Do(func() { bf16Tab = newBF16Table(0.02) })
	return bf16Tab
}

func newBF16Table(sigma float64) *bf16Table {
	// Magnitude |x| lands in pattern p when p's float32 ≤ |x| < the next
	// pattern's (truncation toward zero). Cover up to 12 sigma.
	cdf := func(x float64) float64 { return math.Erf(x / (sigma * math.Sqrt2)) } // P(|X| < x)
	var vals []uint16
	var ps []float64
	for p := uint32(0); ; p++ {
		lo := float64(math.Float32frombits(p << 16))
		hi := float64(math.Float32frombits((p + 1) << 16))
		if lo > 12*sigma {
			break
		}
		if q := cdf(hi) - cdf(lo); q > 0 {
			vals = append(vals, uint16(p))
			ps = append(ps, q)
		}
	}
	// Vose's alias method.
	n := len(vals)
	t := &bf16Table{e: make([]aliasEntry, n)}
	sum := 0.0
	for _, q := range ps {
		sum += q
	}
	scaled := make([]float64, n)
	var small, large []int
	for i, q := range ps {
		t.e[i].value = vals[i]
		scaled[i] = q / sum * float64(n)
		if scaled[i] < 1 {
			small = append(small, i)
		} else {
			large = append(large, i)
		}
	}
	for len(small) > 0 && len(large) > 0 {
		s, l := small[len(small)-1], large[len(large)-1]
		small = small[:len(small)-1]
		t.e[s].prob = uint32(scaled[s] * (1 << 18))
		t.e[s].alias = vals[l]
		scaled[l] -= 1 - scaled[s]
		if scaled[l] < 1 {
			large = large[:len(large)-1]
			small = append(small, l)
		}
	}
	for _, i := range append(small, large...) {
		t.e[i].prob = 1 << 18
		t.e[i].alias = vals[i]
	}
	return t
}

// sample2 returns two bf16 bit patterns (with random signs) from one
// 64-bit random number: per half, 13 bits of bucket, 18 of threshold,
// 1 of sign.
func (t *bf16Table) sample2(r *wyrand) (uint16, uint16) {
	u := r.Uint64()
	return t.pick(uint32(u)), t.pick(uint32(u >> 32))
}

func (t *bf16Table) pick(h uint32) uint16 {
	e := &t.e[uint64(h>>19)*uint64(len(t.e))>>13]
	v := e.value
	if (h>>1)&(1<<18-1) >= e.prob {
		v = e.alias
	}
	return v | uint16(h&1)<<15
}

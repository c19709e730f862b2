// Package linear is the finance model: a multinomial logistic regression
// over the features of package features, and its compact file format.
package linear

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
)

const k = int(dataset.NumClasses)

// Model scores a feature vector. W holds one weight per (slot, class), slot
// major, dense over the hashed space so scoring is an array index per
// feature, not a map lookup.
type Model struct {
	Extractor features.Extractor // its Movie field is set by the loader
	W         []float32
	Bias      [k]float32
	Info      string // provenance, written by the generator
}

// Logits are the unnormalised class scores of fs.
func (m *Model) Logits(fs []features.Feature) [k]float64 {
	var z [k]float64
	for c := range z {
		z[c] = float64(m.Bias[c])
	}
	for _, f := range fs {
		w := m.W[int(f.Index)*k : int(f.Index)*k+k]
		for c := range z {
			z[c] += float64(w[c] * f.Value)
		}
	}
	return z
}

// Softmax turns logits into probabilities.
func Softmax(z [k]float64) [k]float64 {
	top := max(z[0], z[1], z[2])
	var p [k]float64
	var sum float64
	for c := range z {
		p[c] = math.Exp(z[c] - top)
		sum += p[c]
	}
	for c := range p {
		p[c] /= sum
	}
	return p
}

// The file: magic, extractor settings, bias, info, then the non-zero slots
// as (index delta, three int16 weights) with one shared scale. int16 keeps
// the file and its load small; the rounding error (< 1e-4 of the largest
// weight) changes no prediction on valid.csv.
const magic = "brokersync-sentiment-linear/1\n"

// Encode writes m deterministically: equal models give equal bytes.
func (m *Model) Encode() []byte {
	var b bytes.Buffer
	b.WriteString(magic)
	u := func(v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
	f32 := func(v float32) { b.Write(binary.LittleEndian.AppendUint32(nil, math.Float32bits(v))) }
	e := m.Extractor
	u(uint64(e.Bits))
	var flags uint64
	if e.Stems {
		flags |= 1
	}
	u(flags)
	b.Write(binary.LittleEndian.AppendUint64(nil, math.Float64bits(e.MovieDiv)))
	for _, v := range m.Bias {
		f32(v)
	}
	u(uint64(len(m.Info)))
	b.WriteString(m.Info)

	var top float32
	for _, w := range m.W {
		top = max(top, abs(w))
	}
	scale := top / math.MaxInt16
	if scale == 0 {
		scale = 1
	}
	f32(scale)
	var slots []int
	q := make([]int16, len(m.W))
	for s := 0; s < len(m.W)/k; s++ {
		nz := false
		for c := range k {
			q[s*k+c] = int16(math.Round(float64(m.W[s*k+c] / scale)))
			nz = nz || q[s*k+c] != 0
		}
		if nz {
			slots = append(slots, s)
		}
	}
	u(uint64(len(slots)))
	prev := 0
	for _, s := range slots {
		u(uint64(s - prev))
		prev = s
		for c := range k {
			b.Write(binary.LittleEndian.AppendUint16(nil, uint16(q[s*k+c])))
		}
	}
	return b.Bytes()
}

// Decode reads a model written by Encode.
func Decode(data []byte) (*Model, error) {
	if !bytes.HasPrefix(data, []byte(magic)) {
		return nil, errors.New("linear: not a sentiment model file")
	}
	d := decoder{buf: data[len(magic):]}
	m := &Model{}
	bits := d.uvarint()
	if bits < 8 || bits > 24 {
		return nil, fmt.Errorf("linear: hashed space of 2^%d slots is out of range", bits)
	}
	m.Extractor.Bits = uint8(bits)
	flags := d.uvarint()
	if flags&^1 != 0 {
		return nil, fmt.Errorf("linear: unknown feature flags %#x", flags)
	}
	m.Extractor.Stems = flags&1 != 0
	m.Extractor.MovieDiv = math.Float64frombits(d.uint64())
	for c := range m.Bias {
		m.Bias[c] = d.float32()
	}
	m.Info = string(d.bytes(int(d.uvarint())))
	scale := d.float32()
	dim := m.Extractor.Dim()
	m.W = make([]float32, dim*k)
	n := int(d.uvarint())
	s := 0
	for range n {
		s += int(d.uvarint())
		if s >= dim || d.err != nil {
			return nil, errors.New("linear: corrupt model file: slot out of range")
		}
		for c := range k {
			m.W[s*k+c] = float32(int16(d.uint16())) * scale
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("linear: corrupt model file: %w", d.err)
	}
	if len(d.buf) != 0 {
		return nil, errors.New("linear: corrupt model file: trailing bytes")
	}
	return m, nil
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.buf) {
		d.err = errors.New("truncated")
		if n > 8 || n < 0 {
			return nil
		}
		return make([]byte, n) // zeros, so fixed-size reads need no check
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.err = errors.New("truncated")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) bytes(n int) []byte { return d.take(n) }
func (d *decoder) uint16() uint16     { return binary.LittleEndian.Uint16(d.take(2)) }
func (d *decoder) uint64() uint64     { return binary.LittleEndian.Uint64(d.take(8)) }
func (d *decoder) float32() float32 {
	return math.Float32frombits(binary.LittleEndian.Uint32(d.take(4)))
}

func abs(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

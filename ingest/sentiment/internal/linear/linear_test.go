package linear

import (
	"bytes"
	"math"
	"testing"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
)

func TestEncodeDecodeRoundTrip(t *testing.T) {
	m := &Model{
		Extractor: features.Extractor{Bits: 10, MovieDiv: 8, Stems: true},
		W:         make([]float32, 1024*3),
		Bias:      [3]float32{-1.5, 3, -0.25},
		Info:      "test model",
	}
	m.W[0], m.W[5], m.W[3000] = 2.5, -1.25, 0.001
	data := m.Encode()
	if !bytes.Equal(data, m.Encode()) {
		t.Fatal("Encode is not deterministic")
	}
	got, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.Extractor != m.Extractor || got.Bias != m.Bias || got.Info != m.Info {
		t.Errorf("header: got %+v %v %q", got.Extractor, got.Bias, got.Info)
	}
	for i := range m.W {
		if math.Abs(float64(got.W[i]-m.W[i])) > 2.5/32767 {
			t.Fatalf("W[%d] = %v, want %v", i, got.W[i], m.W[i])
		}
	}
	// Every prefix of a valid file is an error, never a panic or a model.
	for n := 0; n < len(data); n++ {
		if _, err := Decode(data[:n]); err == nil {
			t.Fatalf("Decode of %d of %d bytes succeeded", n, len(data))
		}
	}
}

func TestSoftmax(t *testing.T) {
	p := Softmax([3]float64{1000, 1000, -1000})
	if math.Abs(p[0]-0.5) > 1e-12 || math.Abs(p[1]-0.5) > 1e-12 || p[2] != 0 {
		t.Errorf("Softmax overflowed or is wrong: %v", p)
	}
}

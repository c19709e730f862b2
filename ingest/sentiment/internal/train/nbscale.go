package train

import (
	"math"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
)

// nbScale is |r| + floor per (slot, class), where r is the one-vs-rest naive
// Bayes log-count ratio of the slot for the class (add-one smoothing). The
// floor keeps words that tell the classes apart poorly trainable. Dense
// slots and the bias get 1.
func nbScale(rows []dataset.Row, docs [][]features.Feature, slots []uint32, used map[uint32]int, floor float64) []float64 {
	counts := make([][k]float64, len(slots))
	var totals [k]float64
	for i, d := range docs {
		c := rows[i].Class
		for _, f := range d {
			if f.Index < features.NumDense {
				continue
			}
			counts[used[f.Index]][c]++
			totals[c]++
		}
	}
	var all float64
	for _, t := range totals {
		all += t
	}
	scale := make([]float64, len(slots)*k+k)
	for j, s := range slots {
		for c := range k {
			if s < features.NumDense {
				scale[j*k+c] = 1
				continue
			}
			var rest float64
			for o := range k {
				if o != c {
					rest += counts[j][o]
				}
			}
			p := (counts[j][c] + 1) / (totals[c] + float64(len(slots)))
			q := (rest + 1) / (all - totals[c] + float64(len(slots)))
			scale[j*k+c] = math.Abs(math.Log(p/q)) + floor
		}
	}
	for c := range k {
		scale[len(slots)*k+c] = 1 // bias
	}
	return scale
}

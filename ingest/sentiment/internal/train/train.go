// Package train fits the finance model on labelled rows. The generator
// (../gen) runs it on train.csv; tests run it to check that the embedded
// model is exactly what the generator produces.
package train

import (
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/features"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/linear"
)

const k = int(dataset.NumClasses)

type example struct {
	feats []features.Feature // indexes into the compact parameter space
	class int
}

// Train fits a multinomial logistic regression on rows. Offsets are not
// applied (see Generate).
func Train(rows []dataset.Row, cfg Config) *linear.Model {
	ex := cfg.Extractor
	var sc features.Scratch
	docs := make([][]features.Feature, len(rows))
	for i, r := range rows {
		docs[i] = slices.Clone(ex.Extract(r.Text, &sc))
	}
	// Optimise only over slots the training rows use; the rest stay zero.
	used := map[uint32]int{}
	var slots []uint32
	for _, d := range docs {
		for _, f := range d {
			if _, ok := used[f.Index]; !ok {
				used[f.Index] = 0
				slots = append(slots, f.Index)
			}
		}
	}
	slices.Sort(slots)
	for j, s := range slots {
		used[s] = j
	}
	obj := objective{
		examples: make([]example, len(rows)),
		dense:    make([]bool, len(slots)),
		cfg:      cfg,
		weight:   classWeights(rows, cfg.Balance),
	}
	for i, d := range docs {
		fs := make([]features.Feature, len(d))
		for n, f := range d {
			fs[n] = features.Feature{Index: uint32(used[f.Index]), Value: f.Value}
		}
		obj.examples[i] = example{feats: fs, class: int(rows[i].Class)}
		obj.totalWeight += obj.weight[rows[i].Class]
	}
	for j, s := range slots {
		obj.dense[j] = s < features.NumDense
	}

	x := make([]float64, len(slots)*k+k)
	if cfg.NBScale > 0 {
		scale := nbScale(rows, docs, slots, used, cfg.NBScale)
		minimize(obj.scaled(scale), x, cfg.MaxIter)
		for i, s := range scale {
			x[i] *= s
		}
	} else {
		minimize(obj.eval, x, cfg.MaxIter)
	}

	m := &linear.Model{Extractor: ex, W: make([]float32, ex.Dim()*k)}
	m.Extractor.Movie = nil
	for j, s := range slots {
		for c := range k {
			m.W[int(s)*k+c] = float32(x[j*k+c])
		}
	}
	for c := range k {
		m.Bias[c] = float32(x[len(slots)*k+c])
	}
	return m
}

func classWeights(rows []dataset.Row, balance float64) [k]float64 {
	var n [k]float64
	for _, r := range rows {
		n[r.Class]++
	}
	var w [k]float64
	for c := range w {
		if n[c] > 0 {
			w[c] = math.Pow(float64(len(rows))/(float64(k)*n[c]), balance)
		}
	}
	return w
}

type objective struct {
	examples []example
	dense    []bool // per compact slot: a dense feature?
	cfg      Config
	weight   [k]float64 // per class
	// totalWeight is the sum of the examples' class weights.
	totalWeight float64
}

// eval is the class-weighted mean cross-entropy; with penalty, plus the L2
// penalties. The bias (the last k values of x) is not penalised.
func (o *objective) eval(x, g []float64) float64 {
	loss := o.data(x, g)
	o.penalty(x, g, &loss)
	return loss
}

func (o *objective) data(x, g []float64) float64 {
	clear(g)
	nw := len(o.dense) * k
	bias := x[nw:]
	var loss float64
	for _, e := range o.examples {
		var z [k]float64
		copy(z[:], bias)
		for _, f := range e.feats {
			w := x[int(f.Index)*k:]
			for c := range k {
				z[c] += float64(w[c] * float64(f.Value))
			}
		}
		top := max(z[0], z[1], z[2])
		var sum float64
		var p [k]float64
		for c := range k {
			p[c] = math.Exp(z[c] - top)
			sum += p[c]
		}
		cw := o.weight[e.class] / o.totalWeight
		loss += cw * (math.Log(sum) + top - z[e.class])
		for c := range k {
			d := p[c] / sum
			if c == e.class {
				d--
			}
			d *= cw
			g[nw+c] += d
			for _, f := range e.feats {
				g[int(f.Index)*k+c] += float64(d * float64(f.Value))
			}
		}
	}
	return loss
}

func (o *objective) penalty(x, g []float64, loss *float64) {
	n := float64(len(o.examples))
	for j, isDense := range o.dense {
		lambda := o.cfg.L2 / n
		if isDense {
			lambda = o.cfg.L2Dense / n
		}
		for c := range k {
			w := x[j*k+c]
			*loss += float64(0.5 * lambda * w * w)
			g[j*k+c] += float64(lambda * w)
		}
	}
}

// scaled is the objective in NBSVM's parametrisation (Wang & Manning,
// 2012): the weight of (slot, class) is scale·w and the L2 penalty is on
// w, so words with a large naive Bayes log-count ratio are penalised less
// and rare but telling words ("downgrade", "plunges") keep their weight.
// Multiplying scale into the solution afterwards gives an ordinary model.
func (o *objective) scaled(scale []float64) func(x, g []float64) float64 {
	var sx []float64
	return func(x, g []float64) float64 {
		sx = append(sx[:0], x...)
		for i, s := range scale {
			sx[i] *= s
		}
		loss := o.data(sx, g)
		for i, s := range scale {
			g[i] *= s
		}
		o.penalty(x, g, &loss)
		return loss
	}
}

// CrossValidate trains on all but one of folds parts of rows and scores
// the held-out part, for each part, returning the out-of-fold logits of
// every row. Rows go to folds round-robin, so the split is fixed by the
// file's order. Folds train in parallel; the result does not depend on it.
func CrossValidate(rows []dataset.Row, cfg Config, folds int) [][k]float64 {
	logits := make([][k]float64, len(rows))
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for f := range folds {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			var tr []dataset.Row
			for i, r := range rows {
				if i%folds != f {
					tr = append(tr, r)
				}
			}
			m := Train(tr, cfg)
			var sc features.Scratch
			for i := f; i < len(rows); i += folds {
				logits[i] = m.Logits(cfg.Extractor.Extract(rows[i].Text, &sc))
			}
		})
	}
	wg.Wait()
	return logits
}

// Confusion tallies argmax(logits + offset) against the rows' classes.
func Confusion(rows []dataset.Row, logits [][k]float64, offset [k]float64) dataset.Confusion {
	var cm dataset.Confusion
	for i, z := range logits {
		best := 0
		for c := range z {
			if z[c]+offset[c] > z[best]+offset[best] {
				best = c
			}
		}
		cm.Add(rows[i].Class, dataset.Class(best))
	}
	return cm
}

// FoldConfusions tallies, for each of folds parts of CrossValidate's split,
// argmax(logits + offset) of that part's held-out rows, so a reader can see
// how much the figure varies between folds.
func FoldConfusions(rows []dataset.Row, logits [][k]float64, offset [k]float64, folds int) []dataset.Confusion {
	cms := make([]dataset.Confusion, folds)
	for f := range cms {
		var part []dataset.Row
		var z [][k]float64
		for i := f; i < len(rows); i += folds {
			part, z = append(part, rows[i]), append(z, logits[i])
		}
		cms[f] = Confusion(part, z, offset)
	}
	return cms
}

// TuneOffsets finds the shifts of the negative and positive logits (the
// neutral one stays put), in steps of 0.05, that maximise macro-F1 over
// out-of-fold logits.
func TuneOffsets(rows []dataset.Row, logits [][k]float64) ([k]float64, float64) {
	var best [k]float64
	bestF1 := Confusion(rows, logits, best).MacroF1()
	for neg := -20; neg <= 30; neg++ {
		for pos := -20; pos <= 30; pos++ {
			off := [k]float64{float64(neg) / 20, 0, float64(pos) / 20}
			if f1 := Confusion(rows, logits, off).MacroF1(); f1 > bestF1+1e-12 {
				best, bestF1 = off, f1
			}
		}
	}
	return best, bestF1
}

// Predict is the argmax class of one text under m.
func Predict(m *linear.Model, text string, sc *features.Scratch) dataset.Class {
	z := m.Logits(m.Extractor.Extract(text, sc))
	best := 0
	for c := range z {
		if z[c] > z[best] {
			best = c
		}
	}
	return dataset.Class(best)
}

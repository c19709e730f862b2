package dataset

// Confusion counts predictions: Confusion[actual][predicted].
type Confusion [NumClasses][NumClasses]int

// Add records one prediction.
func (m *Confusion) Add(actual, predicted Class) { m[actual][predicted]++ }

// Total is the number of predictions recorded.
func (m Confusion) Total() int {
	n := 0
	for a := range m {
		for p := range m[a] {
			n += m[a][p]
		}
	}
	return n
}

// Accuracy is the share of correct predictions.
func (m Confusion) Accuracy() float64 {
	n, ok := m.Total(), 0
	if n == 0 {
		return 0
	}
	for c := range m {
		ok += m[c][c]
	}
	return float64(ok) / float64(n)
}

// PRF is the precision, recall and F1 of class c; a class never predicted
// (or never present) scores 0, as in scikit-learn's zero_division=0.
func (m Confusion) PRF(c Class) (precision, recall, f1 float64) {
	tp := m[c][c]
	var predicted, actual int
	for o := range m {
		predicted += m[o][c]
		actual += m[c][o]
	}
	if predicted > 0 {
		precision = float64(tp) / float64(predicted)
	}
	if actual > 0 {
		recall = float64(tp) / float64(actual)
	}
	if precision+recall > 0 {
		f1 = 2 * precision * recall / (precision + recall)
	}
	return precision, recall, f1
}

// MacroF1 is the unweighted mean of the three classes' F1: a model that
// ignores the minority classes cannot score well on it.
func (m Confusion) MacroF1() float64 {
	var sum float64
	for c := Class(0); c < NumClasses; c++ {
		_, _, f1 := m.PRF(c)
		sum += f1
	}
	return sum / float64(NumClasses)
}

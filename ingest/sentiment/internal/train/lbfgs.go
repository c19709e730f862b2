package train

import "math"

// minimize runs L-BFGS on a smooth convex objective. f writes the gradient
// at x into g and returns the value. Full-batch and seedless, so the same
// data always gives the same weights: the generator's output is
// byte-reproducible, which stochastic gradient descent would not promise.
//
// The arithmetic avoids fused multiply-adds (explicit float64 conversions
// round each product), because a fused build would round differently.
func minimize(f func(x, g []float64) float64, x []float64, maxIter int) {
	const (
		memory = 10
		tol    = 1e-9 // relative decrease treated as converged
	)
	n := len(x)
	g := make([]float64, n)
	fx := f(x, g)
	var s, y [][]float64
	var rho []float64
	dir := make([]float64, n)
	xNew := make([]float64, n)
	gNew := make([]float64, n)
	alpha := make([]float64, memory)
	stalls := 0
	for iter := 0; iter < maxIter; iter++ {
		// Two-loop recursion: dir = -H·g.
		copy(dir, g)
		for i := len(s) - 1; i >= 0; i-- {
			alpha[i] = rho[i] * dot(s[i], dir)
			axpy(-alpha[i], y[i], dir)
		}
		if len(s) > 0 {
			last := len(s) - 1
			scale(dot(s[last], y[last])/dot(y[last], y[last]), dir)
		} else {
			scale(1/math.Sqrt(dot(g, g)), dir)
		}
		for i := range s {
			beta := rho[i] * dot(y[i], dir)
			axpy(alpha[i]-beta, s[i], dir)
		}
		scale(-1, dir)
		slope := dot(g, dir)
		if slope >= 0 { // not a descent direction: restart from steepest descent
			s, y, rho = s[:0], y[:0], rho[:0]
			copy(dir, g)
			scale(-1/math.Sqrt(dot(g, g)), dir)
			slope = dot(g, dir)
		}

		// Backtracking line search (Armijo).
		step := 1.0
		var fNew float64
		for {
			for i := range x {
				xNew[i] = x[i] + float64(step*dir[i])
			}
			fNew = f(xNew, gNew)
			if fNew <= fx+float64(1e-4*step*slope) || step < 1e-10 {
				break
			}
			step /= 2
		}

		sk := make([]float64, n)
		yk := make([]float64, n)
		for i := range x {
			sk[i] = xNew[i] - x[i]
			yk[i] = gNew[i] - g[i]
		}
		if sy := dot(sk, yk); sy > 1e-12 {
			if len(s) == memory {
				s, y, rho = s[1:], y[1:], rho[1:]
			}
			s, y, rho = append(s, sk), append(y, yk), append(rho, 1/sy)
		}
		decrease := (fx - fNew) / math.Max(math.Abs(fx), 1)
		copy(x, xNew)
		copy(g, gNew)
		fx = fNew
		if decrease < tol {
			stalls++
			if stalls == 3 {
				return
			}
		} else {
			stalls = 0
		}
	}
}

func dot(a, b []float64) float64 {
	var s float64
	for i := range a {
		s += float64(a[i] * b[i])
	}
	return s
}

func axpy(a float64, x, y []float64) {
	for i := range x {
		y[i] += float64(a * x[i])
	}
}

func scale(a float64, x []float64) {
	for i := range x {
		x[i] *= a
	}
}

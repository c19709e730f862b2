package sentiment

import _ "embed" // the models below

// The models are generated from testdata/twitter-financial-news/train.csv
// and cdipaolo/sentiment's bundled model; both files are deterministic, and
// TestEmbeddedModelIsReproducible checks they match a fresh build.
//
//go:generate go run ./internal/gen -out finance.model -movie-out cdipaolo.model

//go:embed finance.model
var financeModel []byte

//go:embed cdipaolo.model
var cdipaoloModel []byte

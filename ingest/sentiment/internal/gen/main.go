// Command gen builds the models that package sentiment embeds:
//
//	finance.model   the finance logistic regression, trained on train.csv
//	cdipaolo.model  cdipaolo/sentiment's English naive Bayes, re-encoded
//
// go generate runs it in ingest/sentiment. The same inputs give
// byte-identical files. valid.csv is never read here.
//
// With -cv N it writes nothing and prints N-fold cross-validation figures
// for the configuration given by its flags, which is how DefaultConfig was
// chosen:
//
//	go run ./internal/gen -cv 5 -l2 0.3 -nbscale 0.5
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"time"

	cdipaolo "github.com/cdipaolo/sentiment"

	"github.com/brokersync/brokersync/ingest/sentiment/internal/dataset"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/linear"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/moviebayes"
	"github.com/brokersync/brokersync/ingest/sentiment/internal/train"
)

func main() {
	var (
		trainPath = flag.String("train", "testdata/twitter-financial-news/train.csv", "labelled training CSV")
		out       = flag.String("out", "finance.model", "finance model to write")
		movieOut  = flag.String("movie-out", "cdipaolo.model", "re-encoded cdipaolo/sentiment model to write")
		folds     = flag.Int("cv", 0, "if > 1, print an N-fold cross-validation report instead of writing models")
	)
	cfg := train.DefaultConfig()
	flag.Float64Var(&cfg.L2, "l2", cfg.L2, "L2 penalty on word weights")
	flag.Float64Var(&cfg.L2Dense, "l2dense", cfg.L2Dense, "L2 penalty on lexicon and cdipaolo weights")
	flag.Float64Var(&cfg.Balance, "balance", cfg.Balance, "class reweighting exponent, 0..1")
	flag.Float64Var(&cfg.NBScale, "nbscale", cfg.NBScale, "floor of the naive Bayes weight scaling; 0 turns it off")
	flag.Float64Var(&cfg.Extractor.MovieDiv, "moviediv", cfg.Extractor.MovieDiv, "cdipaolo log-odds divisor; 0 drops the cdipaolo feature")
	flag.BoolVar(&cfg.Extractor.Stems, "stems", cfg.Extractor.Stems, "stem features")
	bits := flag.Uint("bits", uint(cfg.Extractor.Bits), "log2 of the hashed feature space")
	flag.IntVar(&cfg.MaxIter, "iter", cfg.MaxIter, "L-BFGS iterations at most")
	flag.Parse()
	cfg.Extractor.Bits = uint8(*bits)
	log.SetFlags(0)

	lib, err := cdipaolo.Restore()
	if err != nil {
		log.Fatalf("restore cdipaolo/sentiment: %v", err)
	}
	nb := lib[cdipaolo.English]
	words, err := moviebayes.Words(nb)
	if err != nil {
		log.Fatal(err)
	}
	movieData, err := moviebayes.Export(nb, words)
	if err != nil {
		log.Fatal(err)
	}
	// Train against the re-encoded model, exactly as the runtime loads it.
	movie, err := moviebayes.Load(movieData)
	if err != nil {
		log.Fatal(err)
	}
	rows := readCSV(*trainPath)
	start := time.Now()

	if *folds > 1 {
		if cfg.Extractor.MovieDiv > 0 {
			cfg.Extractor.Movie = movie
		}
		logits := train.CrossValidate(rows, cfg, *folds)
		cm := train.Confusion(rows, logits, [3]float64{})
		fmt.Printf("%d-fold CV on %s (%s)\n", *folds, *trainPath, time.Since(start).Round(time.Millisecond))
		fmt.Printf("without offsets: accuracy %.4f macro-F1 %.4f\n", cm.Accuracy(), cm.MacroF1())
		printConfusion(cm)
		fmt.Printf("per fold, with the configured offsets %v:", cfg.Offsets)
		for _, fcm := range train.FoldConfusions(rows, logits, cfg.Offsets, *folds) {
			fmt.Printf(" %.4f", fcm.MacroF1())
		}
		fmt.Println()
		off, f1 := train.TuneOffsets(rows, logits)
		cm = train.Confusion(rows, logits, off)
		fmt.Printf("best offsets %v: accuracy %.4f macro-F1 %.4f\n", off, cm.Accuracy(), f1)
		printConfusion(cm)
		return
	}

	data := train.Generate(rows, movie, cfg)
	m, err := linear.Decode(data)
	if err != nil {
		log.Fatal(err)
	}
	// The dense weights say how far the model trusts the lexicon and
	// cdipaolo/sentiment on finance text.
	for slot, name := range []string{"lexicon+", "lexicon-", "cdipaolo"} {
		w := m.W[slot*3 : slot*3+3]
		log.Printf("weights %-9s negative %+.3f neutral %+.3f positive %+.3f", name, w[0], w[1], w[2])
	}
	write(*out, data)
	write(*movieOut, movieData)
	log.Printf("wrote %s (%d bytes) and %s (%d bytes) in %s", *out, len(data), *movieOut, len(movieData),
		time.Since(start).Round(time.Millisecond))
}

func readCSV(path string) []dataset.Row {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	rows, err := dataset.Read(f)
	if err != nil {
		log.Fatalf("%s: %v", path, err)
	}
	return rows
}

func write(path string, data []byte) {
	if err := os.WriteFile(path, data, 0o644); err != nil {
		log.Fatal(err)
	}
}

func printConfusion(cm dataset.Confusion) {
	for a := range cm {
		p, r, f1 := cm.PRF(dataset.Class(a))
		fmt.Printf("  %-8s %5d %5d %5d   P %.3f R %.3f F1 %.3f\n", dataset.Class(a), cm[a][0], cm[a][1], cm[a][2], p, r, f1)
	}
}

package main

import (
	"fmt"
	"io"
	"os"

	"github.com/brokersync/brokersync/ingest/sentiment"
)

// runSentiment scores stdin line by line, or evaluates a labelled CSV.
func runSentiment(args []string, stdin io.Reader, stdout io.Writer) error {
	switch {
	case len(args) == 0:
		model, err := sentiment.New()
		if err != nil {
			return err
		}
		return sentiment.RunLines(stdin, stdout, model)
	case len(args) == 2 && args[0] == "eval":
		f, err := os.Open(args[1])
		if err != nil {
			return err
		}
		defer f.Close()
		model, err := sentiment.New()
		if err != nil {
			return err
		}
		report, err := sentiment.Evaluate(f, model)
		if err != nil {
			return fmt.Errorf("%s: %w", args[1], err)
		}
		fmt.Fprint(stdout, report.String())
		return nil
	}
	return usageError{"usage: brokersync sentiment < texts.txt | brokersync sentiment eval FILE.csv"}
}

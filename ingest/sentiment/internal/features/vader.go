package features

import (
	_ "embed" // VADER's lexicon, below
	"strconv"
	"strings"
)

// vaderLexicon is VADER's general-English lexicon (Hutto & Gilbert, 2014;
// github.com/cjhutto/vaderSentiment, MIT licence, vader/LICENSE.txt), as
// published: word, mean valence on a -4..+4 scale, deviation, ratings.
//
//go:embed vader/vader_lexicon.txt
var vaderLexicon string

// vaderScale maps VADER's -4..+4 onto the -3..+3 of the lexicons here.
const vaderScale = 0.75

// GeneralShare is how much of a general-lexicon (VADER) valence counts as
// client evidence, i.e. towards Scratch.ClientPos and ClientNeg: clients
// write "ridiculous", "brilliant" or "rude" with no finance word nearby,
// but VADER's 7,500 words are less sure than the hand-set client lexicon.
// Set on testdata/desk-dev.csv and checked not to lower valid.csv.
const GeneralShare = 0.5

// vaderSkip are VADER words that, in a message to a broker, are politeness,
// order vocabulary or instrument names rather than opinion: "please cancel
// the stop", "crude", "thanks in advance", "ok, go ahead".
var vaderSkip = map[string]bool{
	"please": true, "thanks": true, "thank": true, "thx": true, "ok": true, "okay": true, "yes": true, "no": true,
	"like": true, "want": true, "wants": true, "hope": true, "hoping": true, "help": true, "kind": true, "pretty": true,
	"free": true, "interest": true, "interested": true, "interests": true, "share": true, "shares": true, "ready": true,
	"sure": true, "fine": true, "well": true, "care": true, "top": true, "low": true, "save": true, "crude": true,
	"cancel": true, "cancelled": true, "canceled": true, "stop": true, "stopped": true, "stops": true, "demand": true,
	"credit": true, "credits": true, "support": true, "supports": true, "clear": true, "cleared": true, "hedge": true,
	"lol": true, "haha": true, "god": true, "agree": true, "agreed": true, "accept": true, "accepted": true,
	"party": true, "play": true, "chance": true, "chances": true, "true": true, "certain": true, "dear": true,
	"funeral": true, "pardon": true, "ha": true, "yeah": true, "big": true, "limit": true, "limited": true,
	"reach": true, "join": true, "welcome": true, "greet": true, "honest": true, "honestly": true, "best": true,
	"warning": true, "warnings": true, // market lexicon's, and "just a warning" is not a complaint
}

// generalLexicon is VADER's single-word entries, scaled; nil entries for words the
// hand-set lexicons hold, which take precedence.
var generalLexicon = func() map[string]float32 {
	m := make(map[string]float32, 7500)
	for _, line := range strings.Split(vaderLexicon, "\n") {
		word, rest, ok := strings.Cut(line, "\t")
		if !ok || vaderSkip[word] || !isPlainWord(word) {
			continue
		}
		mean, _, _ := strings.Cut(rest, "\t")
		v, err := strconv.ParseFloat(mean, 32)
		if err != nil || v == 0 {
			continue
		}
		m[word] = vaderScale * float32(v)
	}
	return m
}()

// isPlainWord reports whether w is a lower-case word the tokenizer can
// produce (letters and inner apostrophes); VADER's emoticons are not.
func isPlainWord(w string) bool {
	if w == "" {
		return false
	}
	for i := 0; i < len(w); i++ {
		if b := w[i]; (b < 'a' || b > 'z') && b != '\'' {
			return false
		}
	}
	return true
}

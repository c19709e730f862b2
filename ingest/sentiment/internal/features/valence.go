package features

import "strings"

// Valence rules, after VADER (Hutto & Gilbert, 2014): a negator within
// negationSpan words flips a lexicon item, an intensifier just before it
// scales it, and "but" moves a sentence's weight to the clause after it.

const (
	beforeContrast = 0.5
	afterContrast  = 1.5
)

// mass is a text's lexicon valence, positive and negative apart, for the
// whole lexicon and for the client lexicon alone.
type mass struct {
	pos, neg             float32
	clientPos, clientNeg float32
	downplay             bool // a downplaying phrase was read
}

// add counts valence v; share of it is also client evidence (1 for the
// client lexicon, GeneralShare for VADER's, 0 for the market lexicon).
func (m *mass) add(v, share float32) {
	switch {
	case v > 0:
		m.pos += v
		m.clientPos += share * v
	case v < 0:
		m.neg -= v
		m.clientNeg -= share * v
	}
}

// addClient counts valence v as client evidence only: VADER's words, which
// the finance model's lexicon sums leave out so that headlines are read as
// before.
func (m *mass) addClient(v float32) {
	if v > 0 {
		m.clientPos += v
	} else {
		m.clientNeg -= v
	}
}

func (m *mass) addScaled(o mass, w float32) {
	m.downplay = m.downplay || o.downplay
	m.pos += w * o.pos
	m.neg += w * o.neg
	m.clientPos += w * o.clientPos
	m.clientNeg += w * o.clientNeg
}

// maxPhrase is the most words a lexicon phrase has.
const maxPhrase = 5

// lexicon is both lexicons in one map, so a lookup costs one probe.
var lexicon = func() map[string]lexEntry {
	m := make(map[string]lexEntry, len(marketLexicon)+len(clientLexicon))
	for k, e := range marketLexicon {
		m[k] = lexEntry{entry: e}
	}
	for k, e := range clientLexicon {
		m[k] = lexEntry{entry: e, client: true}
	}
	return m
}()

type lexEntry struct {
	entry
	client bool // from clientLexicon
}

// phraseStarts holds the first word of every lexicon phrase, so that the
// scan tries multi-word lookups only where one can match.
var phraseStarts = func() map[string]bool {
	starts := map[string]bool{}
	for k := range lexicon {
		if first, _, ok := strings.Cut(k, " "); ok {
			starts[first] = true
		}
	}
	return starts
}()

// lexiconMass sums the lexicon valence of toks. key is scratch space for
// phrase lookups and is returned for reuse.
func lexiconMass(toks []Token, key []byte) (total mass, _ []byte) {
	var (
		clause     mass // the current clause
		early      mass // clauses before a contrast word
		contrasted bool
		negLeft    int
		mult       float32 = 1
		multLeft   int
	)
	endSentence := func() {
		w := float32(1)
		if contrasted {
			w = afterContrast
		}
		total.addScaled(early, 1)
		total.addScaled(clause, w)
		clause, early, contrasted = mass{}, mass{}, false
	}
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.Punct {
			negLeft, multLeft = 0, 0
			if t.Text != "," && t.Text != ":" {
				endSentence()
			}
			continue
		}
		if contrast[t.Text] {
			early.addScaled(clause, 1)
			e := mass{}
			e.addScaled(early, beforeContrast)
			early, clause = e, mass{}
			contrasted = true
			negLeft, multLeft = 0, 0
			continue
		}
		if v, end, ok := quantityMove(toks, i); ok {
			// "costs decreased", "my margin fell 20%", "cut our fees"
			if negLeft > 0 {
				v = val(v).negated()
			}
			clause.add(v, 1)
			negLeft, multLeft = 0, 0
			i = end
			continue
		}
		var (
			e             entry
			client, found bool
			n             int
		)
		// Longest phrase first, so "no problem" is not read as a negation
		// and "margin call" is not two neutral words.
		longest := 1
		if phraseStarts[t.Text] {
			longest = maxPhrase
		}
		for n = longest; n >= 1 && !found; n-- {
			if i+n > len(toks) {
				continue
			}
			var ok bool
			if key, ok = phraseKey(key[:0], toks[i:i+n]); ok {
				var le lexEntry
				le, found = lexicon[string(key)]
				e, client = le.entry, le.client
			}
		}
		n++ // the loop decremented once past the match
		share := float32(0)
		if client {
			share = 1
		}
		isGeneral := false
		if !found {
			if negators[t.Text] {
				negLeft = negationSpan
				continue
			}
			if m, ok := intensifiers[t.Text]; ok {
				mult, multLeft = m, 2
				continue
			}
			if g, ok := generalLexicon[t.Text]; ok {
				e, share, found, isGeneral = val(g), GeneralShare, true, true
			}
		}
		if !found {
			switch {
			case negLeft > 0 && negRaising[t.Text]:
				negLeft = raisedSpan // "don't think it was good"
			case negLeft > 0:
				negLeft--
			}
			if multLeft > 0 {
				multLeft--
			}
			continue
		}
		if e.downplay {
			clause.downplay = true
		}
		v := e.v
		if negLeft > 0 {
			v = e.negated()
		}
		if multLeft > 0 {
			v *= mult
		}
		if isGeneral {
			clause.addClient(share * v)
		} else {
			clause.add(v, share)
		}
		negLeft, multLeft = 0, 0
		i += n - 1
	}
	endSentence()
	return total, key
}

// phraseKey joins the texts of toks with spaces into key; ok is false if
// the span crosses punctuation.
func phraseKey(key []byte, toks []Token) (_ []byte, ok bool) {
	for j, t := range toks {
		if t.Punct {
			return key, false
		}
		if j > 0 {
			key = append(key, ' ')
		}
		key = append(key, t.Text...)
	}
	return key, true
}

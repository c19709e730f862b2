package features

import (
	"strings"
	"testing"
)

func texts(toks []Token) string {
	var s []string
	for _, t := range toks {
		s = append(s, t.Text)
	}
	return strings.Join(s, " ")
}

func TestTokenize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"$KHC (+4.2% pre) Kraft Heinz stock rises https://t.co/hYupgnRQ86", "<tkr> <pct+> pre kraft heinz stock rises <url>"},
		{"Nikkei -0.6%, Hang Seng 1.5%", "nikkei <pct-> , hang seng <pct>"},
		{"Uber price target raised to $52 from $50 at Wedbush", "uber price target raised to <money> from <money> at wedbush"},
		{"I’m not happy with yesterday's gold stop. Call me!", "i'm not happy with yesterday gold stop . call me !"},
		{"Can you work a buy for 10 Dec corn at 4.52 limit?", "can you work a buy for <num> dec corn at <num> limit ?"},
		{"all-time high for @jane's #gold 📈", "all time high for <usr> gold <up>"},
		{"DON'T", "don't"},
	} {
		if got := texts(Tokenize(tc.in, nil)); got != tc.want {
			t.Errorf("Tokenize(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func valence(s string) (pos, neg float32) {
	m, _ := lexiconMass(Tokenize(s, nil), nil)
	return m.pos, m.neg
}

func TestLexiconNegationAndIntensifiers(t *testing.T) {
	for _, tc := range []struct {
		text     string
		pos, neg float32
	}{
		{"happy", 2, 0},
		{"not happy", 0, 1.5},
		{"very happy", 3, 0},
		{"not very happy", 0, 1.5 * 1.5}, // negation reaches past the intensifier
		{"never filled", 0, 2},           // an expectation word: strongly negative
		{"filled", 0.5, 0},
		{"not bad", 0.6, 0}, // "not bad" is only mildly good
		{"no problem", 1, 0},
		{"margin call", 0, 2.5},
		{"haven't heard from you", 0, 1.5},
		{"not. happy", 2, 0}, // punctuation ends the negation
		{"i don't think your call was good", 0, 1.5},
		{"i don't know why my order was filled so late", 0.5, 1.3}, // three words on, "filled" is free
		{"thanks for the call but the fill was terrible", 0.5, 2.5 * 1.5},
	} {
		pos, neg := valence(tc.text)
		if !near(pos, tc.pos) || !near(neg, tc.neg) {
			t.Errorf("%q: pos %.3f neg %.3f, want %.3f %.3f", tc.text, pos, neg, tc.pos, tc.neg)
		}
	}
}

func near(a, b float32) bool { return a-b < 1e-4 && b-a < 1e-4 }

func TestExtractNoAllocs(t *testing.T) {
	e := Extractor{Bits: 18, Stems: true}
	var sc Scratch
	text := "I'm not happy with the slippage on yesterday's gold stop. Call me."
	e.Extract(text, &sc)
	if n := testing.AllocsPerRun(100, func() { e.Extract(text, &sc) }); n > 1 {
		t.Errorf("Extract allocates %.0f times per call with warm scratch, want at most 1", n)
	}
}

func TestExtractDeterministicAndInRange(t *testing.T) {
	e := Extractor{Bits: 16, Stems: true}
	var a, b Scratch
	fa := e.Extract("Thanks, great fill on the crude this morning.", &a)
	fb := e.Extract("Thanks, great fill on the crude this morning.", &b)
	if len(fa) != len(fb) {
		t.Fatalf("two extractions differ in length: %d, %d", len(fa), len(fb))
	}
	for i := range fa {
		if fa[i] != fb[i] {
			t.Fatalf("feature %d differs: %v, %v", i, fa[i], fb[i])
		}
		if int(fa[i].Index) >= e.Dim() {
			t.Fatalf("feature index %d outside 2^%d", fa[i].Index, e.Bits)
		}
	}
}

func TestLexiconsAreDisjoint(t *testing.T) {
	for k := range clientLexicon {
		if _, ok := marketLexicon[k]; ok {
			t.Errorf("%q is in both lexicons", k)
		}
	}
}

func TestLexiconPhrasesFitTheScan(t *testing.T) {
	for _, lex := range []map[string]entry{marketLexicon, clientLexicon} {
		for k := range lex {
			if n := len(strings.Fields(k)); n > maxPhrase {
				t.Errorf("%q has %d words; the scan reads at most %d", k, n, maxPhrase)
			}
			if got := texts(Tokenize(k, nil)); got != k && !strings.HasPrefix(k, "<") {
				t.Errorf("lexicon key %q tokenizes as %q and can never match", k, got)
			}
		}
	}
}

func TestConversational(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"I'm not happy with the slippage", true},
		{"please send the specs", true},
		{"The fill was terrible.", true},
		{"Apple shares rise 5% after earnings", false},
		{"Apple Shares Rise After Strong Earnings.", false},         // title case: a headline
		{"Equifax Data Breach: What You Need to Know", false},       // title case, though it says "you"
		{"the fees are ridiculous for this level of service", true}, // a chat line
		{"Oil expert: 'We're looking at a worst case' https://t.co/x", false},
		{"$AAPL you should buy this", false},
	} {
		e := Extractor{Bits: 12}
		var sc Scratch
		e.Extract(tc.text, &sc)
		if sc.Conversational != tc.want {
			t.Errorf("%q: conversational %t, want %t", tc.text, sc.Conversational, tc.want)
		}
	}
}

// TestQuantityMoves: the polarity of a directional statement depends on
// whether the quantity is one a client wants more or less of.
func TestQuantityMoves(t *testing.T) {
	for _, tc := range []struct {
		text     string
		pos, neg bool
	}{
		{"costs decreased", true, false},
		{"operating profit fell to EUR 3.1m from EUR 5.0m", false, true},
		{"net sales grew 12% year on year", true, false},
		{"my margin fell 20%", false, true},
		{"margin requirements just doubled", false, true},
		{"the margin increase hit my account", false, true},
		{"our margin improved", true, false},
		{"they cut our fees", true, false},
		{"losses grew every week", false, true},
		{"costs did not decrease", false, true},
	} {
		pos, neg := valence(tc.text)
		if (pos > neg) != tc.pos || (neg > pos) != tc.neg {
			t.Errorf("%q: pos %.2f neg %.2f, want positive %t negative %t", tc.text, pos, neg, tc.pos, tc.neg)
		}
	}
}

// TestGeneralLexiconIsClientEvidenceOnly: VADER's words count towards the
// client sums (at GeneralShare), not the finance model's lexicon sums, and
// politeness is skipped.
func TestGeneralLexiconIsClientEvidenceOnly(t *testing.T) {
	var sc Scratch
	e := Extractor{Bits: 12}
	e.Extract("lousy", &sc)
	if want := float32(GeneralShare * vaderScale * 2.5); !near(sc.ClientNeg, want) {
		t.Errorf("lousy: client negative %.3f, want %.3f", sc.ClientNeg, want)
	}
	feats := e.Extract("dreadful", &sc)
	for _, f := range feats {
		if f.Index == LexNegative || f.Index == LexPositive {
			t.Errorf("dreadful: lexicon feature %d set; VADER must stay out of the finance sums", f.Index)
		}
	}
	if sc.ClientNeg <= 0 {
		t.Errorf("dreadful: no client evidence")
	}
	e.Extract("please cancel the stop", &sc)
	if sc.ClientPos != 0 || sc.ClientNeg != 0 {
		t.Errorf("please cancel the stop: client %.2f/%.2f, want none", sc.ClientPos, sc.ClientNeg)
	}
	if len(generalLexicon) < 7000 {
		t.Errorf("VADER lexicon has %d words, want about 7,400", len(generalLexicon))
	}
}

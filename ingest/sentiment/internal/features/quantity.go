package features

// Directional statements about financial quantities take their polarity
// from the pair, not the verb: "costs decreased" and "cut our fees" are good
// news, "my margin fell 20%" and "profit dropped" are bad, "losses grew" is
// bad and "savings grew" good. The finance lexicon alone reads every "fell"
// as bearish.

// quantityValence is the valence of a directional statement about a
// quantity, on the lexicon's scale.
const quantityValence = 2

// goodQuantities are what a client wants more of, badQuantities less of.
var (
	goodQuantities = map[string]bool{
		"profit": true, "profits": true, "margin": true, "margins": true, "savings": true, "saving": true,
		"sales": true, "revenue": true, "revenues": true, "earnings": true, "income": true, "returns": true,
		"ebitda": true, "p&l": true, "pnl": true, "turnover": true, "dividend": true, "dividends": true,
	}
	badQuantities = map[string]bool{
		"cost": true, "costs": true, "fee": true, "fees": true, "loss": true, "losses": true, "slippage": true,
		"drawdown": true, "drawdowns": true, "expenses": true, "expense": true, "commission": true,
		"commissions": true, "debt": true, "charges": true, "spending": true,
	}
	// marginBad follow "margin" when it is a requirement, not earnings.
	marginBad = map[string]bool{"call": true, "calls": true, "requirement": true, "requirements": true}

	// moveAfter are the verbs (and "up", "down") that follow a quantity:
	// +1 for more of it, -1 for less.
	moveAfter = map[string]int{
		"fell": -1, "fall": -1, "falls": -1, "falling": -1, "dropped": -1, "drop": -1, "drops": -1,
		"decreased": -1, "decrease": -1, "decreases": -1, "declined": -1, "decline": -1, "declines": -1,
		"down": -1, "shrank": -1, "shrunk": -1, "halved": -1, "slumped": -1, "plunged": -1, "eroded": -1,
		"grew": 1, "grow": 1, "grows": 1, "rose": 1, "rise": 1, "rises": 1, "risen": 1, "increased": 1,
		"increase": 1, "increases": 1, "up": 1, "doubled": 1, "tripled": 1, "jumped": 1, "climbed": 1,
		"surged": 1, "soared": 1, "improved": 1, "widened": 1, "ballooned": 1, "hike": 1, "hikes": 1,
		"hiked": 1, "raised": 1,
	}
	// requirementMoves are how an exchange or a broker changes a margin
	// requirement; after "margin" they mean the requirement ("the margin
	// increase hit my account"), which a client wants less of, while
	// "grew", "improved" or "fell" mean a profit margin.
	requirementMoves = map[string]bool{
		"increase": true, "increased": true, "increases": true, "raised": true, "doubled": true,
		"tripled": true, "up": true, "hike": true, "hikes": true, "hiked": true, "jumped": true,
	}
	// moveBefore are the verbs and adjectives that precede one.
	moveBefore = map[string]int{
		"cut": -1, "cuts": -1, "cutting": -1, "reduced": -1, "reduce": -1, "reduces": -1, "lower": -1,
		"lowered": -1, "slashed": -1, "halved": -1, "trimmed": -1, "smaller": -1, "lowest": -1,
		"higher": 1, "raised": 1, "increased": 1, "bigger": 1, "boosted": 1, "doubled": 1, "record": 1,
	}
)

// quantityWindow is how many words may stand between a quantity and its
// verb: "operating profit for the quarter fell", "cut our clearing fees".
const quantityWindow = 4

// quantityMove reads a directional statement starting at toks[i]. It
// returns its valence and the index of its last word.
func quantityMove(toks []Token, i int) (v float32, end int, ok bool) {
	t := toks[i].Text
	if dir, isMove := moveBefore[t]; isMove {
		for j := i + 1; j < len(toks) && j <= i+quantityWindow && !toks[j].Punct; j++ {
			if q := quality(toks, j); q != 0 {
				if toks[j].Text == "margin" && requirementMoves[t] {
					q = -1 // "raised the margin"
				}
				return float32(dir*q) * quantityValence, j, true
			}
		}
		return 0, 0, false
	}
	q := quality(toks, i)
	if q == 0 {
		return 0, 0, false
	}
	negated := false // "costs did not decrease"
	for j := i + 1; j < len(toks) && j <= i+quantityWindow && !toks[j].Punct; j++ {
		if negators[toks[j].Text] {
			negated = true
		}
		if dir, isMove := moveAfter[toks[j].Text]; isMove {
			if t == "margin" && requirementMoves[toks[j].Text] {
				q = -1
			}
			v := float32(dir*q) * quantityValence
			if negated {
				v = val(v).negated()
			}
			return v, j, true
		}
	}
	return 0, 0, false
}

// quality is +1 for a quantity a client wants more of, -1 for one they
// want less of, 0 for any other word.
func quality(toks []Token, i int) int {
	t := toks[i].Text
	switch {
	case t == "margin" && i+1 < len(toks) && marginBad[toks[i+1].Text]:
		return -1
	case goodQuantities[t]:
		return 1
	case badQuantities[t]:
		return -1
	}
	return 0
}

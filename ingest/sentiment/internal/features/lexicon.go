package features

// The lexicon is prior knowledge the training data cannot supply well:
// finance headlines rarely say "furious", "slippage" or "never filled", but
// clients do. Its sums enter the model as two dense features whose weights
// are learnt on train.csv, so the lexicon and the data are reconciled by
// training. The client part also adds its evidence directly for messages
// (see clientLexicon). Valences are on a -3..+3 scale, as in VADER.

// entry is a lexicon item. neg, when set, is the valence under negation;
// otherwise negation flips and damps the valence (see negated).
type entry struct {
	v, neg   float32
	hasNeg   bool
	downplay bool // see downplayed
}

// downplayed marks a phrase that says a problem does not matter ("just a
// warning", "very little negative impact", "no harm done"): the text is
// then pulled towards neutral (Scratch.Downplayed).
func downplayed() entry { return entry{downplay: true} }

func val(v float32) entry         { return entry{v: v} }
func valNeg(v, neg float32) entry { return entry{v: v, neg: neg, hasNeg: true} }

// negated is the valence of e in a negation scope. "not good" is clearly
// bad, but "not bad" is only mildly good; expectation words ("filled",
// "heard", "answered") carry their own strongly negative value because a
// client saying "never filled" or "haven't heard" is complaining.
func (e entry) negated() float32 {
	switch {
	case e.hasNeg:
		return e.neg
	case e.v > 0:
		return -0.75 * e.v
	default:
		return -0.4 * e.v
	}
}

// marketLexicon holds single words and multi-word phrases (space separated, as
// the tokenizer produces them: "all-time high" is "all time high").
var marketLexicon = map[string]entry{
	// Market direction, the language of finance news.
	"bullish": val(2), "bull": val(1), "rally": val(1.5), "rallies": val(1.5), "rallied": val(1.5), "rallying": val(1.5),
	"surge": val(2), "surges": val(2), "surged": val(2), "surging": val(2), "soar": val(2), "soars": val(2), "soared": val(2), "soaring": val(2),
	"jump": val(1.5), "jumps": val(1.5), "jumped": val(1.5), "climb": val(1), "climbs": val(1), "climbed": val(1), "climbing": val(1),
	"gain": val(1), "gains": val(1), "gained": val(1), "rise": val(1), "rises": val(1), "rose": val(1), "rising": val(1),
	"beat": val(1.5), "beats": val(1.5), "tops": val(1), "topped": val(1), "exceeds": val(1.5), "exceeded": val(1.5),
	"upgrade": val(2), "upgrades": val(2), "upgraded": val(2), "outperform": val(1.5), "outperforms": val(1.5), "overweight": val(1),
	"rebound": val(1.5), "rebounds": val(1.5), "rebounded": val(1.5), "recover": val(1), "recovers": val(1), "recovery": val(1), "recovered": val(1),
	"boost": val(1.5), "boosts": val(1.5), "boosted": val(1.5), "raise": val(0.5), "raises": val(1), "raised": val(1),
	"higher": val(0.8), "highs": val(1), "upside": val(1.5), "tailwind": val(1), "tailwinds": val(1), "breakout": val(1.5),
	"profit": val(1), "profits": val(1), "profitable": val(1.5), "growth": val(1), "grow": val(1), "grows": val(1), "growing": val(1),
	"strong": val(1.5), "stronger": val(1.5), "strength": val(1), "robust": val(1.5), "solid": val(1.5), "record high": val(2),
	"all time high": val(2), "new high": val(1.5), "optimism": val(1.5), "optimistic": val(1.5), "upbeat": val(1.5), "buyback": val(1),
	"green": val(0.5), "boom": val(1.5), "booming": val(1.5), "win": val(1.5), "wins": val(1.5), "approval": val(1), "approved": val(1),
	"price target raised": val(2), "raises price target": val(2), "buy rating": val(1.5), "short squeeze": val(1.5),
	TokUpIcon: val(1.5), TokPctUp: val(1),

	"bearish": val(-2), "bear": val(-1), "plunge": val(-2.5), "plunges": val(-2.5), "plunged": val(-2.5), "plunging": val(-2.5),
	"plummet": val(-2.5), "plummets": val(-2.5), "plummeted": val(-2.5), "tumble": val(-2), "tumbles": val(-2), "tumbled": val(-2),
	"slump": val(-2), "slumps": val(-2), "slumped": val(-2), "crash": val(-2.5), "crashes": val(-2.5), "crashed": val(-2.5),
	"sink": val(-1.5), "sinks": val(-1.5), "sank": val(-1.5), "drop": val(-1.5), "drops": val(-1.5), "dropped": val(-1.5),
	"fall": val(-1.5), "falls": val(-1.5), "fell": val(-1.5), "falling": val(-1.5), "decline": val(-1.5), "declines": val(-1.5), "declined": val(-1.5),
	"slide": val(-1.5), "slides": val(-1.5), "slid": val(-1.5), "dip": val(-1), "dips": val(-1), "dipped": val(-1),
	"lower": val(-0.8), "lows": val(-1), "record low": val(-2), "new low": val(-1.5), "sell off": val(-2), "selloff": val(-2),
	"loss": val(-1.5), "losses": val(-1.5), "lose": val(-1.5), "loses": val(-1.5), "lost": val(-1.5), "losing": val(-1.5),
	"miss": val(-1.5), "misses": val(-1.5), "missed": val(-1.5), "shortfall": val(-2),
	"downgrade": val(-2), "downgrades": val(-2), "downgraded": val(-2), "underperform": val(-1.5), "underweight": val(-1),
	"cut": val(-1), "cuts": val(-1), "slash": val(-1.5), "slashes": val(-1.5), "slashed": val(-1.5), "price target cut": val(-2),
	"weak": val(-1.5), "weaker": val(-1.5), "weakness": val(-1.5), "slowdown": val(-1.5), "slowing": val(-1), "recession": val(-2),
	"bankruptcy": val(-3), "bankrupt": val(-3), "default": val(-2), "layoffs": val(-2), "lay off": val(-2), "fraud": val(-3),
	"lawsuit": val(-1.5), "probe": val(-1.5), "investigation": val(-1.5), "fined": val(-1.5), "penalty": val(-1.5),
	"warns": val(-1.5), "warning": val(-1.5), "concern": val(-1), "concerns": val(-1), "worries": val(-1.5), "fear": val(-1.5), "fears": val(-1.5),
	"headwind": val(-1), "headwinds": val(-1), "downside": val(-1.5), "collapse": val(-2.5), "collapses": val(-2.5), "collapsed": val(-2.5),
	"struggle": val(-1.5), "struggles": val(-1.5), "struggling": val(-1.5), "hurt": val(-1.5), "hurts": val(-1.5),
	"pressure": val(-1), "suspend": val(-1.5), "suspended": val(-1.5), "halt": val(-1), "halted": val(-1), "red": val(-0.5),
	"volatile": val(-0.5), "volatility": val(-0.5), "sell rating": val(-1.5),
	TokDownIcn: val(-1.5), TokPctDown: val(-1),
	"sues": val(-1.5), "sued": val(-1.5), "suing": val(-1.5), "class action": val(-1.5), "legal action": val(-1.5),
	"antitrust": val(-1), "bribery": val(-2), "indicted": val(-2), "sentenced": val(-1.5), "scandal": val(-2),
	"investigating": val(-1.5), "investigates": val(-1.5), "subpoena": val(-1.5), "violation": val(-1.5), "deceived": val(-2),
	"misled": val(-2), "trim": val(-1), "trims": val(-1), "trimmed": val(-1), "trimming": val(-1), "lowers": val(-1),
	"lowered": val(-1), "lowering": val(-1), "shrink": val(-1), "shrinks": val(-1), "shrinking": val(-1), "shrank": val(-1),
	"contraction": val(-1.5), "slip": val(-1), "slips": val(-1), "slipped": val(-1), "dive": val(-2), "dives": val(-2),
	"fail": val(-1.5), "fails": val(-1.5), "failed": val(-1.5), "failure": val(-2), "halts": val(-1), "worse": val(-1.5),
	"losers": val(-1.5), "grim": val(-2), "woes": val(-1.5), "turmoil": val(-2), "crisis": val(-2), "meltdown": val(-2.5),
	"tank": val(-2), "tanks": val(-2), "tanked": val(-2), "downturn": val(-2), "delisted": val(-2), "delisting": val(-2),
	"dilution": val(-1.5), "writedown": val(-2), "write down": val(-2), "impairment": val(-1.5), "outflows": val(-1),
	"downbeat": val(-1.5), "gloomy": val(-2), "pessimistic": val(-1.5), "pessimism": val(-1.5), "slams": val(-1.5),
	"weighs": val(-1), "weighed": val(-1), "drags": val(-1), "dragged": val(-1), "sour": val(-1.5), "souring": val(-1.5),
	"erode": val(-1), "eroding": val(-1), "lags": val(-1), "lagging": val(-1), "underperforming": val(-1.5),
	"fatal": val(-2), "recall": val(-1), "recalls": val(-1), "shutdown": val(-1.5), "layoff": val(-2), "laying off": val(-2),
	"job cuts": val(-2), "overvalued": val(-1.5), "bubble": val(-1.5), "loses confidence": val(-2), "hawkish": val(-0.5),
	"sucks": val(-2.5), "skid": val(-1.5), "wiped out": val(-2),

	"lifts": val(1), "lifted": val(1), "improve": val(1), "improves": val(1), "improved": val(1), "improving": val(1),
	"improvement": val(1.5), "success": val(1.5), "successful": val(1.5), "successfully": val(1.5), "thriving": val(2),
	"thrive": val(1.5), "resilient": val(1.5), "bulls": val(1), "approves": val(1.5), "won": val(1), "award": val(1),
	"awarded": val(1), "gainers": val(1.5), "winners": val(1.5), "outperformed": val(1.5), "outperforming": val(1.5),
	"beating": val(1.5), "accelerating": val(1), "positive": val(1.5), "bright": val(1.5), "promising": val(1.5),
	"rockets": val(2), "spikes": val(1), "pops": val(1.5), "popped": val(1.5), "advances": val(1), "momentum": val(1),
	"attractive": val(1.5), "undervalued": val(1.5), "bargain": val(1), "dovish": val(0.5), "stimulus": val(1),
	"surpass": val(1.5), "surpasses": val(1.5), "surpassed": val(1.5), "strong buy": val(2), "impresses": val(2),
	"confident": val(1.5), "confidence": val(1),
	"less than expected": val(-1.5), "smaller than expected": val(-1.5), "weaker than expected": val(-2),
}

// clientLexicon is how clients talk about their broker and their orders:
// service, fills, praise and complaints. Finance news hardly uses these
// words, so besides feeding the model's lexicon features they are the
// evidence the scorer adds directly for messages (Scratch.Conversational;
// see probs in package sentiment).
var clientLexicon = map[string]entry{
	"thanks": val(1), "thank": val(1), "thx": val(1), "great": val(2), "good": val(2), "excellent": val(2.5), "awesome": val(2.5),
	"fantastic": val(2.5), "perfect": val(2), "happy": val(2), "pleased": val(2), "glad": val(1.5), "appreciate": val(2),
	"appreciated": val(1.5), "helpful": val(1.5), "nice": val(1.5), "love": val(3), "wonderful": val(2.5), "smooth": val(1),
	"impressed": val(2), "impressive": val(2), "satisfied": valNeg(2, -2), "delighted": val(2.5), "brilliant": val(2.5), "grateful": val(2),
	"well done": val(2), "spot on": val(2), "no problem": val(1), "no worries": val(1), "best": val(1.5), "quick": val(0.8),
	"filled": valNeg(0.5, -2), "heard": valNeg(0, -1.5), "answered": valNeg(0, -1.5), "responded": valNeg(0, -1.5),
	"called": valNeg(0, -1.2), "received": valNeg(0, -1.2), "working": valNeg(0, -1.5), "executed": valNeg(0.3, -1.5),

	"slippage": val(-2), "margin call": val(-2.5), "unhappy": val(-2.5), "angry": val(-2.5), "furious": val(-3),
	"frustrated": val(-2.5), "frustrating": val(-2.5), "annoyed": val(-2), "upset": val(-2), "terrible": val(-2.5),
	"awful": val(-2.5), "horrible": val(-2.5), "bad": val(-1.5), "worst": val(-2.5), "poor": val(-2), "poorly": val(-2),
	"unacceptable": val(-3), "ridiculous": val(-2), "mistake": val(-2), "error": val(-1.5), "wrong": val(-2),
	"complaint": val(-2), "complain": val(-2), "problem": val(-1.5), "problems": val(-1.5), "disappointed": val(-2),
	"disappointing": val(-2), "disappointment": val(-2), "confused": val(-1), "confusing": val(-1), "slow": val(-1.5),
	"late": val(-1), "ignored": val(-2), "ignoring": val(-2), "useless": val(-2.5), "waste": val(-2), "rejected": val(-1.5),
	"concerned": val(-1.5), "worried": val(-1.5), "nervous": val(-1), "disaster": val(-3), "overcharged": val(-2.5),
	"saved": val(1.5), "better": val(1), "decent": val(1), "amazing": val(3), "outstanding": val(3), "superb": val(3),
	"top notch": val(2.5), "responsive": val(1.5), "professional": val(1.5), "reliable": val(1.5), "recommend": val(1.5),
	"made money": val(2), "nailed": val(2), "kudos": val(2), "lifesaver": val(2.5), "pleasure": val(2), "enjoy": val(1.5),
	"much appreciated": val(2.5), "working well": val(2), "worked well": val(2), "works well": val(2),
	"went well": val(2), "as well": val(0), "fixed": valNeg(0.5, -1.5), "work": valNeg(0, -1), "works": valNeg(0, -1),

	"charged twice": val(-2), "double charged": val(-2), "unfilled": val(-1.5), "move my account": val(-2.5),
	"moving my account": val(-2.5), "transfer my account": val(-2), "another broker": val(-2), "elsewhere": val(-1),
	"still waiting": val(-1.5), "lost money": val(-2), "cost me": val(-2), "ripped off": val(-3), "rip off": val(-3),
	"scam": val(-3), "incompetent": val(-3), "sloppy": val(-2), "careless": val(-2), "unprofessional": val(-2.5),
	"rude": val(-2.5), "outrageous": val(-2.5), "sick of": val(-2.5), "fed up": val(-2.5), "tired of": val(-2),
	"let down": val(-2), "hidden fees": val(-2), "glitch": val(-1.5), "outage": val(-2), "frozen": val(-1.5),
	"stuck": val(-1.5), "mess": val(-2), "messed up": val(-2.5), "screwed up": val(-2.5), "botched": val(-2.5),
	"close my account": val(-2.5), "thanks for nothing": val(-2.5), "blew up": val(-2), "stopped out": val(-1.5),
	"skipped": val(-1.5), "explanation": val(-0.5), "froze": val(-1.5), "freezes": val(-1.5), "unable to": val(-1.5),
	"couldn't get": val(-1), "could not get": val(-1), "can't get": val(-1), "way off": val(-1.5),
	"expected better": val(-2), "acceptable": valNeg(0.5, -2.5), "been waiting": val(-1.5), "told": valNeg(0, -1),
	"tell": valNeg(0, -0.8), "warned": valNeg(0, -1.5), "care": valNeg(0.5, -1.5), "cares": valNeg(0.5, -1.5),
	"loved": val(3), "loving": val(2.5), "useful": val(1.5), "helped": val(1.5), "helps": val(1),
	"thank you so much": val(2.5), "thanks so much": val(2.5), "thanks a lot": val(2), "thank you very much": val(2.5),
	"keep it up": val(2), "keep up the good work": val(2.5), "faster": val(1), "exactly what i needed": val(2),
	"on point": val(1.5), "on hold": val(-1.5), "trust": valNeg(1, -2.5), "logging me out": val(-1.5),
	"kicked me out": val(-1.5), "closing my account": val(-2.5), "huge help": val(2.5), "big help": val(2),
	"real help": val(2),
	// Politeness that opens or closes a request is not praise: "thanks in
	// advance, I'm seeing jumps in the fill prices" is a problem report.
	"thanks in advance": val(0), "thank you in advance": val(0), "thanks again": val(0.3), "many thanks in advance": val(0),
	"thanks for looking": val(0), "thanks for checking": val(0),
	// A problem downplayed is not a complaint; one solved is good news.
	"little negative impact": downplayed(), "little impact": downplayed(), "no impact": downplayed(), "no harm done": downplayed(),
	"not a big deal": downplayed(), "no big deal": downplayed(), "just flagging": downplayed(), "just a warning": downplayed(), "only a warning": downplayed(),
	"missing": val(-1.5), "off by": val(-1.5), "jumps in": val(-1.5), "i'm seeing": val(-0.8), "we're seeing": val(-0.8), "we are seeing": val(-0.8), "heads up": val(0),
	"just a heads up": val(0), "minor": val(-0.3),
	"solved": valNeg(2, -1.5), "resolved": valNeg(2, -1.5), "sorted": valNeg(1.5, -1.5), "all sorted": val(2),
	"problem solved": val(2.5), "issue resolved": val(2.5), "all good now": val(2), "all fixed": val(2),
	"relief": val(2), "relieved": val(2),
	// Desk idioms.
	"dropped the ball": val(-2.5), "blew out on us": val(-2.5), "blew out": val(-1.5), "against us": val(-2),
	"limit up and we're short": val(-3), "limit down and we're long": val(-3),
	"got smoked": val(-2.5), "smoked": val(-2), "got hammered": val(-2.5),
	"hammered": val(-2), "got burned": val(-2.5), "burned": val(-1.5), "getting killed": val(-2.5), "got killed": val(-2.5),
	"killing us": val(-2.5), "got squeezed": val(-2), "bleeding": val(-2), "left money on the table": val(-2.5),
	"lost our shirt": val(-3), "lost my shirt": val(-3), "sold the low": val(-2), "sold at the low": val(-2),
	"bought the top": val(-2), "bought at the top": val(-2), "missed my stop": val(-2.5), "missed the entry": val(-2),
	"paid up": val(-1), "ate all": val(-1.5), "cost us": val(-2), "hit with": val(-1),
	"nice work": val(2.5), "good work": val(2.5), "great work": val(2.5), "nice job": val(2.5), "good job": val(2.5),
	"great job": val(2.5), "good call": val(2.5), "great call": val(2.5), "nice call": val(2.5), "nice save": val(2.5),
	"getting us out": val(1.5), "got us out": val(1.5), "saved us": val(2.5), "saved the day": val(2.5),
	"saved my bacon": val(2.5), "made a killing": val(3), "came through": val(2), "extra mile": val(2),
	"you rock": val(2.5), "guys rock": val(2.5), "at the top": val(0.5), "paid off": val(2), "worked out": val(1.5),
	"big improvement": val(2.5), "came out ahead": val(2), "ahead": val(0.5),
	"good till cancelled": val(0), "good till canceled": val(0), "good til cancelled": val(0), "good til canceled": val(0),
	"good for the day": val(0), "best efforts": val(0), "market if touched": val(0),
}

// negators open a negation scope that covers the next few words.
var negators = map[string]bool{
	"not": true, "no": true, "never": true, "cannot": true, "without": true, "nor": true, "neither": true,
	"hardly": true, "barely": true, "nobody": true, "nothing": true, "none": true,
	"don't": true, "doesn't": true, "didn't": true, "isn't": true, "aren't": true, "wasn't": true, "weren't": true,
	"can't": true, "couldn't": true, "won't": true, "wouldn't": true, "shouldn't": true, "haven't": true,
	"hasn't": true, "hadn't": true, "ain't": true, "dont": true, "didnt": true, "isnt": true, "wasnt": true,
	"cant": true, "wont": true, "havent": true, "hasnt": true, "doesnt": true,
}

// negRaising verbs pass a negation on to their clause: "I don't think the
// fill was good" negates "good", four words on.
var negRaising = map[string]bool{"think": true, "believe": true, "feel": true, "expect": true, "suppose": true, "guess": true}

// intensifiers scale the next lexicon item; values below 1 are downtoners.
var intensifiers = map[string]float32{
	"very": 1.5, "really": 1.4, "extremely": 1.8, "so": 1.3, "incredibly": 1.8, "super": 1.5, "totally": 1.5,
	"absolutely": 1.7, "highly": 1.5, "deeply": 1.6, "seriously": 1.5, "completely": 1.6, "utterly": 1.8,
	"truly": 1.4, "hugely": 1.6, "massively": 1.7, "sharply": 1.5, "most": 1.3, "too": 1.3, "quite": 1.2,
	"slightly": 0.5, "somewhat": 0.6, "bit": 0.6, "little": 0.6, "marginally": 0.5, "mildly": 0.5, "fairly": 0.8,
	"kinda": 0.6, "modestly": 0.6,
}

// contrast words shift the weight of a sentence to what follows them:
// in "thanks for the call, but the fill was terrible" the complaint counts.
var contrast = map[string]bool{"but": true, "however": true}

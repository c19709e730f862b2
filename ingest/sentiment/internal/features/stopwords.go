package features

// stopwords get no unigram feature. Finance headlines use them in
// patterns ("How to...", "Did you miss...") that tie "how", "you" or "my"
// to a class; in a client's message they are everywhere and mean nothing,
// and a dozen of them would outvote one "furious". Negators, intensifiers
// and contrast words are not stopwords.
var stopwords = map[string]bool{
	"a": true, "an": true, "the": true, "and": true, "or": true, "of": true, "to": true, "in": true, "on": true,
	"at": true, "for": true, "with": true, "from": true, "by": true, "about": true, "as": true, "into": true,
	"over": true, "after": true, "before": true, "than": true, "then": true, "this": true, "that": true,
	"these": true, "those": true, "it": true, "its": true, "it's": true, "is": true, "are": true, "was": true,
	"were": true, "be": true, "been": true, "being": true, "am": true, "do": true, "does": true, "did": true,
	"have": true, "has": true, "had": true, "will": true, "would": true, "can": true, "could": true,
	"should": true, "may": true, "might": true, "must": true, "shall": true, "i": true, "i'm": true,
	"i've": true, "i'd": true, "i'll": true, "me": true, "my": true, "we": true, "we're": true, "our": true,
	"us": true, "you": true, "your": true, "you're": true, "he": true, "she": true, "him": true, "her": true,
	"his": true, "they": true, "them": true, "their": true, "what": true, "which": true, "who": true,
	"whom": true, "how": true, "when": true, "where": true, "why": true, "there": true, "here": true,
	"if": true, "just": true, "also": true, "all": true, "any": true, "some": true, "each": true,
}

// personalWords mark a text written by or to a person: a client's message
// rather than a headline. "us" is left out: the tokenizer lowercases "US".
var personalWords = map[string]bool{
	"i": true, "i'm": true, "im": true, "i've": true, "i'd": true, "i'll": true, "me": true, "my": true,
	"we": true, "we're": true, "our": true, "you": true, "your": true, "you're": true, "yours": true,
	"please": true, "thanks": true, "thank": true, "thx": true,
}

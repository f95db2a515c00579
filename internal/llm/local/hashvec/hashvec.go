// Package hashvec turns text into feature-hashed vectors for the local
// provider: the dense unit vectors its Embed returns (Vector) and the
// collision-free sparse vectors its completions compare sentences with
// (Sparse, Cosine). Features are stemmed lower-case content words and
// bigrams of neighbouring words, hashed with FNV-1a and weighted by
// sublinear term frequency; see package local's doc for the scheme.
// Everything here is deterministic and stateless.
package hashvec

import (
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"logbook/internal/stem"
)

// FNV-1a, 64-bit.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Feature kinds, hashed in front of the words so a unigram and a bigram
// never share a hash.
const (
	kindUnigram = 'u'
	kindBigram  = 'b'
)

// bigramWeight scales bigram features against unigrams.
const bigramWeight = 0.7

func fnvString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// fmix64 is MurmurHash3's 64-bit finaliser: every input bit affects
// every output bit.
func fmix64(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func fnvByte(h uint64, b byte) uint64 {
	h ^= uint64(b)
	return h * fnvPrime
}

// Feature is one hashed term and its weight in a text.
type Feature struct {
	hash   uint64
	weight float64
}

// Sparse is a text's features, sorted by hash, each hash once: the
// collision-free form of an embedding the completions work with.
type Sparse struct {
	f    []Feature
	norm float64
}

// Words splits text into lower-case words of letters and digits;
// apostrophes inside a word are dropped ("don't" → "dont").
func Words(text string, dst []string) []string {
	dst = dst[:0]
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			dst = append(dst, b.String())
			b.Reset()
		}
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		i += n
		switch {
		case r < utf8.RuneSelf && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'):
			b.WriteByte(byte(r))
		case r < utf8.RuneSelf && 'A' <= r && r <= 'Z':
			b.WriteByte(byte(r + 'a' - 'A'))
		case r == '\'' || r == '\u2019':
			// inside a word: skip; elsewhere: a separator
			if b.Len() == 0 || i >= len(text) {
				flush()
				continue
			}
			nr, _ := utf8.DecodeRuneInString(text[i:])
			if !unicode.IsLetter(nr) {
				flush()
			}
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(unicode.ToLower(r))
		default:
			flush()
		}
	}
	flush()
	return dst
}

// stopwords are dropped as unigrams: function words and the fillers of
// spoken English, which say nothing about what a meeting was about.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`
a an the and or but if of to in on at by for with from as into onto over under about
is are was were be been being am do does did done doing have has had having
i me my mine we us our ours you your yours he him his she her hers they them their theirs
it its this that these those there here then than so too very just also only
will would can could should shall may might must not no nor
what which who whom whose when where why how all any some each both more most other such
im ive ill id youre youve youll youd were weve well wed theyre theyve theyll hes shes its
dont doesnt didnt cant couldnt wont wouldnt shouldnt isnt arent wasnt werent havent hasnt
thats theres whats lets gonna wanna gotta
yeah yes yep yup no nope okay ok oh um uh umm uhh hmm mm like know think really right sure
great good cool awesome thanks thank hi hello hey bye
actually basically kind sort lot lots thing things stuff get got go going goes went
want need let mean say said see saw look one two maybe
up down out off again now still even much many well`) {
		m[w] = true
	}
	return m
}()

// ContentWord reports whether w is kept as a unigram.
func ContentWord(w string) bool {
	if stopwords[w] {
		return false
	}
	if len(w) == 1 {
		return w[0] >= '0' && w[0] <= '9'
	}
	return true
}

// SparseOf builds the sparse vector of text.
func SparseOf(text string, buf *Buffers) Sparse {
	buf.Words = Words(text, buf.Words)
	var fs []Feature
	fs, buf.Hashes = Features(buf.Words, buf.Hashes)
	return NewSparse(fs)
}

// NewSparse is the sparse vector of features fs (sorted by hash, each hash
// once, as Features returns them).
func NewSparse(fs []Feature) Sparse {
	var n float64
	for _, f := range fs {
		n += f.weight * f.weight
	}
	return Sparse{f: fs, norm: math.Sqrt(n)}
}

// Features hashes words into features: content unigrams (stemmed, so
// "promised" and "promise" share one), and bigrams of
// neighbouring words unless both are stop words. Weights are sublinear term
// frequencies, 1+ln(tf), bigrams scaled by bigramWeight. Unigram hashes are
// made even and bigram hashes odd, so a feature's kind survives in its hash.
// The result is sorted by hash, each hash once; scratch is reused. The
// completions (notes, answers) compare sentences with these; Embed uses
// embedFeatures.
func Features(words []string, scratch []uint64) ([]Feature, []uint64) {
	return hashFeatures(words, scratch, func(p, w string) bool { return !stopwords[p] || !stopwords[w] })
}

// embedFeatures are the features Vector hashes: those of Features, except
// that a bigram is kept only when both its words are content words.
// "promised Okta" or "rate limit" say more than their words apart; "we
// promised" or "the limit" say nothing their content word does not, and in
// a hashed vector every feature that cannot match costs: it collides with
// the features that do.
func embedFeatures(words []string, scratch []uint64) ([]Feature, []uint64) {
	return hashFeatures(words, scratch, func(p, w string) bool { return ContentWord(p) && ContentWord(w) })
}

// hashFeatures hashes words into features, with a bigram for each pair of
// neighbouring words keep accepts.
func hashFeatures(words []string, scratch []uint64, keep func(prev, w string) bool) ([]Feature, []uint64) {
	hs := scratch[:0]
	for i, w := range words {
		if ContentWord(w) {
			hs = append(hs, fnvString(fnvByte(fnvOffset, kindUnigram), stem.Word(w))&^1)
		}
		if i > 0 {
			p := words[i-1]
			if keep(p, w) {
				h := fnvString(fnvByte(fnvOffset, kindBigram), stem.Word(p))
				h = fnvString(fnvByte(h, ' '), stem.Word(w))
				hs = append(hs, h|1)
			}
		}
	}
	slices.Sort(hs)
	fs := make([]Feature, 0, len(hs))
	for i := 0; i < len(hs); {
		j := i + 1
		for j < len(hs) && hs[j] == hs[i] {
			j++
		}
		w := 1 + math.Log(float64(j-i))
		if hs[i]&1 == 1 {
			w *= bigramWeight
		}
		fs = append(fs, Feature{hash: hs[i], weight: w})
		i = j
	}
	return fs, hs
}

// dot is the dot product of two sparse vectors.
func dot(a, b Sparse) float64 {
	var s float64
	i, j := 0, 0
	for i < len(a.f) && j < len(b.f) {
		switch {
		case a.f[i].hash < b.f[j].hash:
			i++
		case a.f[i].hash > b.f[j].hash:
			j++
		default:
			s += a.f[i].weight * b.f[j].weight
			i++
			j++
		}
	}
	return s
}

// Cosine is the cosine similarity of two sparse vectors (0 if either is
// empty).
func Cosine(a, b Sparse) float64 {
	if a.norm == 0 || b.norm == 0 {
		return 0
	}
	return dot(a, b) / (a.norm * b.norm)
}

// Buffers are scratch space reused across texts: the words and feature
// hashes of the last text read.
type Buffers struct {
	Words  []string
	Hashes []uint64
}

// Vector is text's unit vector of len(acc) dimensions hashed with seed:
// content unigrams and bigrams of neighbouring content words, each hashed
// (mixed with seed, finalised with fmix64) to a coordinate and a sign,
// L2-normalised; the unit vector along dimension 0 when text has no
// content word. acc is scratch space of the vector's dimension and buf
// holds reusable buffers.
func Vector(text string, seed uint64, buf *Buffers, acc []float64) []float32 {
	dim := len(acc)
	clear(acc)
	buf.Words = Words(text, buf.Words)
	var fs []Feature
	fs, buf.Hashes = embedFeatures(buf.Words, buf.Hashes)
	// fmix64 is a bijection with fmix64(0) = 0: the default seed leaves the
	// hashes as they are, and any other flips about half their bits before
	// they are finalised, so distinct features stay distinct and which of
	// them share a coordinate changes with the seed.
	mix := fmix64(seed)
	for _, f := range fs {
		// FNV's low bits are weak: finalise the hash (fmix64) before
		// taking the coordinate from it, and the sign from its top bit.
		h := fmix64(f.hash ^ mix)
		idx := int((h & (1<<62 - 1)) % uint64(dim))
		if h>>63 == 1 {
			acc[idx] -= f.weight
		} else {
			acc[idx] += f.weight
		}
	}
	var n float64
	for _, x := range acc {
		n += x * x
	}
	v := make([]float32, dim)
	if n == 0 {
		v[0] = 1
		return v
	}
	n = math.Sqrt(n)
	for i, x := range acc {
		v[i] = float32(x / n)
	}
	return v
}

// Stopword reports whether w (lower case, no apostrophes, as Words gives
// it) is one of the function words and spoken fillers never kept as a
// unigram.
func Stopword(w string) bool { return stopwords[w] }

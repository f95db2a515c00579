package quality

import (
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// qmsumMarker matches QMSum's transcript markers, which are not words.
var qmsumMarker = regexp.MustCompile(`\{(?:disfmarker|vocalsound|pause|gap|comment|nonvocalsound)\}`)

// wordRE is a token: a run of lowercase ASCII letters and digits.
var wordRE = regexp.MustCompile(`[a-z0-9]+`)

// notesTokens is score_notes.py's toks: lowercase, drop markers, then
// runs of [a-z0-9].
func notesTokens(s string) []string {
	return wordRE.FindAllString(qmsumMarker.ReplaceAllString(strings.ToLower(s), " "), -1)
}

// retrievalTokens is score_retrieval.py's toks: drop markers (only the
// lowercase spelling), then lowercase, then runs of [a-z0-9].
func retrievalTokens(s string) []string {
	return wordRE.FindAllString(strings.ToLower(qmsumMarker.ReplaceAllString(s, " ")), -1)
}

// seqIn reports whether needle occurs as a contiguous run inside hay
// (score_notes.py's seq_in); an empty needle never does.
func seqIn(needle, hay []string) bool {
	n := len(needle)
	if n == 0 || n > len(hay) {
		return false
	}
	for i := 0; i+n <= len(hay); i++ {
		if hay[i] != needle[0] {
			continue
		}
		match := true
		for j := 1; j < n; j++ {
			if hay[i+j] != needle[j] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

// Round rounds x to the given number of decimal places the way Python's
// round(x, places) does: to the nearest decimal, ties to even, judged on
// the exact binary value of x. The scripts print their figures this way.
func Round(x float64, places int) float64 {
	r, err := strconv.ParseFloat(strconv.FormatFloat(x, 'f', places, 64), 64)
	if err != nil { // FormatFloat's output always parses; NaN and Inf pass through.
		return x
	}
	return r
}

// mean is Python's statistics.mean over floats: the exact sum of the exact
// values divided by n, rounded once to the nearest float64. It differs from
// a running float sum in the last bits, which can move a rounded figure.
func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sum := new(big.Rat)
	v := new(big.Rat)
	for _, x := range xs {
		sum.Add(sum, v.SetFloat64(x))
	}
	sum.Quo(sum, new(big.Rat).SetInt64(int64(len(xs))))
	f, _ := sum.Float64()
	return f
}

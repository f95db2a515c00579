package quality

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// porterCases are general English words (Porter's paper's examples, NLTK's
// extensions, everyday meeting vocabulary) with the stems NLTK 3.8's
// PorterStemmer() gives them (Debian python3-nltk, default
// NLTK_EXTENSIONS mode).
var porterCases = [][2]string{
	{"caresses", "caress"}, {"ponies", "poni"}, {"ties", "tie"}, {"caress", "caress"}, {"cats", "cat"},
	{"feed", "feed"}, {"agreed", "agre"}, {"plastered", "plaster"}, {"bled", "bled"}, {"motoring", "motor"},
	{"sing", "sing"}, {"conflated", "conflat"}, {"troubled", "troubl"}, {"sized", "size"}, {"hopping", "hop"},
	{"tanned", "tan"}, {"falling", "fall"}, {"hissing", "hiss"}, {"fizzed", "fizz"}, {"failing", "fail"},
	{"filing", "file"}, {"happy", "happi"}, {"sky", "sky"}, {"relational", "relat"}, {"conditional", "condit"},
	{"rational", "ration"}, {"valenci", "valenc"}, {"hesitanci", "hesit"}, {"digitizer", "digit"},
	{"conformabli", "conform"}, {"radicalli", "radic"}, {"differentli", "differ"}, {"vileli", "vile"},
	{"analogousli", "analog"}, {"vietnamization", "vietnam"}, {"predication", "predic"}, {"operator", "oper"},
	{"feudalism", "feudal"}, {"decisiveness", "decis"}, {"hopefulness", "hope"}, {"callousness", "callous"},
	{"formaliti", "formal"}, {"sensitiviti", "sensit"}, {"sensibiliti", "sensibl"}, {"triplicate", "triplic"},
	{"formative", "form"}, {"formalize", "formal"}, {"electriciti", "electr"}, {"electrical", "electr"},
	{"hopeful", "hope"}, {"goodness", "good"}, {"revival", "reviv"}, {"allowance", "allow"},
	{"inference", "infer"}, {"airliner", "airlin"}, {"gyroscopic", "gyroscop"}, {"adjustable", "adjust"},
	{"defensible", "defens"}, {"irritant", "irrit"}, {"replacement", "replac"}, {"adjustment", "adjust"},
	{"dependent", "depend"}, {"adoption", "adopt"}, {"homologou", "homolog"}, {"communism", "commun"},
	{"activate", "activ"}, {"angulariti", "angular"}, {"homologous", "homolog"}, {"effective", "effect"},
	{"bowdlerize", "bowdler"}, {"probate", "probat"}, {"rate", "rate"}, {"cease", "ceas"},
	{"controll", "control"}, {"roll", "roll"}, {"dying", "die"}, {"lying", "lie"}, {"tying", "tie"},
	{"skies", "sky"}, {"news", "news"}, {"innings", "inning"}, {"outings", "outing"}, {"cannings", "canning"},
	{"howe", "howe"}, {"proceed", "proceed"}, {"exceed", "exceed"}, {"succeed", "succeed"}, {"flies", "fli"},
	{"dies", "die"}, {"spied", "spi"}, {"died", "die"}, {"enjoy", "enjoy"}, {"spy", "spi"}, {"fly", "fli"},
	{"try", "tri"}, {"tried", "tri"}, {"generically", "gener"}, {"geology", "geolog"}, {"theology", "theolog"},
	{"archaeology", "archaeolog"}, {"fully", "fulli"}, {"hopefully", "hope"}, {"is", "is"}, {"as", "as"},
	{"at", "at"}, {"be", "be"}, {"by", "by"}, {"go", "go"}, {"it", "it"}, {"me", "me"}, {"my", "my"},
	{"no", "no"}, {"of", "of"}, {"on", "on"}, {"or", "or"}, {"so", "so"}, {"to", "to"}, {"up", "up"},
	{"us", "us"}, {"we", "we"}, {"an", "an"}, {"am", "am"}, {"do", "do"}, {"he", "he"}, {"if", "if"},
	{"in", "in"}, {"agreement", "agreement"}, {"meeting", "meet"}, {"meetings", "meet"}, {"decided", "decid"},
	{"deciding", "decid"}, {"decision", "decis"}, {"decisions", "decis"}, {"commit", "commit"},
	{"commitment", "commit"}, {"commitments", "commit"}, {"committed", "commit"}, {"promised", "promis"},
	{"promises", "promis"}, {"promising", "promis"}, {"owner", "owner"}, {"owners", "owner"},
	{"ownership", "ownership"}, {"schedule", "schedul"}, {"scheduled", "schedul"}, {"scheduling", "schedul"},
	{"budget", "budget"}, {"budgets", "budget"}, {"expensive", "expens"}, {"cheaper", "cheaper"},
	{"cheapest", "cheapest"}, {"design", "design"}, {"designed", "design"}, {"designing", "design"},
	{"gardener", "garden"}, {"gardeners", "garden"}, {"surface", "surfac"}, {"surfaces", "surfac"},
	{"functional", "function"}, {"function", "function"}, {"functions", "function"},
	{"functionality", "function"}, {"happily", "happili"}, {"happiness", "happi"}, {"running", "run"},
	{"runner", "runner"}, {"runners", "runner"}, {"ran", "ran"}, {"argued", "argu"}, {"arguing", "argu"},
	{"argument", "argument"}, {"arguments", "argument"}, {"generous", "gener"}, {"generously", "gener"},
	{"national", "nation"}, {"nationality", "nation"}, {"international", "intern"}, {"rationalize", "ration"},
	{"easily", "easili"}, {"easy", "easi"}, {"quickly", "quickli"}, {"quickness", "quick"},
	{"sensible", "sensibl"}, {"sensibility", "sensibl"}, {"possible", "possibl"}, {"possibility", "possibl"},
	{"possibly", "possibl"}, {"responsible", "respons"}, {"responsibility", "respons"}, {"available", "avail"},
	{"availability", "avail"}, {"organization", "organ"}, {"organizational", "organiz"}, {"organize", "organ"},
	{"organized", "organ"}, {"organizing", "organ"}, {"organizer", "organ"}, {"conditioning", "condit"},
	{"conditions", "condit"}, {"connected", "connect"}, {"connecting", "connect"}, {"connection", "connect"},
	{"connections", "connect"}, {"hoping", "hope"}, {"hoped", "hope"}, {"hopes", "hope"}, {"filed", "file"},
	{"files", "file"}, {"fitted", "fit"}, {"fitting", "fit"}, {"fit", "fit"}, {"fits", "fit"},
	{"stopped", "stop"}, {"stopping", "stop"}, {"stop", "stop"}, {"stops", "stop"}, {"really", "realli"},
	{"reality", "realiti"}, {"realize", "realiz"}, {"realized", "realiz"}, {"realization", "realiz"},
	{"realism", "realism"}, {"real", "real"}, {"general", "gener"}, {"generally", "gener"},
	{"generalization", "gener"}, {"generalize", "gener"}, {"yesterday", "yesterday"}, {"today", "today"},
	{"tomorrow", "tomorrow"}, {"monday", "monday"}, {"friday", "friday"}, {"weekly", "weekli"},
	{"monthly", "monthli"}, {"yearly", "yearli"}, {"annually", "annual"}, {"thinking", "think"},
	{"thought", "thought"}, {"thinks", "think"}, {"think", "think"}, {"maybe", "mayb"}, {"perhaps", "perhap"},
	{"probably", "probabl"}, {"certainly", "certainli"}, {"definitely", "definit"}, {"absolutely", "absolut"},
	{"conclusion", "conclus"}, {"conclude", "conclud"}, {"concluded", "conclud"}, {"concluding", "conclud"},
	{"concern", "concern"}, {"concerned", "concern"}, {"concerning", "concern"}, {"concerns", "concern"},
	{"risk", "risk"}, {"risky", "riski"}, {"risks", "risk"}, {"worried", "worri"}, {"worry", "worri"},
	{"worrying", "worri"}, {"abilities", "abil"}, {"ability", "abil"}, {"able", "abl"}, {"ably", "abli"},
	{"unable", "unabl"}, {"enable", "enabl"}, {"enabled", "enabl"}, {"enabling", "enabl"},
	{"operational", "oper"}, {"operationally", "oper"}, {"operating", "oper"}, {"operation", "oper"},
	{"educational", "educ"}, {"education", "educ"}, {"educate", "educ"}, {"educated", "educ"},
	{"feasible", "feasibl"}, {"feasibility", "feasibl"}, {"usable", "usabl"}, {"usability", "usabl"},
	{"usage", "usag"}, {"user", "user"}, {"users", "user"}, {"useful", "use"}, {"usefulness", "use"},
	{"useless", "useless"}, {"uselessness", "useless"}, {"sses", "ss"}, {"ies", "i"}, {"eed", "eed"},
	{"ed", "ed"}, {"ing", "ing"}, {"alli", "alli"}, {"logi", "logi"}, {"ational", "ation"},
}

func TestPorterStem(t *testing.T) {
	t.Parallel()

	for _, c := range porterCases {
		require.Equal(t, c[1], PorterStem(c[0]), "PorterStem(%q)", c[0])
	}
}

func TestPorterStemLowercases(t *testing.T) {
	t.Parallel()

	require.Equal(t, "meet", PorterStem("Meetings"))
	// NLTK looks irregular forms up before lowercasing, so "Dying" is
	// stemmed by the rules, not the table.
	require.Equal(t, "die", PorterStem("dying"))
	require.Equal(t, "dy", PorterStem("Dying"))
}

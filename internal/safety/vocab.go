package safety

import "strings"

// The vocabulary: a few concepts, each a set of word patterns in English,
// Spanish, French, German and Portuguese, written as Normalize writes them
// (lower case, no accents). A pattern is one word or several separated by
// spaces; a word ending in '*' matches every word it begins. Concepts are
// combined by the rules in detect.go; no single word here flags anything
// except where a rule says so (bank routing terms, gift cards,
// cryptocurrency).

// payVerbs move money and nothing else: pay, wire, remit (transfer and
// deposit move other things too: they are transferVerbs).
var payVerbs = newConcept(
	// en
	"pay", "pays", "paid", "paying", "repay*", "wire", "wired", "wiring", "wires", "remit*",
	// es
	"pagar", "pague*", "pago", "pagos", "pagad*", "pagamos", "pagan", "paga", "pagara*", "pagaremos", "pagaran",
	"abonar", "abone*", "abonad*",
	// fr
	"payer", "payez", "payons", "paye*", "paie*", "paient", "virer", "virez", "virons", "vire", "vires", "virement*",
	"verser", "versez", "versons", "verse", "versement*", "regler", "reglez",
	// de
	"zahlen", "zahlt", "zahle", "zahlst", "gezahlt", "bezahl*", "uberweis*", "uberwies*", "einzahl*", "zahlung*",
	// pt
	"pagam", "pagamento*", "pagarao",
)

// strongPayVerbs only ever move money (a wire, a remittance, a bank
// transfer), so with an amount they suffice.
var strongPayVerbs = newConcept(
	"wire", "wired", "wiring", "remit*", "virement*", "virer", "virez", "vire", "uberweis*", "uberwies*",
	"einzahl*", "wire transfer*", "bank transfer*", "transferencia*", "transferencia bancaria", "giro bancario",
	"bankuberweisung*",
)

// transferVerbs move something; with money, an amount or a destination
// they move money.
var transferVerbs = newConcept(
	"transfer*", "send", "sends", "sending", "sent", "move", "moves", "moving", "moved", "deposit*",
	"transfier*", "transferir*", "enviar", "envia*", "envie*", "envio", "enviamos", "manda", "mandar",
	"mande", "mandem", "envoy*", "verse*", "schick*", "send*", "transfira*", "mover", "mueva*", "movam*",
)

// payNouns name a payment.
var payNouns = newConcept(
	"payment*", "remittance*", "pago", "pagos", "pagamento*", "paiement*", "reglement*", "zahlung*",
	"remesa*", "deposito*", "abono*", "transferencia*", "virement*", "uberweisung*",
)

// invoiceNouns name what is paid.
var invoiceNouns = newConcept(
	"invoice*", "bill", "bills", "factura*", "facture*", "rechnung*", "fatura*", "nota fiscal",
)

// moneyNouns name money itself.
var moneyNouns = newConcept(
	"money", "funds", "cash", "dinero", "fondos", "efectivo", "argent", "fonds", "liquide*", "geld*",
	"dinheiro", "fundos",
)

// currencies name a currency (after a number or a magnitude).
var currencies = newConcept(
	"dollar*", "usd", "eur", "euro", "euros", "gbp", "pound", "pounds", "libra", "libras", "real", "reais",
	"brl", "peso", "pesos", "mxn", "franc", "francs", "chf", "yen", "jpy", "dolar*", "dolares", "cad", "aud",
	"bitcoin*", "btc", "eth", "usdt", "usdc",
)

// magnitudes say how many: "one million dollars".
var magnitudes = newConcept(
	"million*", "millon*", "milhao", "milhoes", "milliard*", "billion*", "thousand*", "mil", "tausend",
	"mille",
)

// accountNouns name an account; "account" alone is the customer in a
// CRM, so with these only an identifier after them counts.
var accountNouns = newConcept(
	"account", "accounts", "acct", "a/c", "cuenta", "cuentas", "compte", "comptes", "konto", "kontos",
	"kontonummer", "conta", "contas", "iban", "clabe", "rib", "routing", "aba", "wallet", "bankkonto",
	"sort code", "account number", "numero de cuenta", "numero de compte", "numero da conta",
)

// destinations are where money goes, unambiguously: a bank, an IBAN, a
// beneficiary, a wallet.
var destinations = newConcept(
	"iban", "swift code", "swift bic", "bic code", "routing", "aba", "beneficiar*", "bank", "banks", "banking",
	"banco", "bancos", "banque*", "bancair*", "bancari*", "bankverbindung*", "bankkonto*", "konto*", "clabe",
	"rib", "pix", "wallet*", "monedero*", "billetera*", "sort code", "payee*", "empfanger*", "favorecido*",
	"destinatario*", "bank account*", "cuenta bancaria", "compte bancaire", "conta bancaria",
)

// changeWords say that something is now other than it was.
var changeWords = newConcept(
	// en
	"instead", "from now on", "going forward", "moving forward", "all future", "future", "new", "newly",
	"changed", "change", "changes", "changing", "update*", "different", "switch*", "moved", "no longer",
	"effective immediately", "replace*", "another",
	// es
	"nuev*", "cambi*", "a partir de ahora", "en adelante", "en lugar", "en vez", "actualiz*", "ya no",
	"otra", "otro", "futur*",
	// fr
	"nouveau", "nouvel", "nouvelle*", "chang*", "desormais", "dorenavant", "a partir de maintenant",
	"au lieu", "a l'avenir", "mis a jour", "autre",
	// de
	"neu", "neue*", "geandert", "ander*", "ab sofort", "kunftig*", "zukunftig*", "stattdessen",
	"aktualisiert",
	// pt
	"novo", "nova", "novos", "novas", "mud*", "alterad*", "alterou", "alterar", "a partir de agora",
	"daqui em diante", "em vez", "atualiz*", "outra", "outro",
)

// bankDetails name a set of bank details.
var bankDetails = newConcept(
	"bank details", "banking details", "bank account*", "account details", "payment details",
	"payment information", "payment info", "remittance details", "remittance instructions", "wire instructions",
	"wire details", "wiring instructions", "datos bancarios", "cuenta bancaria", "datos de pago",
	"coordonnees bancaires", "compte bancaire", "informations bancaires", "bankverbindung*", "bankdaten",
	"kontodaten", "zahlungsdaten", "dados bancarios", "conta bancaria", "dados de pagamento", "iban",
	"swift code", "swift bic", "bic code", "codigo bic", "code bic", "bic swift", "routing number", "aba number",
	"sort code", "clabe", "rib",
)

// giftCards are gift cards and vouchers.
var giftCards = newConcept(
	"gift card*", "giftcard*", "gift voucher*", "itunes card*", "steam card*", "google play card*",
	"tarjeta de regalo", "tarjetas de regalo", "carte cadeau", "cartes cadeaux", "carte-cadeau*",
	"geschenkkarte*", "gutscheinkarte*", "gutschein*", "cartao presente", "cartoes presente",
	"vale presente", "vale-presente", "cartao-presente*",
)

// cryptoWords name cryptocurrencies and their wallets.
var cryptoWords = newConcept(
	"bitcoin*", "btc", "ethereum", "ether", "usdt", "usdc", "tether", "crypto*", "cripto*", "krypto*",
	"wallet address*", "seed phrase*", "recovery phrase*", "monero", "litecoin", "dogecoin", "solana",
)

// credentialNouns name a secret that lets someone in.
var credentialNouns = newConcept(
	// en
	"password*", "passcode*", "passphrase*", "passwd", "pin", "pin code", "otp", "2fa code", "mfa code",
	"one time code", "one-time code", "one time password", "one-time password", "verification code",
	"security code", "auth code", "authentication code", "login code", "access code", "credential*",
	"api key*", "apikey*", "access token*", "auth token*", "bearer token*", "api token*", "secret key*",
	"private key*", "client secret*", "login details", "sign-in details", "seed phrase*", "recovery phrase*",
	"recovery code*", "backup code*", "digit code", "digit pin", "sms code", "text code",
	// es
	"contrasena*", "clave de acceso", "clave secreta", "codigo de verificacion", "codigo de seguridad",
	"codigo de acceso", "credencial*", "codigo de un solo uso",
	// fr
	"mot de passe", "mots de passe", "code de verification", "code de securite", "code d'acces",
	"identifiants", "code a usage unique", "code de confirmation",
	// de
	"passwort*", "kennwort*", "bestatigungscode*", "sicherheitscode*", "zugangscode*", "zugangsdaten",
	"einmalcode*", "einmalpasswort*", "anmeldedaten", "verifizierungscode*",
	// pt
	"senha*", "codigo de verificacao", "codigo de seguranca", "credencia*", "codigo de acesso",
)

// shareVerbs give something to someone.
var shareVerbs = newConcept(
	// en
	"send*", "sent", "share*", "give", "gives", "giving", "gave", "tell", "tells", "told", "read", "enter*",
	"type", "typed", "provide*", "forward*", "dm", "email me", "paste", "confirm", "reply with",
	// es
	"enviar", "envia*", "envie*", "envio", "manda", "mandar", "mande", "mandame", "mandeme", "compart*",
	"dame", "deme", "dar", "dime", "digame", "proporcion*", "pasame", "pase", "ingrese*", "ingresa",
	"escrib*", "confirm*",
	// fr
	"envoy*", "partag*", "donn*", "dites", "dis-moi", "communiqu*", "transmet*", "saisi*", "tape*", "tapez",
	// de
	"schick*", "teile", "teilen", "teilt", "mitteil*", "gib", "geben", "sag", "sage", "sagen", "sagt",
	"nenn*", "ubermittel*", "eingeb*", "bestatig*",
	// pt
	"compartilh*", "passe", "passar", "diga", "fale", "informe", "informar", "informa", "fornec*",
	"digite", "digitar",
)

// loginVerbs open a session.
var loginVerbs = newConcept(
	"log in", "login", "log on", "logon", "sign in", "signin", "log into", "sign into", "iniciar sesion",
	"inicia sesion", "inicie sesion", "connectez-vous", "connectez vous", "connecte-toi", "connecter",
	"einloggen", "loggen", "anmelden", "melde", "faca login", "fazer login", "acesse",
)

// benignHeads follow a credential noun that is talked about, not given:
// "the password policy".
var benignHeads = newConcept(
	"policy", "policies", "requirement*", "rule", "rules", "reset*", "manager*", "rotation", "complexity",
	"length", "expiry", "expiration", "strength", "field", "fields", "page", "politica*", "politique*",
	"regle*", "richtlinie*", "requisito*", "exigence*", "anforderung*", "vault", "management",
)

// possessives point at a particular credential: "my password", "these
// credentials".
var possessives = newConcept(
	"my", "our", "your", "this", "these", "those", "the following", "mi", "mis", "tu", "tus", "su", "sus",
	"nuestra", "nuestro", "estas", "estos", "mon", "ma", "mes", "votre", "vos", "ces", "mein", "meine",
	"meinem", "meinen", "unser", "unsere", "ihr", "ihre", "ihrem", "diese", "diesem", "meu", "minha",
	"meus", "minhas", "nosso", "nossa", "seu", "sua", "esta", "este", "essas", "esses",
)

// copulas tie a credential noun to its value: "the password is …".
var copulas = newConcept("is", "es", "est", "ist", "e", "era", "sera", "was", "=", ":")

// numberWords introduce an identifier: "number", "no.", "#".
var numberWords = newConcept("number", "no", "nr", "num", "numero", "nummer", "#", "ending", "ending in",
	"terminada", "terminada en", "finissant", "endend", "final")

// concept is a set of word patterns.
type concept struct {
	pats [][]string
}

func newConcept(pats ...string) concept {
	c := concept{}
	for _, p := range pats {
		c.pats = append(c.pats, strings.Fields(strings.NewReplacer("-", " ", "'", " ").Replace(p)))
	}
	return c
}

// at reports whether a pattern of c matches the words starting at i and
// how many words it spans.
func (c concept) at(ws []token, i int) (int, bool) {
	best := 0
	for _, p := range c.pats {
		if i+len(p) > len(ws) || len(p) <= best {
			continue
		}
		ok := true
		for k, pw := range p {
			if !wordMatch(ws[i+k].w, pw) {
				ok = false
				break
			}
		}
		if ok {
			best = len(p)
		}
	}
	return best, best > 0
}

// find returns the positions of c's matches in ws[from:to].
func (c concept) find(ws []token, from, to int) []int {
	var out []int
	for i := max(from, 0); i < min(to, len(ws)); i++ {
		if _, ok := c.at(ws, i); ok {
			out = append(out, i)
		}
	}
	return out
}

// has reports whether c matches anywhere in ws[from:to].
func (c concept) has(ws []token, from, to int) bool { return len(c.find(ws, from, to)) > 0 }

func wordMatch(w, p string) bool {
	if stem, ok := strings.CutSuffix(p, "*"); ok {
		return strings.HasPrefix(w, stem)
	}
	return w == p
}

package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"logbook/internal/store"
)

// Passwords are hashed with argon2id (RFC 9106) and stored as a PHC string,
// $argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<hash> (unpadded
// standard base64), so the parameters travel with each hash: raising them
// later keeps every stored password verifiable.

// PasswordParams are argon2id's costs.
type PasswordParams struct {
	// Memory in KiB.
	Memory uint32
	// Time is the number of passes over the memory.
	Time uint32
	// Threads is the degree of parallelism (lanes).
	Threads uint8
}

// DefaultPasswordParams returns OWASP's first recommended argon2id
// configuration (Password Storage Cheat Sheet): 19 MiB, 2 passes, 1 lane.
// It costs about 20–40 ms of one core per sign-in here. OWASP lists it as
// equivalent to the 46 MiB/1 pass and 64 MiB-class settings; we take the
// smallest memory because the memory is held per concurrent sign-in on a
// server that also runs the API (a burst of 50 sign-ins holds ~1 GB at
// 19 MiB, ~3 GB at 64 MiB), and the login rate limit bounds guessing more
// than the last factor of two of cost would.
func DefaultPasswordParams() PasswordParams {
	return PasswordParams{Memory: 19 * 1024, Time: 2, Threads: 1}
}

// Password length rules: at least MinPasswordLen characters (NIST SP
// 800-63B's floor is 8; we ask 10), at most MaxPasswordBytes bytes, refused
// before any hashing so a huge password cannot make the server work.
const (
	MinPasswordLen   = 10
	MaxPasswordBytes = 1024
)

const (
	saltLen = 16
	keyLen  = 32
)

// checkPassword says what is wrong with a new password, or "".
func checkPassword(pw string) string {
	switch {
	case len(pw) > MaxPasswordBytes:
		return fmt.Sprintf("Use at most %d bytes.", MaxPasswordBytes)
	case !utf8.ValidString(pw):
		return "Use valid text."
	case utf8.RuneCountInString(pw) < MinPasswordLen:
		return fmt.Sprintf("Use at least %d characters.", MinPasswordLen)
	}
	return ""
}

// hashPassword returns the PHC string of pw with a fresh random salt.
func hashPassword(pw string, p PasswordParams) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("web: password salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errBadHash = errors.New("web: not an argon2id PHC string")

// Bounds on the parameters a stored hash may ask for, so a corrupt or
// planted row cannot make one sign-in take gigabytes or minutes.
const (
	maxMemoryKiB = 256 * 1024
	maxTime      = 16
	maxThreads   = 16
)

// parseHash reads a PHC string written by hashPassword.
func parseHash(phc string) (p PasswordParams, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	var m, t, th uint64
	for kv := range strings.SplitSeq(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, perr := strconv.ParseUint(v, 10, 32)
		if !ok || perr != nil {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			m = n
		case "t":
			t = n
		case "p":
			th = n
		default:
			return p, nil, nil, errBadHash
		}
	}
	if m < 8 || m > maxMemoryKiB || t < 1 || t > maxTime || th < 1 || th > maxThreads || m < 8*th {
		return p, nil, nil, errBadHash
	}
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 64 {
		return p, nil, nil, errBadHash
	}
	return PasswordParams{Memory: uint32(m), Time: uint32(t), Threads: uint8(th)}, salt, key, nil
}

// verifyPassword reports whether pw hashes to phc, comparing in constant
// time. A malformed phc is an error (never a match).
func verifyPassword(pw, phc string) (bool, error) {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// SetPassword gives a user of the org a password (checked as sign-in
// checks it: length, valid text), hashed with the default costs. It is what
// an operator's tool uses (the demo's sample sign-in); people set theirs
// through an invite link. The user's sessions stay.
func SetPassword(ctx context.Context, st *store.Store, orgID, userID, pw string) error {
	if msg := checkPassword(pw); msg != "" {
		return fmt.Errorf("web: password: %s", msg)
	}
	phc, err := hashPassword(pw, DefaultPasswordParams())
	if err != nil {
		return err
	}
	return st.UserPasswordSet(ctx, orgID, userID, phc)
}

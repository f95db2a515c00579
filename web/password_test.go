package web

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPasswordHash: a hash verifies its password and no other, carries its
// parameters (verified with them, not the current ones), is salted, and a
// malformed or extreme PHC string is an error, never a match.
func TestPasswordHash(t *testing.T) {
	t.Parallel()
	phc, err := hashPassword("correct horse battery", cheap)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(phc, "$argon2id$v=19$m=64,t=1,p=1$"), phc)
	ok, err := verifyPassword("correct horse battery", phc)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = verifyPassword("correct horse batterY", phc)
	require.NoError(t, err)
	require.False(t, ok)
	again, err := hashPassword("correct horse battery", cheap)
	require.NoError(t, err)
	require.NotEqual(t, phc, again, "salted")

	def, err := hashPassword("x", DefaultPasswordParams())
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(def, "$argon2id$v=19$m=19456,t=2,p=1$"), def)

	parts := strings.Split(phc, "$")
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=16$m=64,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=99999999,t=1,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1000,p=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=0$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,x=1$" + parts[4] + "$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + parts[5],
		"$argon2id$v=19$m=64,t=1,p=1$" + parts[4] + "$"} {
		ok, err := verifyPassword("correct horse battery", bad)
		require.Error(t, err, bad)
		require.False(t, ok)
	}

	require.Empty(t, checkPassword("ten chars!"))
	require.NotEmpty(t, checkPassword("nine char"))
	require.Empty(t, checkPassword(strings.Repeat("é", 512)), "1024 bytes")
	require.NotEmpty(t, checkPassword(strings.Repeat("é", 512)+"a"))
	require.NotEmpty(t, checkPassword("\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6"))
}

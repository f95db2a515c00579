package crm

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpt(t *testing.T) {
	t.Parallel()
	var in struct {
		A Opt[string]      `json:"a"`
		B Opt[string]      `json:"b"`
		C Opt[string]      `json:"c"`
		N Opt[json.Number] `json:"n"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"a":"x","b":null}`), &in))
	require.True(t, in.A.Set)
	require.Equal(t, "x", *in.A.Ptr())
	require.True(t, in.B.Set && in.B.Null)
	require.Nil(t, in.B.Ptr())
	require.False(t, in.C.Set)

	err := json.Unmarshal([]byte(`{"n":"ten"}`), &in)
	var te *json.UnmarshalTypeError
	require.True(t, errors.As(err, &te), "%v", err)
	require.Equal(t, "n", te.Field)
}

package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
)

// PostJSON posts body as JSON to the API URL u with the API key key and
// decodes the answer into out (nil: ignore it); want is the status
// expected, or 0 for any 2xx. The demo and the tools talk to the API with
// it as any client would.
func PostJSON(ctx context.Context, client *http.Client, u, key string, body, out any, want int) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", u, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	return doJSON(client, req, out, want)
}

// GetJSON gets the API URL u with the API key key and decodes the answer
// (status 200) into out.
func GetJSON(ctx context.Context, client *http.Client, u, key string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	return doJSON(client, req, out, 200)
}

// doJSON sends req and decodes the answer into out; want is the status
// expected, or 0 for any 2xx.
func doJSON(client *http.Client, req *http.Request, out any, want int) error {
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if (want != 0 && res.StatusCode != want) || (want == 0 && res.StatusCode/100 != 2) {
		return fmt.Errorf("%s %s: status %d (want %d): %s", req.Method, req.URL.Path, res.StatusCode, want, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

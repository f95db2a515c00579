// Package notetaker is the note-taker connectors (issue #14): Recall.ai and
// Zoom ping Logbook's hooks when a meeting's transcript is ready (api
// verifies the ping and enqueues a notetaker:fetch task), and this
// package's Fetcher pulls the transcript from the vendor and ingests it as
// a meeting, "ping, then pull". It registers the recall and zoom kinds'
// config checks with capture (they have no scheduled Sync).
package notetaker

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strings"

	"logbook/capture"
	"logbook/internal/crm"
	"logbook/internal/netguard"
	"logbook/internal/vendorhook"
)

// DefaultZoomBaseURL is where Zoom's recordings are downloaded from when
// a zoom connector names no base_url: its download URLs are on zoom.us and
// its subdomains (us02web.zoom.us…).
const DefaultZoomBaseURL = "https://zoom.us"

// Config is a note-taker connector's stored config.
type Config struct {
	// BaseURL is Recall's regional API (https://us-east-1.recall.ai) or
	// the host Zoom's downloads are under.
	BaseURL string `json:"base_url"`
}

// Recall is the recall kind: config {base_url}, secrets {api_key,
// webhook_secret ("whsec_…")}. Its base_url must be one guard admits
// (public, or in CONNECTOR_ALLOW_PRIVATE); every connection is checked
// again when it dials.
func Recall(guard *netguard.Guard) capture.Kind {
	return capture.Kind{Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
		return check(guard, cfg, old, secrets, "", []string{"api_key", "webhook_secret"}, func(name, v string, p *crm.Problems) {
			if name == "webhook_secret" {
				if _, err := vendorhook.StandardSecret(v); err != nil || !strings.HasPrefix(v, "whsec_") {
					p.Add("secrets.webhook_secret", "must be the endpoint's signing secret as Recall shows it: whsec_ and base64")
				}
			}
		})
	}}
}

// Zoom is the zoom kind: config {base_url?} (default DefaultZoomBaseURL),
// secrets {webhook_secret_token} (the app's Secret Token, which signs the
// events and answers the url_validation challenge).
func Zoom(guard *netguard.Guard) capture.Kind {
	return capture.Kind{Check: func(cfg, old, secrets json.RawMessage) (json.RawMessage, map[string]string, error) {
		return check(guard, cfg, old, secrets, DefaultZoomBaseURL, []string{"webhook_secret_token"}, nil)
	}}
}

// maxSecret bounds a stored secret's length.
const maxSecret = 4096

func check(guard *netguard.Guard, cfg, old, secrets json.RawMessage, defaultBase string, names []string,
	extra func(name, v string, p *crm.Problems)) (json.RawMessage, map[string]string, error) {
	var p crm.Problems
	create := old == nil
	if cfg == nil {
		cfg = old
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(cfg))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		p.Add("config", "must be an object with base_url (a URL) and nothing else")
		return nil, nil, p.Err()
	}
	c.BaseURL = strings.TrimRight(strings.TrimSpace(c.BaseURL), "/")
	if c.BaseURL == "" {
		c.BaseURL = defaultBase
	}
	if c.BaseURL == "" {
		p.Add("config.base_url", "is required (such as https://us-east-1.recall.ai)")
	} else if err := checkBase(guard, c.BaseURL); err != nil {
		p.Add("config.base_url", "%s", err.Error())
	}
	var sec map[string]string
	if secrets != nil {
		var raw map[string]any
		if err := json.Unmarshal(secrets, &raw); err != nil || raw == nil {
			p.Add("secrets", "must be an object with %s", strings.Join(names, " and "))
		} else {
			sec = map[string]string{}
			for k, v := range raw {
				s, ok := v.(string)
				switch {
				case !contains(names, k):
					p.Add("secrets."+k, "is not a secret of this kind (expected %s)", strings.Join(names, ", "))
				case !ok || strings.TrimSpace(s) == "":
					p.Add("secrets."+k, "must be a non-empty string")
				case len(s) > maxSecret:
					p.Add("secrets."+k, "must be at most %d characters", maxSecret)
				default:
					sec[k] = strings.TrimSpace(s)
					if extra != nil {
						extra(k, sec[k], &p)
					}
				}
			}
		}
	}
	if create || secrets != nil {
		for _, n := range names {
			if _, ok := sec[n]; !ok && p.Len() == 0 {
				p.Add("secrets."+n, "is required")
			}
		}
	}
	if p.Len() > 0 {
		return nil, nil, p.Err()
	}
	out, err := json.Marshal(c)
	if err != nil {
		return nil, nil, err
	}
	return out, sec, nil
}

// checkBase checks a base URL: http or https, no query or fragment, a
// host the guard admits.
func checkBase(guard *netguard.Guard, raw string) error {
	u, err := guard.CheckURL(raw)
	var refused *netguard.RefusedError
	switch {
	case errors.As(err, &refused):
		return errors.New("is not a public address (an operator can allow private ones with CONNECTOR_ALLOW_PRIVATE)")
	case err != nil:
		return errors.New("must be an absolute http or https URL, such as https://us-east-1.recall.ai")
	case u.RawQuery != "" || u.Fragment != "":
		return errors.New("must not carry a query or fragment")
	}
	return nil
}

func baseURL(cfg json.RawMessage, def string) (*url.URL, error) {
	var c Config
	_ = json.Unmarshal(cfg, &c)
	if c.BaseURL == "" {
		c.BaseURL = def
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Host == "" {
		return nil, errors.New("the connector's base_url is not a URL; set it again")
	}
	return u, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

package crm

import (
	"net/url"
	"strings"
)

// ConferenceKey is the part of a video-meeting link that names the meeting:
// the host (lower case, without "www.", every Zoom subdomain read as
// zoom.us) and the path without a trailing slash, never the query (which
// carries passwords and tracking), except Webex's j.php?MTID=, whose query
// is the meeting. Two links to one meeting have the same key, whichever
// calendar or note-taker wrote them; "" when raw is not an http(s) URL.
func ConferenceKey(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	host := strings.TrimPrefix(strings.ToLower(u.Hostname()), "www.")
	path := strings.TrimRight(u.EscapedPath(), "/")
	switch {
	case host == "zoom.us" || strings.HasSuffix(host, ".zoom.us"):
		host = "zoom.us"
		// /j/123, /s/123, /w/123 and /wc/join/123 name the same meeting.
		parts := strings.Split(strings.Trim(path, "/"), "/")
		if id := parts[len(parts)-1]; len(parts) >= 2 && isDigits(id) {
			path = "/j/" + id
		}
	case host == "meet.google.com":
		path = strings.ToLower(path)
	case strings.HasSuffix(host, ".webex.com") && strings.HasSuffix(path, "/j.php"):
		if mtid := u.Query().Get("MTID"); mtid != "" {
			path += "?MTID=" + mtid
		}
	}
	if len(host)+len(path) > MaxExternalID {
		return ""
	}
	return host + path
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

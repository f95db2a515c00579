package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"logbook/internal/config"
	"logbook/internal/crm"
	"logbook/internal/store"
)

const usersUsage = "usage: logbook users invite -org ID -email EMAIL [-name NAME] [-role ROLE] [-url BASE]"

const usersInviteSynopsis = `Invite a person to the web UI: make the org's user with this email (when
there is none; -name is then required) and print a one-time link that sets
their password and signs them in. The link works once, for 7 days; a newer
invite of the user makes older links stop working. The link's base is -url,
else PUBLIC_URL, else http:// and HTTP_ADDR.`

// cmdUsers runs `logbook users invite`.
func cmdUsers(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	if len(args) > 0 && (args[0] == "-h" || args[0] == "-help" || args[0] == "--help" || args[0] == "help") {
		fmt.Fprintln(stderr, usersUsage+"\n\n"+usersInviteSynopsis)
		return flag.ErrHelp
	}
	if len(args) == 0 || args[0] != "invite" {
		return usageError{Msg: usersUsage}
	}
	fs := newFlagSet("users invite", usersInviteSynopsis, stderr)
	orgID := fs.String("org", "", "the org's ID (required)")
	email := fs.String("email", "", "the person's email (required)")
	name := fs.String("name", "", "their name (required when the user does not exist yet)")
	role := fs.String("role", "", "their role when the user is created: rep, manager, csm or admin (default rep)")
	base := fs.String("url", "", "the web UI's address as they reach it, such as https://logbook.example.com (default PUBLIC_URL)")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if !crm.ValidID(strings.ToLower(*orgID)) {
		return usageError{Msg: "-org must be an org ID"}
	}
	in := crm.UserInput{Email: crm.Some(*email), Name: crm.Some(*name)}
	if *role != "" {
		in.Role = crm.Some(crm.Role(*role))
	}
	var p crm.Problems
	crm.CheckEmail(&p, "-email", *email)
	if r := in.Role.Ptr(); r != nil && !r.Valid() {
		p.Add("-role", "must be rep, manager, csm or admin")
	}
	if *base != "" {
		if u, err := url.Parse(*base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			p.Add("-url", "must be an http(s) URL such as https://logbook.example.com")
		}
	}
	if err := p.Err(); err != nil {
		return usageError{Msg: err.Error()}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	link := strings.TrimRight(*base, "/")
	if link == "" {
		link = cfg.PublicURL
	}
	if link == "" {
		link = "http://" + browsable(cfg.HTTPAddr)
	}
	pool, err := openMigrated(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	st := store.New(pool)
	org, err := st.OrgGet(ctx, strings.ToLower(*orgID))
	if errors.Is(err, crm.ErrNotFound) {
		return fmt.Errorf("no org %s", *orgID)
	}
	if err != nil {
		return err
	}
	u, err := st.UserGetByEmail(ctx, org.ID, *email)
	switch {
	case errors.Is(err, crm.ErrNotFound):
		if strings.TrimSpace(*name) == "" {
			return usageError{Msg: fmt.Sprintf("%s is not a user of %s yet: give their -name to create them", *email, org.Name)}
		}
		if err := in.Validate(true); err != nil {
			return usageError{Msg: err.Error()}
		}
		if u, err = st.UserCreate(ctx, org.ID, in); err != nil {
			return err
		}
		fmt.Fprintf(stderr, "logbook: created user %s (%s, %s) in %s\n", u.Email, u.Name, u.Role, org.Name)
	case err != nil:
		return err
	default:
		fmt.Fprintf(stderr, "logbook: %s is already a user of %s (%s); a new link for them\n", u.Email, org.Name, u.Role)
	}
	inv, token, err := st.InviteCreate(ctx, org.ID, u.ID, store.InviteTTL)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, link+"/invite/"+token)
	fmt.Fprintf(stderr, "logbook: the link works once, until %s\n", inv.ExpiresAt.Format("2006-01-02 15:04 UTC"))
	return nil
}

// browsable is a listen address as a browser can reach it: a wildcard
// host (":8080", "0.0.0.0:8080", "[::]:8080") becomes localhost.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

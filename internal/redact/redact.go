// Package redact hides the passwords of connection strings in everything
// hgdtune shows or stores: messages, logs, progress lines, lock files,
// summaries. It is the one place that knows where a PostgreSQL password
// can stand:
//
//   - the userinfo of a URL, with or without its scheme
//     (postgres://user:PASSWORD@host/db, user:PASSWORD@host/db);
//   - a password parameter, in a URL's query (?password=PASSWORD) or in a
//     key=value connection string (host=h password=PASSWORD).
//
// Masking more than needed is harmless (the text is for people); masking
// less is not, so every form above is masked wherever it occurs in the
// text.
package redact

import (
	"regexp"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// passwordParam is a password parameter: in a query or a key=value
// string, up to the next separator.
var passwordParam = regexp.MustCompile(`(?i)(password=)[^&\s]*`)

// URL returns s with every password in it masked: s may be a connection
// string, a command-line argument or a whole message.
func URL(s string) string {
	s = passwordParam.ReplaceAllString(s, "${1}"+Mask)
	return word.ReplaceAllStringFunc(s, userinfo)
}

// word is a run of text without white space.
var word = regexp.MustCompile(`\S+`)

// userinfo masks the password of the userinfo in w, a word: the text
// before its last '@', after the scheme's "//" (or after the last ' ', '='
// or '/' before it, or from the start), from its first ':'.
func userinfo(w string) string {
	at := strings.LastIndex(w, "@")
	if at < 0 {
		return w
	}
	start := 0
	if i := strings.Index(w[:at], "//"); i >= 0 {
		start = i + 2
	} else if i := strings.LastIndexAny(w[:at], "=/("); i >= 0 {
		start = i + 1
	}
	user, _, hasPassword := strings.Cut(w[start:at], ":")
	if !hasPassword {
		return w
	}
	return w[:start] + user + ":" + Mask + w[at:]
}

// Args returns a copy of a command line with the passwords in its
// arguments masked.
func Args(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = URL(a)
	}
	return out
}

package auth

import (
	"bytes"
	"net/url"
	"regexp"
)

// sigParam matches the signature of a SAS token or signed URL quoted in
// free text, up to the next parameter.
var sigParam = regexp.MustCompile(`(?i)\bsig=[^&\s"'<>]*`)

// scrubbed is an excerpt (see excerpt) of what a token endpoint said, for
// an error: without the secrets wcdl sent it (a password, a refresh token,
// a subscription key), as they are or form-encoded, nor anything that
// looks like a SAS signature, should the endpoint, an error page or a
// proxy echo them. The secrets are removed before the excerpt is cut, so
// that no start of one is left at its end.
func scrubbed(data []byte, secrets ...string) string {
	for _, k := range secrets {
		if k == "" {
			continue
		}
		for _, form := range []string{k, url.QueryEscape(k), url.PathEscape(k)} {
			data = bytes.ReplaceAll(data, []byte(form), []byte(redacted))
		}
	}
	return excerpt(sigParam.ReplaceAll(data, []byte("sig="+redacted)))
}

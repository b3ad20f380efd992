package main

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/wcdl/wcdl/auth/keycloaktest"
	"github.com/wcdl/wcdl/auth/pctest"
	"github.com/wcdl/wcdl/downloader/blobtest"
	"github.com/wcdl/wcdl/downloader/s3test"
	"github.com/wcdl/wcdl/downloader/terrascopetest"
)

// The simulator's demo account. It exists only inside the simulator.
const (
	simUser     = "demo"
	simPassword = "demo-password"
	simClient   = "public"
)

// simSASLifetime is how long the simulated Planetary Computer's SAS tokens
// live: short, so that a demo run shows renewals.
const simSASLifetime = 20 * time.Second

// simulator is a Keycloak, a Terrascope download service, an S3 bucket
// laid out as ESA's and an Azure Blob container laid out as the Planetary
// Computer's, with its SAS token endpoint, on loopback, for trying wcdl
// without an account or a network.
type simulator struct {
	kc   *keycloaktest.Server
	ts   *terrascopetest.Server
	s3   *s3test.Server   // ESA's open-data bucket, anonymous
	pc   *pctest.Server   // the Planetary Computer's SAS token endpoint
	blob *blobtest.Server // its esa-worldcover container, behind SAS tokens
	// portTaken: the download service is not on its usual port, so the
	// parts of an earlier simulation do not resume.
	portTaken bool
	// connRate is the bytes per second each connection is served at
	// (--simulate-rate), 0 for full speed.
	connRate int64
}

// simPort is the loopback port the simulated download service prefers.
// A part's resume metadata names the file's URL, port included: with the
// same port every time, an interrupted --simulate run resumes in the next
// one, as it would against the real service.
const simPort = 47321

// listenLoopback listens on port of 127.0.0.1, or on any free port when
// that one is taken (another simulation running); ok reports which.
func listenLoopback(port int) (l net.Listener, ok bool) {
	if l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
		return l, true
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("wcdl: simulator: listening on a loopback port: %v", err))
	}
	return l, false
}

// startSimulator starts the services, the download service on port if it
// is free, the bucket on the next port and the blob container on the one
// after, each serving a connection at connRate bytes per second (0: as
// fast as loopback goes). Tokens live a short time, so that a longer demo
// run shows refreshes and SAS renewals.
//
// The rate is what a long link gives one connection: it makes the demo last
// long enough to watch the bar and to interrupt it by hand, as the README
// invites, where full speed ends it in a few milliseconds.
func startSimulator(port int, connRate int64) *simulator {
	l, ok := listenLoopback(port)
	kc := keycloaktest.NewServer(
		keycloaktest.WithUser(simUser, simPassword),
		keycloaktest.WithClient(simClient),
		keycloaktest.WithAccessLifetime(60*time.Second),
		keycloaktest.WithRefreshLifetime(30*time.Minute),
		keycloaktest.WithRotation(true),
	)
	ts := terrascopetest.NewServer(kc,
		terrascopetest.WithFileSize(4<<20),
		terrascopetest.WithLoginRedirect(kc.LoginURL()),
		terrascopetest.WithLandMask(true),
		terrascopetest.WithListener(l),
		terrascopetest.WithTLS(nil), // as the real service: TLS, HTTP/2 offered
		terrascopetest.WithConnBandwidth(connRate),
	)
	l3, ok3 := listenLoopback(port + 1)
	s3 := s3test.NewServer("esa-worldcover", s3test.WithListener(l3), s3test.WithGenerator(s3test.WorldCover(4<<20)),
		s3test.WithConnRate(connRate))
	pc := pctest.NewServer(pctest.Options{Containers: []string{"esa-worldcover"}, Lifetime: simSASLifetime})
	lb, okb := listenLoopback(port + 2)
	blob := blobtest.NewServer(pctest.DevAccount, pctest.DevKey, "esa-worldcover", blobtest.WithListener(lb),
		blobtest.WithGenerator(blobtest.Generator(s3test.WorldCover(4<<20))), blobtest.WithConnRate(connRate))
	return &simulator{kc: kc, ts: ts, s3: s3, pc: pc, blob: blob, portTaken: !ok || !ok3 || !okb, connRate: connRate}
}

// tlsConfig trusts the download service's throwaway CA; nil without a
// simulator.
func (s *simulator) tlsConfig() *tls.Config {
	if s == nil {
		return nil
	}
	return &tls.Config{RootCAs: s.ts.CA().Pool}
}

// Close stops the services.
func (s *simulator) Close() {
	s.ts.Close()
	s.kc.Close()
	s.s3.Close()
	s.blob.Close()
	s.pc.Close()
}

// bind points the sources at the simulated services.
func (s *simulator) bind(o *options) error {
	for i, src := range o.sources {
		var root string
		switch src.Name {
		case "terrascope":
			root = s.ts.URL()
		case "aws":
			root = s.s3.URL()
		case "pc":
			root = s.blob.URL()
		default:
			return fmt.Errorf("--simulate has no stand-in for source %s; use terrascope, aws or pc", src.Name)
		}
		var err error
		if o.sources[i], err = src.WithRoot(root); err != nil {
			return err
		}
	}
	return nil
}

// say tells, before anything is downloaded, that the run is simulated and
// where the services are.
func (s *simulator) say(con *console, port int, o *options) {
	con.say(slog.LevelInfo, simBanner(o), "token_url", s.kc.TokenURL(), "base_url", o.sources[0].Root)
	if s.portTaken {
		con.warn(fmt.Sprintf("port %d is taken (another simulation?): parts of an earlier simulated run are downloaded again", port))
	}
}

// simBanner is the first line of a simulated run. The simulator is on
// this machine, but an output bucket is not simulated: the files go
// there.
func simBanner(o *options) string {
	const services = "simulating: a built-in Keycloak, download service, public bucket and SAS-protected blob container on this machine, with a demo account"
	if isBucket(o.out) {
		return services + "; the files are uploaded to " + o.out + ", which is not simulated"
	}
	return services + "; nothing leaves it"
}

// sasTokenURL is the SAS token endpoint of the pc source: the simulator's
// in a simulated run (s not nil), else from.
func (s *simulator) sasTokenURL(from string) string {
	if s == nil {
		return from
	}
	return s.pc.URL
}

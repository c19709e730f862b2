package fix_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/brokersync/brokersync/ingest/fix"
)

// tlsFiles writes a CA and a server certificate it signed for localhost
// and 127.0.0.1, and returns the paths of the CA, the certificate and its key.
func tlsFiles(t testing.TB, dir string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "order system test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name, kind string, der []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write("ca.pem", "CERTIFICATE", caDER), write("server.pem", "CERTIFICATE", srvDER), write("server.key", "EC PRIVATE KEY", keyDER)
}

// A counterparty that requires TLS: the session logs on over TLS when the
// settings trust its certificate, fills are stored as over plain TCP, and a
// certificate from an authority the settings do not trust never logs on.
func TestTLSSession(t *testing.T) {
	s := embeddedStores(t)
	c := newClient(t, s)
	dir := t.TempDir()
	ca, cert, key := tlsFiles(t, dir)
	oms, bs := compIDs(t)
	// The acceptor speaks only TLS and asks no client certificate.
	o := startOrderSystem(t, oms, bs, "", "s3cret", false,
		"SocketUseSSL=Y", "SocketCertificateFile="+cert, "SocketPrivateKeyFile="+key)

	otherCA, _, _ := tlsFiles(t, t.TempDir())
	untrusted := startBrokerSyncWith(t, s, sessionSettings(t, bs, oms, port(o.addr), t.TempDir(), "s3cret",
		"SocketUseSSL=Y", "SocketCAFile="+otherCA, "SocketServerName=localhost"), 0)
	time.Sleep(2 * time.Second)
	if n := o.logons.Load(); n != 0 {
		t.Fatalf("%d logons over TLS to a certificate the settings do not trust", n)
	}
	untrusted.stop()

	b := startBrokerSyncWith(t, s, sessionSettings(t, bs, oms, port(o.addr), t.TempDir(), "s3cret",
		"SocketUseSSL=Y", "SocketCAFile="+ca, "SocketServerName=localhost"), 0)
	o.waitLogon(t)
	acct := c.Accounts[0]
	o.send(t, fill(acct, acct+"-TLS-1", 10, 10, "452.25", time.Now().UTC()))
	waitFor(t, "the fill", func() bool { return testutil.ToFloat64(b.metrics.Reports.WithLabelValues(fix.ResultStored)) >= 1 })
	if got := read(t, s, c); got.events != 1 || got.trades != 1 {
		t.Fatalf("over TLS: %d events, %d trades; want 1, 1", got.events, got.trades)
	}
}

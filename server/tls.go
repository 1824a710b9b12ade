package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
)

// TLSConfig returns the server TLS configuration: TLS 1.3 only, the
// certificate chain and key from certFile and keyFile (PEM), and, when
// clientCAFile is set, mutual TLS: every client must present a certificate
// signed by a CA in clientCAFile, else the handshake fails (the client sees
// UNAVAILABLE). The key pair is re-read when either file's modification time
// changes, so a renewed certificate is served to new connections without a
// restart. It returns an error when a file cannot be read, the key does not
// match the certificate, or clientCAFile holds no PEM certificate.
func TLSConfig(certFile, keyFile, clientCAFile string) (*tls.Config, error) {
	if certFile == "" || keyFile == "" {
		return nil, errors.New("TLS needs both a certificate and a key file")
	}
	kp := &keyPair{certFile: certFile, keyFile: keyFile}
	if _, err := kp.get(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS13,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return kp.get() },
		NextProtos:     []string{"h2"},
	}
	if clientCAFile != "" {
		pem, err := os.ReadFile(clientCAFile)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client CA %s: no PEM certificate found", clientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// TLSCredentials is TLSConfig wrapped as gRPC transport credentials (for
// Config.Creds). It returns TLSConfig's errors.
func TLSCredentials(certFile, keyFile, clientCAFile string) (credentials.TransportCredentials, error) {
	cfg, err := TLSConfig(certFile, keyFile, clientCAFile)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// keyPair caches a certificate and reloads it when its files change.
type keyPair struct {
	certFile, keyFile string

	mu      sync.Mutex
	cert    *tls.Certificate
	modCert time.Time
	modKey  time.Time
}

func (k *keyPair) get() (*tls.Certificate, error) {
	ci, err := os.Stat(k.certFile)
	if err != nil {
		return k.fallback(fmt.Errorf("TLS certificate: %w", err))
	}
	ki, err := os.Stat(k.keyFile)
	if err != nil {
		return k.fallback(fmt.Errorf("TLS key: %w", err))
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cert != nil && ci.ModTime().Equal(k.modCert) && ki.ModTime().Equal(k.modKey) {
		return k.cert, nil
	}
	cert, err := tls.LoadX509KeyPair(k.certFile, k.keyFile)
	if err != nil {
		if k.cert != nil {
			// Half-written renewal: keep serving the previous pair.
			return k.cert, nil
		}
		return nil, fmt.Errorf("TLS key pair %s, %s: %w", k.certFile, k.keyFile, err)
	}
	k.cert, k.modCert, k.modKey = &cert, ci.ModTime(), ki.ModTime()
	return k.cert, nil
}

func (k *keyPair) fallback(err error) (*tls.Certificate, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.cert != nil {
		return k.cert, nil
	}
	return nil, err
}

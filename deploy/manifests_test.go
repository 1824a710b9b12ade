package deploy

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBaseManifests: the base decodes strictly into the Kubernetes API
// types and has everything Check asks for.
func TestBaseManifests(t *testing.T) {
	m, err := Load("base")
	if err != nil {
		t.Fatal(err)
	}
	for _, err := range m.Check() {
		t.Error(err)
	}
}

// TestManifestFaults changes one thing in a copy of the base each and
// requires Load or Check to name it: the checks can fail.
func TestManifestFaults(t *testing.T) {
	tests := []struct {
		name       string
		file       string
		old, new   string
		wantInText string // in Load's error or one of Check's
	}{
		{"unknown field", "statefulset.yaml", "  serviceName: robinscreen\n", "  serviceName: robinscreen\n  serviceNmae: x\n", "unknown field"},
		{"misspelled probe field", "statefulset.yaml", "            grpc:\n              port: 50051\n            periodSeconds: 5\n", "            grpc:\n              prot: 50051\n            periodSeconds: 5\n", "unknown field"},
		{"duplicate field", "service.yaml", "  clusterIP: None\n", "  clusterIP: None\n  clusterIP: None\n", "already set"},
		{"Service not headless", "service.yaml", "  clusterIP: None\n", "", "headless"},
		{"readiness probe on another port", "statefulset.yaml", "          readinessProbe:\n            grpc:\n              port: 50051", "          readinessProbe:\n            grpc:\n              port: 50052", "readinessProbe: gRPC port 50052"},
		{"liveness over HTTP", "statefulset.yaml", "          livenessProbe:\n            grpc:\n              port: 50051\n              service: liveness", "          livenessProbe:\n            httpGet:\n              port: 8080", "livenessProbe: want a native gRPC probe"},
		{"liveness on the overall health", "statefulset.yaml", "              port: 50051\n              service: liveness\n            periodSeconds: 10", "              port: 50051\n            periodSeconds: 10", "livenessProbe: want service"},
		{"root user", "statefulset.yaml", "        runAsUser: 65532\n", "        runAsUser: 0\n", "runAsNonRoot true and a runAsUser other than 0"},
		{"privilege escalation", "statefulset.yaml", "allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation false"},
		{"PDB selects nothing", "pdb.yaml", "      app.kubernetes.io/component: server", "      app.kubernetes.io/component: worker", "PodDisruptionBudget: selector"},
		{"Secret mounted writable", "statefulset.yaml", "              mountPath: /etc/robinscreen/keys\n              readOnly: true", "              mountPath: /etc/robinscreen/keys", "volumeMount keys: a Secret mounted writable"},
		{"DSN in the manifest", "statefulset.yaml", "--suppressions=$(ROBINSCREEN_SUPPRESSIONS_DSN)", "--suppressions=postgres://u:p@db/rs", "is not $(VAR) of a variable from a Secret"},
		{"PostgreSQL password not from a Secret", "statefulset.yaml", "            - name: PGPASSWORD\n              valueFrom:\n                secretKeyRef:\n                  name: robinscreen-suppressions\n                  key: password\n", "", "no PGPASSWORD from a Secret"},
		{"no connection age", "statefulset.yaml", "            - --max-connection-age=5m\n", "", "--max-connection-age"},
		{"TLS probes without plaintext health", "statefulset.yaml", "            - --plaintext-health\n", "", "--plaintext-health"},
		{"no data volume per pod", "statefulset.yaml", "            - name: data\n              mountPath: /data\n", "", "volumeClaimTemplates"},
		{"key file outside the Secrets", "statefulset.yaml", "--key-file=/etc/robinscreen/keys/pseudonym.key", "--key-file=/data/pseudonym.key", "--key-file /data/pseudonym.key is not on a Secret volume"},
		{"receipt key outside the Secrets", "statefulset.yaml", "--receipt-key-file=/etc/robinscreen/keys/receipt.key", "--receipt-key-file=/data/receipt.key", "--receipt-key-file /data/receipt.key is not on a Secret volume"},
		{"unknown kind", "pdb.yaml", "kind: PodDisruptionBudget", "kind: Deployment", "not checked here"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			entries, err := os.ReadDir("base")
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join("base", e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if e.Name() == tc.file {
					if !strings.Contains(string(b), tc.old) {
						t.Fatalf("%s does not hold %q: the test is out of date", tc.file, tc.old)
					}
					b = []byte(strings.Replace(string(b), tc.old, tc.new, 1))
				}
				if err := os.WriteFile(filepath.Join(dir, e.Name()), b, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			m, err := Load(dir)
			if err == nil {
				err = errors.Join(m.Check()...)
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantInText) {
				t.Fatalf("got %v, want an error with %q", err, tc.wantInText)
			}
		})
	}
}
